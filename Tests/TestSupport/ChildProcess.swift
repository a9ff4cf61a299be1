import Foundation
import Glibc
import Synchronization

/// A server started by a test — `openssl s_server`, ngircd, inspircd,
/// atheme-services — with its output captured and its end guaranteed.
///
/// Standard output and standard error go into one pipe that a thread reads
/// into memory (`output`); tests wait for a line the server prints
/// (`waitForOutput`) or for its port to accept (`waitUntilAccepting`), each
/// with a deadline that only guards against a hang. Standard input is a pipe
/// too (`writeToStandardInput`), for servers driven by their input such as
/// `openssl s_server`.
///
/// The process always ends: use `ChildProcess.run(...) { child in ... }`,
/// which stops it however the body ends (return, thrown error, failed
/// `#require`); or call `stop()` yourself. Dropping the last reference to a
/// running child kills it (SIGKILL). Only a crash of the test process itself
/// can leave one behind.
///
/// Run daemons in the foreground (`ngircd --nodaemon`, `inspircd --nofork`,
/// `atheme-services -n`): a process that forks away is not the one stopped,
/// and its output pipe never reaches end-of-file.
public final class ChildProcess: Sendable {
    /// A short name for messages (default: the executable's file name).
    public let name: String
    public let executable: String
    public let arguments: [String]
    /// The process id.
    public let processIdentifier: Int32

    private struct Waiter {
        enum Condition {
            case output(String)
            case endOfOutput
            case exit
        }
        let condition: Condition
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var output: [UInt8] = []
        var outputEnded = false
        var exitStatus: Int32?
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiterID: UInt64 = 0
    }

    private final class Handles: @unchecked Sendable {  // Foundation objects, used under `state`'s rules
        let process: Process
        let input: FileHandle
        var inputClosed = false
        init(process: Process, input: FileHandle) {
            self.process = process
            self.input = input
        }
    }

    private final class Shared: Sendable {
        let state = Mutex(State())
    }

    private let shared = Shared()
    private let handles: Handles
    private let inputLock = Mutex(())

    /// Starts `executable` (a path, or a name looked up with `locate`) with
    /// `arguments`, with default signal handling and no blocked signals.
    /// `environment` replaces the inherited one when given.
    public static func launch(
        _ executable: String,
        _ arguments: [String],
        name: String? = nil,
        environment: [String: String]? = nil,
        workingDirectory: String? = nil
    ) throws -> ChildProcess {
        try ChildProcess(executable: executable.contains("/") ? executable : locate(executable),
                         arguments: arguments, name: name, environment: environment,
                         workingDirectory: workingDirectory)
    }

    /// Starts a child, runs `body` with it, and stops the child afterwards
    /// whether `body` returns or throws.
    public static func run<T>(
        _ executable: String,
        _ arguments: [String],
        name: String? = nil,
        environment: [String: String]? = nil,
        workingDirectory: String? = nil,
        _ body: (ChildProcess) async throws -> T
    ) async throws -> T {
        let child = try launch(executable, arguments, name: name, environment: environment,
                               workingDirectory: workingDirectory)
        do {
            let result = try await body(child)
            await child.stop()
            return result
        } catch {
            await child.stop()
            throw error
        }
    }

    private static let envPath = "/usr/bin/env"

    /// The full path of an executable named `name`: searched in `PATH`, then
    /// in `/usr/sbin`, `/sbin` and `/usr/local/sbin` (where Debian puts
    /// daemons such as ngircd). Throws a clear error when it is not installed.
    public static func locate(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/local/sbin"]
        for directory in directories {
            let candidate = directory + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw ChildProcessError(name: name, problem: "not installed: no executable \(name) in \(directories)",
                                output: "")
    }

    private init(executable: String, arguments: [String], name: String?, environment: [String: String]?,
                 workingDirectory: String?) throws {
        self.executable = executable
        self.arguments = arguments
        self.name = name ?? URL(fileURLWithPath: executable).lastPathComponent

        let process = Process()
        // Foundation's Process starts children with the spawning thread's
        // signal mask, which blocks nearly every signal (SIGTERM, SIGCHLD,
        // SIGHUP, ...): a server could then neither be stopped with SIGTERM
        // nor reap its own children. coreutils' `env --default-signal` gives
        // the command default dispositions and an empty mask, then execs it
        // (same pid).
        process.executableURL = URL(fileURLWithPath: ChildProcess.envPath)
        process.arguments = ["--default-signal", executable] + arguments
        if let environment { process.environment = environment }
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        let outputPipe = Pipe()
        let inputPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = outputPipe
        process.standardInput = inputPipe
        handles = Handles(process: process, input: inputPipe.fileHandleForWriting)

        process.terminationHandler = { [shared] finished in
            let status = finished.terminationStatus
            let ready = shared.state.withLock { state -> [CheckedContinuation<Void, any Error>] in
                state.exitStatus = status
                let exitWaiters = state.waiters.filter {
                    if case .exit = $0.value.condition { return true }
                    return false
                }
                for id in exitWaiters.keys { state.waiters.removeValue(forKey: id) }
                return exitWaiters.values.map(\.continuation)
            }
            for continuation in ready { continuation.resume() }
        }
        do {
            try process.run()
        } catch {
            throw ChildProcessError(name: self.name, problem: "could not start \(executable): \(error)", output: "")
        }
        processIdentifier = process.processIdentifier
        // The parent must not hold the pipe's write end, or EOF never comes.
        try? outputPipe.fileHandleForWriting.close()
        try? inputPipe.fileHandleForReading.close()

        let readFD = outputPipe.fileHandleForReading.fileDescriptor
        let reader = Thread { [shared, name = self.name] in
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = chunk.withUnsafeMutableBytes { Glibc.read(readFD, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                let ended = count <= 0
                let ready = shared.state.withLock { state -> [(CheckedContinuation<Void, any Error>, (any Error)?)] in
                    let previousCount = state.output.count
                    if ended { state.outputEnded = true } else { state.output += chunk[0..<count] }
                    var ready: [(CheckedContinuation<Void, any Error>, (any Error)?)] = []
                    for (id, waiter) in state.waiters {
                        if case .endOfOutput = waiter.condition {
                            guard ended else { continue }
                            ready.append((waiter.continuation, nil))
                            state.waiters.removeValue(forKey: id)
                            continue
                        }
                        guard case .output(let needle) = waiter.condition else { continue }
                        // Only the new bytes (and a needle's length before them) can hold it.
                        let from = max(0, previousCount - needle.utf8.count)
                        if state.output[from...].firstRange(of: Array(needle.utf8)) != nil {
                            ready.append((waiter.continuation, nil))
                        } else if ended {
                            let text = String(decoding: state.output, as: UTF8.self)
                            ready.append((waiter.continuation, ChildProcessError(
                                name: name, problem: "output ended (exit status \(state.exitStatus.map(String.init) ?? "unknown")) before it contained \"\(needle)\"",
                                output: text)))
                        } else {
                            continue
                        }
                        state.waiters.removeValue(forKey: id)
                    }
                    return ready
                }
                for (continuation, error) in ready {
                    if let error { continuation.resume(throwing: error) } else { continuation.resume() }
                }
                if ended { break }
            }
            try? outputPipe.fileHandleForReading.close()
        }
        reader.name = "test.child-output.\(self.name)"
        reader.start()
    }

    deinit {
        if isRunning { Glibc.kill(processIdentifier, SIGKILL) }
    }

    /// Everything the process wrote so far (stdout and stderr interleaved).
    public var output: String {
        shared.state.withLock { String(decoding: $0.output, as: UTF8.self) }
    }

    /// Whether the process has not exited yet.
    public var isRunning: Bool { shared.state.withLock { $0.exitStatus == nil } }

    /// The exit status (or terminating signal), once it has exited.
    public var exitStatus: Int32? { shared.state.withLock { $0.exitStatus } }

    /// Writes `text` (UTF-8) to the process's standard input.
    public func writeToStandardInput(_ text: String) throws {
        try inputLock.withLock { _ in
            guard !handles.inputClosed else {
                throw ChildProcessError(name: name, problem: "standard input is closed", output: output)
            }
            try handles.input.write(contentsOf: Data(text.utf8))
        }
    }

    /// Closes standard input (the process sees end-of-file).
    public func closeStandardInput() {
        inputLock.withLock { _ in
            guard !handles.inputClosed else { return }
            handles.inputClosed = true
            try? handles.input.close()
        }
    }

    /// Waits until the output contains `text`. Fails when the output ends
    /// without it or after `timeout` (a guard against a hang, not a timing);
    /// the error carries the output so far.
    public func waitForOutput(_ text: String, timeout: Duration = .seconds(30)) async throws {
        try await wait(for: .output(text), timeout: timeout, what: "output containing \"\(text)\"")
    }

    /// Waits until the process has exited; returns its status.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        try await wait(for: .exit, timeout: timeout, what: "exit")
        return exitStatus ?? -1
    }

    /// Waits until the process has closed its output (normally: exited),
    /// so `output` is complete.
    public func waitForEndOfOutput(timeout: Duration = .seconds(30)) async throws {
        try await wait(for: .endOfOutput, timeout: timeout, what: "end of output")
    }

    /// Runs a command to completion without blocking a thread: returns its
    /// exit status and output (stdout and stderr). Throws only when it
    /// cannot be started or does not finish within `timeout`.
    public static func runToCompletion(
        _ executable: String, _ arguments: [String], timeout: Duration = .seconds(60)
    ) async throws -> (status: Int32, output: String) {
        try await run(executable, arguments) { child in
            child.closeStandardInput()
            let status = try await child.waitForExit(timeout: timeout)
            try await child.waitForEndOfOutput(timeout: timeout)
            return (status, child.output)
        }
    }

    /// Waits until `host:port` accepts a TCP connection (probing with short
    /// pauses between attempts, since a refused connect has no event to wait
    /// for). Fails early if the process exits, and after `timeout`.
    public func waitUntilAccepting(port: UInt16, host: String = "127.0.0.1", timeout: Duration = .seconds(30))
        async throws
    {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var pause = Duration.milliseconds(5)
        while true {
            if ChildProcess.accepts(host: host, port: port) { return }
            if let status = exitStatus {
                throw ChildProcessError(name: name, problem: "exited with status \(status) before \(host):\(port) accepted",
                                        output: output)
            }
            if ContinuousClock.now >= deadline {
                throw ChildProcessError(name: name, problem: "\(host):\(port) did not accept within \(timeout)",
                                        output: output)
            }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(100))
        }
    }

    /// Stops the process: SIGTERM, then SIGKILL if it has not exited after
    /// `gracePeriod`; returns once it has exited. Idempotent.
    public func stop(gracePeriod: Duration = .seconds(5)) async {
        closeStandardInput()
        guard isRunning else { return }
        Glibc.kill(processIdentifier, SIGTERM)
        if (try? await waitForExit(timeout: gracePeriod)) != nil { return }
        Glibc.kill(processIdentifier, SIGKILL)
        _ = try? await waitForExit(timeout: .seconds(30))
    }

    /// Kills the process at once (SIGKILL), as a crash or power loss would,
    /// and returns once it has exited.
    public func kill() async {
        guard isRunning else { return }
        Glibc.kill(processIdentifier, SIGKILL)
        _ = try? await waitForExit(timeout: .seconds(10))
    }

    private func wait(for condition: Waiter.Condition, timeout: Duration, what: String) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await self.suspend(until: condition)
                return true
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            defer { group.cancelAll() }
            if try await group.next() == false {
                throw ChildProcessError(name: name, problem: "no \(what) within \(timeout)", output: output)
            }
        }
    }

    private func suspend(until condition: Waiter.Condition) async throws {
        let id = shared.state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let immediate: Result<Void, any Error>? = shared.state.withLock { state in
                    switch condition {
                    case .exit:
                        if state.exitStatus != nil { return .success(()) }
                    case .endOfOutput:
                        if state.outputEnded { return .success(()) }
                    case .output(let needle):
                        if state.output.firstRange(of: Array(needle.utf8)) != nil { return .success(()) }
                        if state.outputEnded {
                            return .failure(ChildProcessError(
                                name: name, problem: "output ended before it contained \"\(needle)\"",
                                output: String(decoding: state.output, as: UTF8.self)))
                        }
                    }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[id] = Waiter(condition: condition, continuation: continuation)
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let waiter = shared.state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// One TCP connect probe with a 1 s limit.
    private static func accepts(host: String, port: UInt16) -> Bool {
        var v4 = sockaddr_in()
        var v6 = sockaddr_in6()
        let isV4 = inet_pton(AF_INET, host, &v4.sin_addr) == 1
        guard isV4 || inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 else { return false }
        let fd = socket(isV4 ? AF_INET : AF_INET6,
                        Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let result: Int32
        if isV4 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            result = withUnsafePointer(to: &v4) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        } else {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            result = withUnsafePointer(to: &v6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
        if result == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&poller, 1, 1000) == 1 else { return false }
        var pending: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ERROR, &pending, &length) == 0 && pending == 0
    }
}

/// A child process failed to start, exited early, or did not print or
/// accept in time. `output` is what it wrote; the description ends with its
/// last lines, so a failing test shows why the server was unhappy.
public struct ChildProcessError: Error, CustomStringConvertible {
    public let name: String
    public let problem: String
    public let output: String

    public var description: String {
        let tail = output.count > 4000 ? "…" + output.suffix(4000) : output
        return tail.isEmpty ? "\(name): \(problem)" : "\(name): \(problem)\n--- output of \(name) ---\n\(tail)"
    }
}
