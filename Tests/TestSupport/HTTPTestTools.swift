import Foundation
import Glibc
import Synchronization

/// Blocking IPv4 loopback sockets for HTTP tests: a client that sends exact
/// bytes (headers the test chooses, a body, a slow trickle) and a proxy
/// that can hold a request back.
public enum LoopbackSocket {
    /// A connected TCP socket to `127.0.0.1:port`, with receive and send
    /// timeouts of `timeout` seconds.
    public static func connect(port: UInt16, timeout: Int = 10) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemCallError("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let error = SystemCallError("connect 127.0.0.1:\(port)")
            close(fd)
            throw error
        }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Writes all of `bytes`.
    public static func write(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw SystemCallError("send") }
            offset += sent
        }
    }

    /// Reads until the peer closes (or the receive timeout passes).
    public static func readToEnd(_ fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            out += buffer[..<count]
        }
        return out
    }
}

/// One HTTP exchange over a fresh connection, bytes as the test writes them.
public struct RawHTTPResponse: Sendable {
    public let status: Int
    /// The status line and header fields.
    public let head: String
    public let body: String

    /// The first header field named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        for line in head.split(separator: "\r\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// Sends `method path` with `headers` (and `Connection: close`) and
    /// `body` to `127.0.0.1:port`; reads the answer to the end. The blocking
    /// socket calls run on a thread of their own (``offload(_:)``).
    public static func exchange(port: UInt16, _ method: String = "GET", _ path: String, headers: [String] = [],
                                body: String = "") async throws -> RawHTTPResponse {
        try await offload {
            let fd = try LoopbackSocket.connect(port: port)
            defer { close(fd) }
            var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            for header in headers { text += header + "\r\n" }
            if !body.isEmpty { text += "Content-Length: \(body.utf8.count)\r\n" }
            text += "\r\n" + body
            try LoopbackSocket.write(fd, Array(text.utf8))
            return parse(LoopbackSocket.readToEnd(fd))
        }
    }

    /// A response with `status` and nothing else (a loop's start value).
    public static func placeholder(status: Int) -> RawHTTPResponse { RawHTTPResponse(status: status, head: "", body: "") }

    static func parse(_ bytes: [UInt8]) -> RawHTTPResponse {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return RawHTTPResponse(status: 0, head: text, body: "") }
        let head = String(text[..<split.lowerBound])
        let status = head.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return RawHTTPResponse(status: status, head: head, body: String(text[split.upperBound...]))
    }
}

/// A one-request-per-connection HTTP proxy on loopback in front of a
/// server, for browser tests: it can hold requests for one path until the
/// test releases them (so the test can change the data between a page's
/// load and its script's refresh), and it records the paths asked for.
/// Answers carry `Connection: close`, so each request is its own connection.
public final class HoldingProxy: Sendable {
    public let port: UInt16
    private let upstream: UInt16
    private let hold: String
    private let listener: Int32
    private let state = Mutex(State())

    struct State {
        var released = false
        var held = 0
        var paths: [String] = []
        var closed = false
    }

    /// Listens on a free loopback port; requests for `hold` (a path without
    /// query) wait until `release()`.
    public init(upstream: UInt16, hold: String) throws {
        self.upstream = upstream
        self.hold = hold
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemCallError("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let error = SystemCallError("bind/listen")
            Glibc.close(fd)
            throw error
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        listener = fd
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "test.holding-proxy"
        thread.start()
    }

    /// Paths asked for so far, in order.
    public var paths: [String] { state.withLock { $0.paths } }
    /// Requests for the held path waiting now.
    public var heldCount: Int { state.withLock { $0.held } }

    /// Lets held and later requests for the held path through.
    public func release() { state.withLock { $0.released = true } }

    /// Stops accepting (connections in progress finish).
    public func close() {
        state.withLock { $0.closed = true; $0.released = true }
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
    }

    /// Waits (polling, real time) until a request for the held path is held.
    public func waitUntilHeld(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while heldCount == 0 {
            guard ContinuousClock.now < deadline else {
                throw SystemCallError("no request for \(hold) within \(timeout); paths: \(paths)", errno: ETIMEDOUT)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if state.withLock({ $0.closed }) { return }
                continue
            }
            let thread = Thread { [self] in serve(client) }
            thread.start()
        }
    }

    private func serve(_ client: Int32) {
        defer { Glibc.close(client) }
        var limit = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while !head.ends(with: [13, 10, 13, 10]) {
            let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return }
            head += buffer[..<count]
        }
        var text = String(decoding: head, as: UTF8.self)
        let target = text.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        let path = String(target.prefix { $0 != "?" })
        state.withLock { $0.paths.append(target) }
        if path == hold {
            state.withLock { $0.held += 1 }
            while !state.withLock({ $0.released }) { usleep(10_000) }
            state.withLock { $0.held -= 1 }
        }
        // One request per connection: ask the server to close after it.
        text = text.replacingOccurrences(of: "Connection: keep-alive", with: "Connection: close", options: .caseInsensitive)
        if !text.lowercased().contains("\r\nconnection:") {
            text = text.replacingOccurrences(of: "\r\n\r\n", with: "\r\nConnection: close\r\n\r\n")
        }
        guard let server = try? LoopbackSocket.connect(port: upstream, timeout: 30) else { return }
        defer { Glibc.close(server) }
        guard (try? LoopbackSocket.write(server, Array(text.utf8))) != nil else { return }
        let answer = LoopbackSocket.readToEnd(server)
        try? LoopbackSocket.write(client, answer)
    }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}

/// Debian's Chromium, headless, for browser tests: installed with apt-get
/// when missing (never skipped), run as root with `--no-sandbox`, each run
/// with its own profile folder.
public enum Chromium {
    /// The browser's path; installs the `chromium` package when it is not there.
    public static func executable() throws -> String {
        for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        let sudo = getuid() == 0 ? "" : "sudo "
        let status = try shell("\(sudo)apt-get update -qq && DEBIAN_FRONTEND=noninteractive \(sudo)apt-get install -y -qq "
            + "--no-install-recommends chromium fonts-dejavu-core >/dev/null")
        guard status == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") else {
            throw ChildProcessError(name: "chromium", problem: "not installed, and apt-get install chromium failed "
                + "(exit \(status)); run scripts/ensure-test-servers as root", output: "")
        }
        return "/usr/bin/chromium"
    }

    /// The DOM after the page's scripts ran for `virtualTime` of virtual
    /// time (time stands still while a request is outstanding, so a held
    /// request holds the browser too): `--dump-dom`.
    public static func dumpDOM(_ url: String, virtualTime: Duration = .seconds(1),
                               timeout: Duration = .seconds(90)) async throws -> String {
        try await run(["--dump-dom", "--virtual-time-budget=\(virtualTime.components.seconds * 1000)", url],
                      timeout: timeout)
    }

    /// Saves a PNG of the page (`width`×`height`) after `virtualTime`.
    public static func screenshot(_ url: String, to path: String, width: Int = 1280, height: Int = 1600,
                                  virtualTime: Duration = .seconds(1)) async throws {
        _ = try await run(["--screenshot=\(path)", "--window-size=\(width),\(height)", "--hide-scrollbars",
                           "--virtual-time-budget=\(virtualTime.components.seconds * 1000)", url],
                          timeout: .seconds(90))
    }

    /// Runs the browser headless with `arguments`; returns what it wrote
    /// on standard output (its log goes to a file beside the profile).
    static func run(_ arguments: [String], timeout: Duration) async throws -> String {
        let browser = try executable()
        let profile = FileManager.default.temporaryDirectory
            .appendingPathComponent("switchboard-chromium-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let all = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                   "--no-default-browser-check", "--disable-extensions", "--user-data-dir=\(profile)"] + arguments
        let command = all.map(quote).joined(separator: " ") + " 2>" + quote(profile + "/stderr.log")
        let child = try ChildProcess.launch("/bin/sh", ["-c", command], name: "chromium")
        let status = try await child.waitForExit(timeout: timeout)
        try await child.waitForEndOfOutput(timeout: .seconds(10))
        guard status == 0 else {
            let log = (try? String(contentsOfFile: profile + "/stderr.log", encoding: .utf8)) ?? ""
            throw ChildProcessError(name: "chromium", problem: "exited with \(status)", output: String(log.suffix(4000)))
        }
        return child.output
    }

    static func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    static func shell(_ command: String) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
