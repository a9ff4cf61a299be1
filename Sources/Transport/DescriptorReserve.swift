import Glibc
import Synchronization

/// A few descriptors a listener holds back (`/dev/null`, close-on-exec) so
/// that running out of descriptors never leaves the whole process without
/// one.
///
/// A process at its descriptor limit does not only fail to accept: every
/// other open fails too — SQLite's journal, a reconnect's socket, and the
/// Swift runtime's own thread pool, whose Linux monitor (libdispatch's
/// `_dispatch_workq_monitor_pools`) opens `/proc/PID/stat` for each worker
/// about once a second while work is queued and *crashes the process*
/// (SIGILL, "workq: registered worker exited prematurely") when that open
/// fails. Measured: the accept-recovery child process (RLIMIT_NOFILE 64)
/// crashed this way in 2 of 5 runs under load, and in every run under gdb.
///
/// So when `accept` fails with EMFILE or ENFILE the listener closes the
/// reserve at once (``release()``), and it accepts again only after it could
/// take the reserve back (``restore()``), which it does only while more than
/// twice the reserve is free below the soft limit: queued connections wait
/// in the listen backlog until then, and the process keeps the reserve's
/// descriptors for everything else. (The technique is the "reserve
/// descriptor" of libev's and libuv's accept loops.)
final class DescriptorReserve: Sendable {
    /// Descriptors held while nothing is short.
    let size: Int
    /// Free descriptors below the soft limit, nil when they cannot be
    /// counted (no `/proc`). Replaced in tests.
    let headroom: @Sendable () -> Int?
    private let held = Mutex<[Int32]>([])

    /// A reserve of `size` descriptors, taken at once when they can be.
    init(size: Int = 4, headroom: @escaping @Sendable () -> Int? = DescriptorReserve.processHeadroom) {
        self.size = max(1, size)
        self.headroom = headroom
        _ = take()
    }

    deinit {
        for fd in held.withLock({ $0 }) { Glibc.close(fd) }
    }

    /// Whether the whole reserve is held.
    var isHeld: Bool { held.withLock { $0.count == size } }

    /// Closes the reserve's descriptors, for the rest of the process to use.
    /// Returns how many were closed.
    @discardableResult
    func release() -> Int {
        held.withLock { fds in
            for fd in fds { Glibc.close(fd) }
            defer { fds.removeAll() }
            return fds.count
        }
    }

    /// Takes the reserve back when more than twice its size is free (so
    /// that the process still has a reserve's worth after taking it), or
    /// when the free descriptors cannot be counted. True when it is held.
    func restore() -> Bool {
        if isHeld { return true }
        if let free = headroom(), free <= 2 * size { return false }
        return take()
    }

    /// Opens descriptors up to `size`; on a failure closes the ones this
    /// call opened, so a short process is not left shorter.
    private func take() -> Bool {
        held.withLock { fds in
            var opened: [Int32] = []
            while fds.count + opened.count < size {
                let fd = Glibc.open("/dev/null", O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else {
                    for fd in opened { Glibc.close(fd) }
                    return false
                }
                opened.append(fd)
            }
            fds += opened
            return true
        }
    }

    /// The process's free descriptors: the soft `RLIMIT_NOFILE` minus the
    /// entries of `/proc/self/fd` (without the one reading it). Int.max
    /// without a limit; nil when `/proc` cannot be read.
    @Sendable static func processHeadroom() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        if limit.rlim_cur == rlim_t.max { return Int.max }  // RLIM_INFINITY
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var open = -1  // the directory's own descriptor is listed too
        while let entry = readdir(directory) {
            let isDot = withUnsafeBytes(of: entry.pointee.d_name) { name in
                name[0] == 0x2E && (name[1] == 0 || (name[1] == 0x2E && name[2] == 0))
            }
            if !isDot { open += 1 }
        }
        return Int(clamping: limit.rlim_cur) - max(0, open)
    }
}
