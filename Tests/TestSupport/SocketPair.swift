import Glibc

/// Connected socket pairs, so protocol code can be tested without a network.
public enum SocketPair {
    /// Two connected Unix stream sockets (`socketpair(AF_UNIX, SOCK_STREAM)`,
    /// close-on-exec). The caller owns both descriptors — typically handing
    /// each to `Transport.Connection(adopting:)`, which then closes it.
    public static func make() throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else { throw SystemCallError("socketpair") }
        return (fds[0], fds[1])
    }
}
