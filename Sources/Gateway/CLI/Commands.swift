/// One `switchboard` subcommand.
public struct SwitchboardCommand: Sendable {
    public let name: String
    public let summary: String
    public let usage: String
    /// Runs with the words after the command name; returns the exit status.
    public let run: @Sendable ([String]) async throws -> Int32
}

/// The subcommands, in the order `switchboard --help` lists them. Each lives
/// in its own file under `CLI/`.
public enum SwitchboardCommands {
    public static let all: [SwitchboardCommand] = [
        RunCommand.command,
        ConsoleCommand.command,
        CheckConfigCommand.command,
        DataCommands.tickets,
        DataCommands.kb,
        DataCommands.hashPIN,
        IRCCommand.command,
        MatrixCommand.command,
    ]
}
