import Glibc

extension Connection {
    /// Whether a connection that waits unused can still carry a request,
    /// checked without waiting by peeking at the socket (`recv` with
    /// `MSG_PEEK | MSG_DONTWAIT`, which consumes nothing).
    ///
    /// False when the peer has closed its side (end of stream) or reset the
    /// connection, when it sent bytes nobody asked for (for TLS that includes
    /// a close_notify alert), and after `close()`. Connection pools (the HTTP
    /// client's keep-alive) call it before reusing a connection, so a server
    /// that closed an idle connection does not make the next request fail. A
    /// false alarm (a late TLS handshake message) only costs a new connection.
    public var isOpenAndQuiet: Bool {
        let quiet = try? descriptor.withFD("check idle connection to \(remoteAddress)") { fd -> Bool in
            var byte: UInt8 = 0
            while true {
                let count = recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
                if count < 0 && errno == EINTR { continue }
                return count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
            }
        }
        return quiet ?? false
    }
}
