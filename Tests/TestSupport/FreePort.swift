import Glibc
import Synchronization

/// A failed system call in a test helper: what was done, errno and its text.
public struct SystemCallError: Error, CustomStringConvertible {
    public let operation: String
    public let errno: Int32

    public init(_ operation: String, errno: Int32 = Glibc.errno) {
        self.operation = operation
        self.errno = errno
    }

    public var description: String {
        "\(operation): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Free TCP ports for servers started by tests.
public enum FreePort {
    /// Where ``next(host:)`` looks: below Linux's ephemeral range (32768–60999
    /// by default), which the kernel hands out for binding port 0 and, more
    /// often, as the local port of every outgoing connection. A port taken
    /// from that range and closed again could become some test's
    /// connection's local port before the server bound it (a CI run failed
    /// on "bind: Address already in use" that way).
    static let range: ClosedRange<UInt16> = 20_000...32_767

    /// The next port to try, shared by the process's tests; starts at a
    /// random place, so test runs side by side rarely try the same ports.
    private static let cursor = Mutex(UInt16.random(in: range))

    /// A TCP port on `host` (a numeric IPv4 or IPv6 address) that was free
    /// when this returned: the next port of ``range`` (round robin) that
    /// binds, closed again. No other test of this process gets it again
    /// before the range comes round; another process could still take it.
    public static func next(host: String = "127.0.0.1") throws -> UInt16 {
        for _ in 0..<range.count {
            let port = cursor.withLock { next -> UInt16 in
                defer { next = next == range.upperBound ? range.lowerBound : next + 1 }
                return next
            }
            if try bindable(port, host: host) { return port }
        }
        throw SystemCallError("FreePort.next: no port in \(range) binds on \(host)", errno: EADDRINUSE)
    }

    /// Whether `port` on `host` binds now (then closed again).
    static func bindable(_ port: UInt16, host: String) throws -> Bool {
        var v4 = sockaddr_in()
        var v6 = sockaddr_in6()
        let family: Int32
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            family = AF_INET
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
        } else if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            family = AF_INET6
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
        } else {
            throw SystemCallError("FreePort.next: \(host) is not a numeric address", errno: EINVAL)
        }
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemCallError("socket") }
        defer { close(fd) }
        let bound: Int32 = family == AF_INET
            ? withUnsafePointer(to: &v4) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            : withUnsafePointer(to: &v6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        if bound == 0 { return true }
        if errno == EADDRINUSE || errno == EACCES { return false }
        throw SystemCallError("bind \(host):\(port)")
    }
}
