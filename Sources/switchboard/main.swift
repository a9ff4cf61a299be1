// The command line, nothing else: each subcommand is a function in Gateway.
import Foundation
import Gateway

#if canImport(Glibc)
import CLinux

// One malloc arena (glibc makes one per thread that allocates, up to eight
// per core): the gateway's threads mostly wait, and each extra arena keeps
// its own partly used pages. Measured with scripts/bench-rss (issue 12, idle
// memory): one arena instead of two holds 0.5 MiB less at idle; each thread
// still allocates small blocks from its own cache without the lock.
mallopt(M_ARENA_MAX, 1)
#endif

let usage = """
    usage: switchboard <command> [options]

    commands:
    \(SwitchboardCommands.all.map { "  \($0.name.padding(toLength: 14, withPad: " ", startingAt: 0))\($0.summary)" }.joined(separator: "\n"))

    Run `switchboard <command> --help` for a command's options.
    """

var words = Array(CommandLine.arguments.dropFirst())
guard let name = words.first, !["-h", "--help", "help"].contains(name) else {
    print(usage)
    exit(words.isEmpty ? 64 : 0)
}
words.removeFirst()
guard let command = SwitchboardCommands.all.first(where: { $0.name == name }) else {
    FileHandle.standardError.write(Data("switchboard: unknown command \"\(name)\"\n\n\(usage)\n".utf8))
    exit(64)
}
if words.contains("--help") || words.contains("-h") {
    print(command.usage)
    exit(0)
}
do {
    let status = try await command.run(words)
    exit(status)
} catch let error as UsageError {
    FileHandle.standardError.write(Data("switchboard \(name): \(error)\n\n\(command.usage)\n".utf8))
    exit(64)
} catch {
    FileHandle.standardError.write(Data("switchboard \(name): \(error)\n".utf8))
    exit(1)
}
