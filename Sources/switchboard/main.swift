// The command line, nothing else: each subcommand is a function in Gateway.
import Foundation
import Gateway

#if canImport(Glibc)
import CLinux

// One malloc arena (glibc makes one per thread that allocates, up to eight
// per core): the gateway's threads mostly wait, and each extra arena keeps
// its own partly used pages. Measured with scripts/bench-rss (issue 12,
// idle memory): one arena instead of two holds 0.5 MiB less at idle; each
// thread still allocates small blocks from its own cache without the lock.
mallopt(M_ARENA_MAX, 1)
#endif

/// Runs the subcommand the words name and returns the process's exit status.
func runCommandLine(_ words: [String]) async -> Int32 {
    let usage = """
        usage: switchboard <command> [options]

        commands:
        \(SwitchboardCommands.all.map { "  \($0.name.padding(toLength: 14, withPad: " ", startingAt: 0))\($0.summary)" }.joined(separator: "\n"))

        Run `switchboard <command> --help` for a command's options.
        """
    var words = words
    guard let name = words.first, !["-h", "--help", "help"].contains(name) else {
        print(usage)
        return words.isEmpty ? 64 : 0
    }
    words.removeFirst()
    guard let command = SwitchboardCommands.all.first(where: { $0.name == name }) else {
        FileHandle.standardError.write(Data("switchboard: unknown command \"\(name)\"\n\n\(usage)\n".utf8))
        return 64
    }
    if words.contains("--help") || words.contains("-h") {
        print(command.usage)
        return 0
    }
    do {
        return try await command.run(words)
    } catch let error as UsageError {
        FileHandle.standardError.write(Data("switchboard \(name): \(error)\n\n\(command.usage)\n".utf8))
        return 64
    } catch {
        FileHandle.standardError.write(Data("switchboard \(name): \(error)\n".utf8))
        return 1
    }
}

/// Blocks the asynchronous signals (all but faults, traps and SIGPIPE) on
/// the main thread, and so on every thread it starts: a stop or reload
/// signal then stays pending for the process until the dispatch signal
/// sources (`ProcessSignal.stream()`, which reads them with a signalfd)
/// take it, instead of being delivered to a thread that is not listening.
/// Call it before anything starts a thread.
func blockAsynchronousSignals() {
    var blocked = sigset_t()
    sigfillset(&blocked)
    for synchronous in [SIGILL, SIGTRAP, SIGFPE, SIGBUS, SIGSEGV, SIGSYS, SIGPIPE, SIGPROF] {
        sigdelset(&blocked, synchronous)
    }
    pthread_sigmask(SIG_BLOCK, &blocked, nil)
}

/// Parks the main thread for the rest of the process's life with its
/// signals still blocked. `dispatchMain()` would park it too, but through
/// `pthread_exit`, which unwinds the main thread's stack and so reads the
/// unwind tables of every library on it and of this binary (`.eh_frame_hdr`
/// and `.eh_frame`, ~0.4 MiB that would then stay resident; issue 12,
/// scripts/bench-rss). Nothing runs on the main queue: the commands' work
/// runs on Swift's cooperative pool and their signal sources on global
/// queues.
func parkMainThread() -> Never {
    while true { pause() }
}

let words = Array(CommandLine.arguments.dropFirst())
blockAsynchronousSignals()
Task.detached { [words] in exit(await runCommandLine(words)) }
parkMainThread()
