// The platform layer: thin wrappers over the Glibc socket calls, each
// capturing errno where it fails. Everything above this file speaks in
// `SocketAddress`, `TransportError` and file descriptors.
import CLinux
import Glibc

/// An IPv4 or IPv6 socket address (or the address of a Unix socket), kept as
/// the raw `sockaddr` bytes the kernel takes and gives.
struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    private let bytes: [UInt8]

    /// Copies `length` bytes of a `sockaddr`.
    init(_ address: UnsafePointer<sockaddr>, length: socklen_t) {
        bytes = [UInt8](UnsafeRawBufferPointer(start: address, count: Int(length)))
    }

    /// The address of a numeric host (`"127.0.0.1"`, `"::1"`) and port, or
    /// nil when `host` is not a numeric address.
    init?(numericHost host: String, port: UInt16) {
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            self = withUnsafePointer(to: &v4) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    SocketAddress($0, length: socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            return
        }
        var v6 = sockaddr_in6()
        // A zone (`fe80::1%eth0`) is not accepted here; loopback needs none.
        if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            self = withUnsafePointer(to: &v6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    SocketAddress($0, length: socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
            return
        }
        return nil
    }

    /// Whether `host` is a numeric IPv4 or IPv6 address.
    static func isNumeric(_ host: String) -> Bool {
        SocketAddress(numericHost: host, port: 0) != nil
    }

    var family: Int32 {
        bytes.withUnsafeBytes { Int32($0.load(fromByteOffset: 0, as: sa_family_t.self)) }
    }

    var length: socklen_t { socklen_t(bytes.count) }

    func withSockAddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> T) rethrows -> T {
        try bytes.withUnsafeBytes { raw in
            try body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
        }
    }

    /// The numeric host (`"127.0.0.1"`, `"::1"`), or nil for other families.
    var host: String? {
        bytes.withUnsafeBytes { raw -> String? in
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            switch family {
            case AF_INET:
                var address = raw.loadUnaligned(as: sockaddr_in.self).sin_addr
                guard inet_ntop(AF_INET, &address, &text, socklen_t(text.count)) != nil else { return nil }
            case AF_INET6:
                var address = raw.loadUnaligned(as: sockaddr_in6.self).sin6_addr
                guard inet_ntop(AF_INET6, &address, &text, socklen_t(text.count)) != nil else { return nil }
            default:
                return nil
            }
            return string(fromCString: text)
        }
    }

    /// The port, or nil for families without one.
    var port: UInt16? {
        bytes.withUnsafeBytes { raw -> UInt16? in
            switch family {
            case AF_INET: UInt16(bigEndian: raw.loadUnaligned(as: sockaddr_in.self).sin_port)
            case AF_INET6: UInt16(bigEndian: raw.loadUnaligned(as: sockaddr_in6.self).sin6_port)
            default: nil
            }
        }
    }

    /// `127.0.0.1:6667`, `[::1]:6667`, or `unix:<path>` / `unix` for Unix sockets.
    var description: String {
        switch family {
        case AF_INET:
            return "\(host ?? "?"):\(port ?? 0)"
        case AF_INET6:
            return "[\(host ?? "?")]:\(port ?? 0)"
        case AF_UNIX:
            let pathOffset = MemoryLayout<sa_family_t>.size
            let path = bytes.count > pathOffset ? Array(bytes[pathOffset...].prefix { $0 != 0 }) : []
            return path.isEmpty ? "unix" : "unix:" + String(decoding: path, as: UTF8.self)
        default:
            return "address family \(family)"
        }
    }
}

/// Socket system calls. Every failure throws `TransportError.system` with the
/// operation and errno of the failing call.
enum SocketCalls {
    /// A non-blocking, close-on-exec stream socket of `family`.
    static func makeStreamSocket(family: Int32, operation: String) throws -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(family, type, 0)
        guard fd >= 0 else { throw TransportError.posix(operation) }
        return fd
    }

    /// Options for a connected TCP socket: `TCP_NODELAY` (no Nagle: IRC lines
    /// are small and must not wait ~40 ms for a delayed ACK), `SO_KEEPALIVE`
    /// with probes after 2 minutes idle, every 30 s, 4 tries (a dead peer or
    /// NAT entry is noticed within ~4 minutes even when the application is
    /// silent). Unix sockets need none of these.
    static func configureConnected(_ fd: Int32, family: Int32, operation: String) throws {
        guard family == AF_INET || family == AF_INET6 else { return }
        try setOption(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "\(operation): set SO_KEEPALIVE")
        try setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1, "\(operation): set TCP_NODELAY")
        try setOption(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, 120, "\(operation): set TCP_KEEPIDLE")
        try setOption(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, 30, "\(operation): set TCP_KEEPINTVL")
        try setOption(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, 4, "\(operation): set TCP_KEEPCNT")
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32, _ operation: String) throws {
        var value = value
        guard setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw TransportError.posix(operation)
        }
    }

    static func intOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ operation: String) throws -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, level, name, &value, &length) == 0 else { throw TransportError.posix(operation) }
        return value
    }

    /// Sets `O_NONBLOCK` and `FD_CLOEXEC` on a descriptor we did not create.
    static func makeNonBlockingCloseOnExec(_ fd: Int32, operation: String) throws {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else {
            throw TransportError.posix("\(operation): set O_NONBLOCK")
        }
        let fdFlags = fcntl(fd, F_GETFD)
        guard fdFlags >= 0, fcntl(fd, F_SETFD, fdFlags | FD_CLOEXEC) == 0 else {
            throw TransportError.posix("\(operation): set FD_CLOEXEC")
        }
    }

    /// The peer's address, or nil when the kernel has none (e.g. socketpair).
    static func peerAddress(_ fd: Int32) -> SocketAddress? {
        address(fd, getpeername)
    }

    static func localAddress(_ fd: Int32) -> SocketAddress? {
        address(fd, getsockname)
    }

    private static func address(
        _ fd: Int32, _ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address -> SocketAddress? in
                guard call(fd, address, &length) == 0 else { return nil }
                return SocketAddress(address, length: length)
            }
        }
    }

    /// `accept4` with `SOCK_NONBLOCK | SOCK_CLOEXEC`: the new descriptor, or
    /// -1 with errno set.
    static func accept(_ fd: Int32) -> (fd: Int32, address: SocketAddress?) {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
                let accepted = shim_accept4(fd, address, &length, flags)
                return (accepted, accepted >= 0 ? SocketAddress(address, length: length) : nil)
            }
        }
    }
}
