import Foundation
import Glibc
import Synchronization

/// A TCP forwarder on a loopback port to `target`, for partition tests
/// (issue 10): ``pause()`` stops forwarding in both directions while the
/// connections stay open — as when a network drops the packets, so a
/// database call on the far side neither fails nor returns — and
/// ``resume()`` goes on. One thread accepts, one pumps each connection.
public final class TCPProxy: Sendable {
    /// Where to connect instead of the target.
    public let port: UInt16
    private let listener: Int32
    private let target: (host: String, port: UInt16)
    private let paused = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)

    public init(targetHost: String = "127.0.0.1", targetPort: UInt16) throws {
        target = (targetHost, targetPort)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard fd >= 0, bound == 0, listen(fd, 16) == 0 else {
            let text = String(cString: strerror(errno))
            if fd >= 0 { close(fd) }
            throw ChildProcessError(name: "tcp-proxy", problem: "cannot listen: \(text)", output: "")
        }
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        let accepting = Thread { [self] in acceptLoop() }
        accepting.name = "tcp-proxy-accept"
        accepting.start()
    }

    /// Stops forwarding (nothing is read or written; connections stay open).
    public func pause() { paused.store(true, ordering: .sequentiallyConsistent) }

    /// Forwards again.
    public func resume() { paused.store(false, ordering: .sequentiallyConsistent) }

    /// Closes the listener and every connection (within ~100 ms).
    public func stop() { stopped.store(true, ordering: .sequentiallyConsistent) }

    private var isStopped: Bool { stopped.load(ordering: .sequentiallyConsistent) }

    private func acceptLoop() {
        defer { close(listener) }
        while !isStopped {
            var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 100) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            guard let upstream = connectTarget() else {
                close(client)
                continue
            }
            let pump = Thread { [self] in pumpLoop(client, upstream) }
            pump.name = "tcp-proxy-pump"
            pump.start()
        }
    }

    private func connectTarget() -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(target.host)
        address.sin_port = target.port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if connected != 0 {
            close(fd)
            return nil
        }
        return fd
    }

    private func pumpLoop(_ a: Int32, _ b: Int32) {
        defer {
            close(a)
            close(b)
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !isStopped {
            if paused.load(ordering: .sequentiallyConsistent) {
                usleep(20_000)
                continue
            }
            var fds = [pollfd(fd: a, events: Int16(POLLIN), revents: 0), pollfd(fd: b, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 2, 100) > 0 else { continue }
            for (index, entry) in fds.enumerated() where entry.revents != 0 {
                let from = index == 0 ? a : b, to = index == 0 ? b : a
                let n = buffer.withUnsafeMutableBytes { recv(from, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return }
                var offset = 0
                while offset < n {
                    let written = buffer[offset..<n].withUnsafeBytes {
                        send(to, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                    }
                    if written <= 0 { return }
                    offset += written
                }
            }
        }
    }
}
