import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A line an end-to-end test client received, split the plain way (tags,
/// source, command, params). Deliberately independent of the `IRC` target, so
/// the end-to-end tests do not check our parser with itself.
public struct TestLine: Sendable, CustomStringConvertible {
    public let raw: String
    public let tags: [String: String]
    public let source: String
    public let command: String
    public let params: [String]
    /// When the line was read off the socket.
    public let receivedAt: ContinuousClock.Instant

    init(_ line: String, receivedAt: ContinuousClock.Instant) {
        raw = line
        self.receivedAt = receivedAt
        var rest = Substring(line)
        var tags: [String: String] = [:]
        if rest.hasPrefix("@"), let space = rest.firstIndex(of: " ") {
            for item in rest[rest.index(after: rest.startIndex)..<space].split(separator: ";") {
                let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                tags[String(kv[0])] = kv.count > 1 ? String(kv[1]) : ""
            }
            rest = rest[rest.index(after: space)...].drop(while: { $0 == " " })
        }
        var source = ""
        if rest.hasPrefix(":"), let space = rest.firstIndex(of: " ") {
            source = String(rest[rest.index(after: rest.startIndex)..<space])
            rest = rest[rest.index(after: space)...].drop(while: { $0 == " " })
        }
        var trailing: Substring?
        if let range = rest.range(of: " :") {
            trailing = rest[range.upperBound...]
            rest = rest[..<range.lowerBound]
        }
        let parts = rest.split(separator: " ")
        command = parts.first.map { $0.uppercased() } ?? ""
        params = parts.dropFirst().map(String.init) + (trailing.map { [String($0)] } ?? [])
        self.tags = tags
        self.source = source
    }

    /// The nick part of the source.
    public var nick: String { String(source.prefix { $0 != "!" }) }
    /// The last parameter (the text of a PRIVMSG/NOTICE).
    public var text: String { params.last ?? "" }
    public var description: String { raw }
}

/// An error from a test client, with the lines it saw last.
public struct IRCTestClientError: Error, CustomStringConvertible {
    public let description: String
}

/// A scripted IRC user for end-to-end tests: a plain blocking socket, one
/// line at a time, with a deadline on every wait. It answers PING by itself.
public final class IRCTestClient {
    public let nick: String
    public private(set) var seen: [TestLine] = []
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var pending: [TestLine] = []
    private var closed = false

    /// Connects to `host:port` (TCP_NODELAY), optionally requests `caps` and
    /// logs in with SASL PLAIN, registers as `nick`, and waits for the end of
    /// the MOTD (376/422).
    public init(host: String = "127.0.0.1", port: UInt16, nick: String, caps: [String] = [],
                sasl: (account: String, password: String)? = nil, timeout: Duration = .seconds(10)) throws {
        self.nick = nick
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw IRCTestClientError(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw IRCTestClientError(description: "socket: \(String(cString: strerror(errno)))") }
        guard Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let text = String(cString: strerror(errno))
            Glibc.close(fd)
            throw IRCTestClientError(description: "connect to \(host):\(port): \(text)")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        self.fd = fd

        let deadline = ContinuousClock.now.advanced(by: timeout)
        var wanted = caps
        if sasl != nil, !wanted.contains("sasl") { wanted.append("sasl") }
        if !wanted.isEmpty {
            send("CAP LS 302")
            send("CAP REQ :\(wanted.joined(separator: " "))")
            let reply = try expect(until: deadline, "CAP ACK/NAK") {
                $0.command == "CAP" && $0.params.count >= 3 && ["ACK", "NAK"].contains($0.params[1])
            }
            guard reply.params[1] == "ACK" else {
                throw IRCTestClientError(description: "\(nick): CAP REQ \(wanted) refused: \(reply.raw)")
            }
            if let sasl {
                send("AUTHENTICATE PLAIN")
                _ = try expect(until: deadline, "AUTHENTICATE +") { $0.command == "AUTHENTICATE" }
                let blob = Data("\(sasl.account)\u{0}\(sasl.account)\u{0}\(sasl.password)".utf8).base64EncodedString()
                send("AUTHENTICATE \(blob)")
                let end = try expect(until: deadline, "SASL result") { ["903", "904", "905", "906"].contains($0.command) }
                guard end.command == "903" else {
                    throw IRCTestClientError(description: "\(nick): SASL failed: \(end.raw)")
                }
            }
            send("CAP END")
        }
        send("NICK \(nick)")
        send("USER \(nick) 0 * :\(nick) (test client)")
        _ = try expect(until: deadline, "001 welcome") { $0.command == "001" }
        _ = try expect(until: deadline, "end of MOTD") { $0.command == "376" || $0.command == "422" }
    }

    deinit { close() }

    /// Sends one raw line (CRLF added). The line must not contain CR or LF.
    public func send(_ line: String) {
        precondition(!line.contains("\r") && !line.contains("\n"), "a test line must be one line")
        let bytes = Array((line + "\r\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    public func privmsg(_ target: String, _ text: String) { send("PRIVMSG \(target) :\(text)") }

    /// Joins `channel` and waits for the end of its NAMES list.
    public func join(_ channel: String, timeout: Duration = .seconds(10)) throws {
        send("JOIN \(channel)")
        _ = try expect("end of NAMES for \(channel)", timeout: timeout) {
            $0.command == "366" && $0.params.count > 1 && $0.params[1].lowercased() == channel.lowercased()
        }
    }

    /// Waits for the first line (received before or after this call and not
    /// yet consumed by an earlier `expect`) for which `predicate` holds.
    public func expect(_ what: String, timeout: Duration = .seconds(10),
                       where predicate: (TestLine) -> Bool) throws -> TestLine {
        try expect(until: ContinuousClock.now.advanced(by: timeout), what, predicate)
    }

    /// Waits for a PRIVMSG or NOTICE from `from` whose text contains `text`.
    @discardableResult
    public func expectMessage(from: String, containing text: String, timeout: Duration = .seconds(10)) throws -> TestLine {
        try expect("message from \(from) containing \"\(text)\"", timeout: timeout) {
            ($0.command == "PRIVMSG" || $0.command == "NOTICE") && $0.nick.lowercased() == from.lowercased()
                && $0.text.contains(text)
        }
    }

    /// Reads everything that arrives within `duration` (for asserting that
    /// something did NOT happen) and returns it; those lines stay available to
    /// later `expect`s.
    public func drain(for duration: Duration) -> [TestLine] {
        let deadline = ContinuousClock.now.advanced(by: duration)
        var lines: [TestLine] = []
        while let line = try? readLine(until: deadline) {
            lines.append(line)
        }
        pending.append(contentsOf: lines)
        return lines
    }

    public func close() {
        guard !closed else { return }
        closed = true
        send("QUIT :test done")
        Glibc.close(fd)
    }

    private func expect(until deadline: ContinuousClock.Instant, _ what: String,
                        _ predicate: (TestLine) -> Bool) throws -> TestLine {
        if let index = pending.firstIndex(where: predicate) {
            return pending.remove(at: index)
        }
        while true {
            guard let line = try readLine(until: deadline) else {
                let tail = seen.suffix(15).map { "    " + $0.raw }.joined(separator: "\n")
                throw IRCTestClientError(description: "\(nick): no \(what) in time; last lines:\n\(tail)")
            }
            if predicate(line) { return line }
            pending.append(line)
        }
    }

    /// The next line, or nil at the deadline. Throws when the server closed.
    private func readLine(until deadline: ContinuousClock.Instant) throws -> TestLine? {
        while true {
            if let lf = buffer.firstIndex(of: 0x0A) {
                var lineBytes = buffer[..<lf]
                buffer.removeSubrange(...lf)
                if lineBytes.last == 0x0D { lineBytes = lineBytes.dropLast() }
                let text = String(decoding: lineBytes, as: UTF8.self)
                if text.isEmpty { continue }
                let line = TestLine(text, receivedAt: .now)
                seen.append(line)
                if line.command == "PING" {
                    send("PONG :\(line.text)")
                    continue
                }
                return line
            }
            let left = ContinuousClock.now.duration(to: deadline)
            if left <= .zero { return nil }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let millis = Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1, 60_000))
            let ready = poll(&pfd, 1, millis)
            if ready < 0 {
                if errno == EINTR { continue }
                throw IRCTestClientError(description: "\(nick): poll: \(String(cString: strerror(errno)))")
            }
            if ready == 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 {
                throw IRCTestClientError(description: "\(nick): the server closed the connection")
            }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw IRCTestClientError(description: "\(nick): recv: \(String(cString: strerror(errno)))")
            }
            buffer.append(contentsOf: chunk[..<n])
        }
    }
}
