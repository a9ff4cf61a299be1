import CSQLite
import Core
import Dispatch
import Foundation
import Glibc
import Synchronization

/// An SQLite VFS that is the platform's default one (`unix`) except that
/// the write-ahead log's writes are gathered and reach the file as one
/// `pwrite` per commit.
///
/// **Why.** SQLite writes each WAL frame as two `pwrite`s (its 24-byte
/// header, then the page), so a ticket's commit, which changes ~13 pages,
/// made ~26 write system calls before its `fdatasync`. On this project's
/// machines (ext4) a `pwrite` costs 6–9 µs of kernel time whatever its size
/// (measured: 1 KB or 13 KB alike), so those calls were ~180 µs of each
/// ticket's commit, against ~17 µs for a one-row commit — the largest part of
/// the gap to the raw commit rate (issue 12, `StoreBench --paired-only`).
///
/// **How.** A write that continues the previous one (the next frame) is
/// appended to a buffer of the file's; the buffer goes to the file as one
/// write before anything could need it there:
/// - after a **commit frame** is complete (a frame header whose "database
///   size after commit" field is not 0 — SQLite's WAL format), so other
///   connections, which learn of new frames from the shared-memory index
///   only after that, always find them in the file, whatever the
///   `synchronous` setting;
/// - before `xSync` (durability is unchanged: the commit's frames are on
///   disk when the sync that ends the commit returns, as before), `xRead`,
///   `xTruncate`, `xFileSize` and `xClose`;
/// - before a write that does not continue the buffer (a rewrite after a
///   rollback, the WAL header at a restart), so the file sees the writes in
///   their order and ends up byte for byte as without the buffer;
/// - before it would hold more than ``bufferLimit`` bytes.
/// The file is also kept ahead of the writer by 1 MiB steps of zeros,
/// written off the commit path (``WALGrowth``). A write error is reported
/// by the call that flushes (a sync or a read), so it fails the same
/// transaction. Files other than WAL files are the
/// default VFS's own, untouched.
enum CoalescingWALVFS {
    /// The name connections open with (`sqlite3_open_v2`'s `zVfs`).
    static let name = "switchboard-wal"

    /// The most a buffer holds before it is written out: the `unix` VFS
    /// writes at most 128 KiB − 1 per call (`seekAndWrite` masks the length
    /// with 0x1ffff, and a longer write fails as "disk full"), and one
    /// frame is at most 64 KiB + 24 bytes.
    static let bufferLimit = 96 * 1024

    /// The WAL file grows in steps of this many bytes, written as zeros
    /// ahead of the writer (``WALGrowth``): a commit's `fdatasync` then
    /// rarely has to record a new file size.
    static let extensionSize = 1 << 20

    /// Zeros to extend a WAL file with, 64 KiB a write (under the VFS's limit).
    static let zeros = [UInt8](repeating: 0, count: 64 * 1024)

    /// Registers the VFS once per process (not as the default); returns its
    /// name, or nil if the default VFS could not be wrapped (then
    /// connections use the default VFS as it is).
    static let registered: String? = register()

    private static func register() -> String? {
        guard let base = sqlite3_vfs_find(nil) else { return nil }
        baseVFS = base
        let vfs = UnsafeMutablePointer<sqlite3_vfs>.allocate(capacity: 1)
        vfs.initialize(to: base.pointee)
        vfs.pointee.pNext = nil
        vfs.pointee.zName = UnsafePointer(strdup(name))
        vfs.pointee.szOsFile = Int32(FileLayout.realFileOffset) + base.pointee.szOsFile
        vfs.pointee.xOpen = { _, name, file, flags, outFlags in
            CoalescingWALVFS.open(name, file, flags, outFlags)
        }
        guard sqlite3_vfs_register(vfs, 0) == SQLITE_OK else { return nil }
        return name
    }

    /// The wrapped VFS (the platform default at registration); set once,
    /// before the VFS is registered, and only read after.
    nonisolated(unsafe) private static var baseVFS: UnsafeMutablePointer<sqlite3_vfs>?

    /// Where the parts of a wrapped WAL file live in the `sqlite3_file`
    /// memory SQLite allocates (`szOsFile` bytes): SQLite's header (the
    /// methods pointer), a pointer to the ``WALBuffer``, then the default
    /// VFS's own file structure.
    enum FileLayout {
        static let bufferOffset = MemoryLayout<sqlite3_file>.stride
        static let realFileOffset = (bufferOffset + MemoryLayout<UnsafeMutableRawPointer>.stride + 15) & ~15

        static func buffer(_ file: UnsafeMutablePointer<sqlite3_file>?) -> UnsafeMutablePointer<WALBuffer> {
            UnsafeMutableRawPointer(file!).load(fromByteOffset: bufferOffset, as: UnsafeMutablePointer<WALBuffer>.self)
        }

        static func real(_ file: UnsafeMutablePointer<sqlite3_file>?) -> UnsafeMutablePointer<sqlite3_file> {
            (UnsafeMutableRawPointer(file!) + realFileOffset).assumingMemoryBound(to: sqlite3_file.self)
        }
    }

    private static func open(_ name: UnsafePointer<CChar>?, _ file: UnsafeMutablePointer<sqlite3_file>?,
                             _ flags: Int32, _ outFlags: UnsafeMutablePointer<Int32>?) -> Int32 {
        guard let base = baseVFS, let baseOpen = base.pointee.xOpen, let file else { return SQLITE_CANTOPEN }
        guard flags & SQLITE_OPEN_WAL != 0 else {
            // Not a WAL file: the default VFS's file, in our (larger) memory.
            return baseOpen(base, name, file, flags, outFlags)
        }
        let real = FileLayout.real(file)
        real.pointee.pMethods = nil
        let rc = baseOpen(base, name, real, flags, outFlags)
        guard rc == SQLITE_OK, real.pointee.pMethods != nil else {
            // SQLite closes a file whose open failed only if it has methods:
            // close the real one here and leave ours without.
            if let methods = real.pointee.pMethods, let close = methods.pointee.xClose { _ = close(real) }
            file.pointee.pMethods = nil
            return rc == SQLITE_OK ? SQLITE_CANTOPEN : rc
        }
        var size: sqlite3_int64 = 0
        if real.pointee.pMethods!.pointee.xFileSize!(real, &size) != SQLITE_OK { size = .max }
        let buffer = UnsafeMutablePointer<WALBuffer>.allocate(capacity: 1)
        let growth = name.map { WALGrowth(path: String(cString: $0), size: size) }
        buffer.initialize(to: WALBuffer(growth: growth))
        UnsafeMutableRawPointer(file).storeBytes(of: buffer, toByteOffset: FileLayout.bufferOffset,
                                                 as: UnsafeMutablePointer<WALBuffer>.self)
        file.pointee.pMethods = UnsafePointer(methods)
        return SQLITE_OK
    }

    /// The WAL file's methods: the buffering ones, the rest passed on to the
    /// real file. Version 1: SQLite uses shared memory and memory mapping
    /// only on the database file, never on its WAL.
    nonisolated(unsafe) private static let methods: UnsafeMutablePointer<sqlite3_io_methods> = {
        let methods = UnsafeMutablePointer<sqlite3_io_methods>.allocate(capacity: 1)
        methods.initialize(to: walMethods)
        return methods
    }()

    private static let walMethods = sqlite3_io_methods(
        iVersion: 1,
        xClose: { file in
            let buffer = FileLayout.buffer(file)
            let real = FileLayout.real(file)
            let flushed = buffer.pointee.flush(to: real)
            let closed = real.pointee.pMethods?.pointee.xClose?(real) ?? SQLITE_OK
            buffer.pointee.release()
            buffer.deinitialize(count: 1)
            buffer.deallocate()
            return flushed != SQLITE_OK ? flushed : closed
        },
        xRead: { file, data, amount, offset in
            let real = FileLayout.real(file)
            let rc = FileLayout.buffer(file).pointee.flush(to: real)
            if rc != SQLITE_OK { return rc }
            return real.pointee.pMethods!.pointee.xRead!(real, data, amount, offset)
        },
        xWrite: { file, data, amount, offset in
            FileLayout.buffer(file).pointee.write(data, Int(amount), at: offset, real: FileLayout.real(file))
        },
        xTruncate: { file, size in
            let real = FileLayout.real(file)
            let rc = FileLayout.buffer(file).pointee.flush(to: real)
            if rc != SQLITE_OK { return rc }
            FileLayout.buffer(file).pointee.truncated(to: size)
            return real.pointee.pMethods!.pointee.xTruncate!(real, size)
        },
        xSync: { file, flags in
            let real = FileLayout.real(file)
            let rc = FileLayout.buffer(file).pointee.flush(to: real)
            if rc != SQLITE_OK { return rc }
            return real.pointee.pMethods!.pointee.xSync!(real, flags)
        },
        xFileSize: { file, size in
            let real = FileLayout.real(file)
            let rc = FileLayout.buffer(file).pointee.flush(to: real)
            if rc != SQLITE_OK { return rc }
            return real.pointee.pMethods!.pointee.xFileSize!(real, size)
        },
        xLock: { file, lock in
            let real = FileLayout.real(file)
            return real.pointee.pMethods!.pointee.xLock!(real, lock)
        },
        xUnlock: { file, lock in
            let real = FileLayout.real(file)
            return real.pointee.pMethods!.pointee.xUnlock!(real, lock)
        },
        xCheckReservedLock: { file, result in
            let real = FileLayout.real(file)
            return real.pointee.pMethods!.pointee.xCheckReservedLock!(real, result)
        },
        xFileControl: { file, operation, argument in
            let real = FileLayout.real(file)
            return real.pointee.pMethods!.pointee.xFileControl!(real, operation, argument)
        },
        xSectorSize: { file in
            let real = FileLayout.real(file)
            return real.pointee.pMethods!.pointee.xSectorSize!(real)
        },
        xDeviceCharacteristics: { file in
            let real = FileLayout.real(file)
            return real.pointee.pMethods!.pointee.xDeviceCharacteristics!(real)
        },
        xShmMap: nil, xShmLock: nil, xShmBarrier: nil, xShmUnmap: nil, xFetch: nil, xUnfetch: nil)

    /// How many writes SQLite made to the WAL file `file` and how many
    /// reached it, since it was opened; nil if it is not one of this VFS's.
    static func statistics(of file: UnsafeMutablePointer<sqlite3_file>) -> WALWriteStatistics? {
        guard file.pointee.pMethods == UnsafePointer(methods) else { return nil }
        let buffer = FileLayout.buffer(file).pointee
        var statistics = buffer.statistics
        statistics.extensions = buffer.growth?.extensions.load(ordering: .relaxed) ?? 0
        return statistics
    }
}

/// The bytes SQLite wrote to one WAL file that have not reached it yet: one
/// run of consecutive bytes starting at ``start``.
struct WALBuffer {
    private var bytes: UnsafeMutableRawPointer?
    private var capacity = 0
    private var count = 0
    private var start: Int64 = 0
    /// The last write was the header of a commit frame: its page completes the commit.
    private var commitPageNext = false
    private(set) var statistics = WALWriteStatistics()

    /// WAL frame header size (SQLite's WAL format: 24 bytes before each page).
    private static let frameHeaderSize = 24

    mutating func write(_ data: UnsafeRawPointer?, _ amount: Int, at offset: Int64,
                        real: UnsafeMutablePointer<sqlite3_file>) -> Int32 {
        statistics.requested += 1
        guard let data, amount > 0 else { return SQLITE_OK }
        if amount > CoalescingWALVFS.bufferLimit {
            // Not a frame's part (SQLite never writes one so large): as it comes.
            let rc = flush(to: real)
            if rc != SQLITE_OK { return rc }
            statistics.written += 1
            let written = real.pointee.pMethods!.pointee.xWrite!(real, data, Int32(amount), offset)
            if written == SQLITE_OK { growth?.wrote(upTo: offset + Int64(amount)) }
            return written
        }
        if count > 0 && (offset != start + Int64(count) || count + amount > CoalescingWALVFS.bufferLimit) {
            let rc = flush(to: real)
            if rc != SQLITE_OK { return rc }
        }
        if count == 0 { start = offset }
        if count + amount > capacity {
            let newCapacity = max(count + amount, 2 * capacity, 16 * 1024)
            guard let grown = realloc(bytes, newCapacity) else { return SQLITE_NOMEM }
            bytes = grown
            capacity = newCapacity
        }
        (bytes! + count).copyMemory(from: data, byteCount: amount)
        count += amount
        if amount == Self.frameHeaderSize {
            // Bytes 4–7 of a frame header, big-endian: the database's size in
            // pages after a commit, 0 in every frame that does not commit.
            let sizeAfterCommit = data.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
            commitPageNext = sizeAfterCommit != 0
            return SQLITE_OK
        }
        if commitPageNext {
            commitPageNext = false
            return flush(to: real)
        }
        return SQLITE_OK
    }

    /// Writes what is buffered to the file (one call); the buffer is empty
    /// afterwards also if that failed (the transaction fails with the error).
    mutating func flush(to real: UnsafeMutablePointer<sqlite3_file>) -> Int32 {
        guard count > 0, let bytes else { return SQLITE_OK }
        let amount = count
        count = 0
        commitPageNext = false
        statistics.written += 1
        let rc = real.pointee.pMethods!.pointee.xWrite!(real, bytes, Int32(amount), start)
        if rc == SQLITE_OK { growth?.wrote(upTo: start + Int64(amount)) }
        return rc
    }

    /// Keeps the file ahead of the writes (nil: its name is unknown).
    let growth: WALGrowth?

    init(growth: WALGrowth?) { self.growth = growth }

    /// SQLite truncated the file (a checkpoint that truncates, the journal size limit).
    func truncated(to size: Int64) {
        growth?.truncated(to: size)
    }

    /// Frees the memory (the file is closing).
    mutating func release() {
        free(bytes)
        bytes = nil
        capacity = 0
        count = 0
    }
}

/// How many writes SQLite asked for on a WAL file and how many system-call
/// writes reached the file (``CoalescingWALVFS``).
public struct WALWriteStatistics: Sendable, Hashable {
    /// `xWrite` calls SQLite made (two per frame, plus the WAL's header at each restart).
    public var requested = 0
    /// Writes of SQLite's bytes that reached the file (about one per commit).
    public var written = 0
    /// Times the file was grown by a step of zeros ahead of the writer
    /// (``WALGrowth``; 1 MiB: a commit's sync then rarely has to record a
    /// new file size).
    public var extensions = 0
}

/// Keeps one WAL file a step of zeros (``CoalescingWALVFS/extensionSize``)
/// ahead of its writer, writing the zeros on a thread of its own.
///
/// **Why.** An `fdatasync` after a write past the file's end must also
/// write the file's new size (on this project's journal-less ext4: one more
/// synchronous write, ~50–90 µs of each commit's ~120–200 µs, the WAL
/// growing commit by commit until it is first started again). With the
/// file a step ahead, commits overwrite blocks that exist and are synced.
/// The zeros used to be written by the commit that crossed a step (16
/// writes of 64 KiB and their sync inside one ticket's commit, one in ~80
/// while the WAL grew); now no commit waits for them.
///
/// **Safety.** The zeros are appended (`O_APPEND`): each write lands at the
/// file's end as it is at that moment, so it never overwrites a byte SQLite
/// wrote, whichever connection or process writes the WAL meanwhile. Each
/// write is synchronous (`O_DSYNC`), so a commit's sync never has to flush
/// more than one 64 KiB piece of them. Zeros after the last frame are not a
/// valid frame: SQLite's recovery stops there as at the file's end. If the
/// file cannot be opened (it was deleted when its last connection closed),
/// nothing happens; if the zeros fall behind, commits write past the end as
/// they would without them.
final class WALGrowth: Sendable {
    let path: String
    /// The file's size as last seen; `.max` if unknown (then it is never grown).
    private let known: Atomic<Int64>
    /// A step is asked for or being written.
    private let pending = Atomic<Bool>(false)
    /// Steps written so far.
    let extensions = Atomic<Int>(0)

    init(path: String, size: Int64) {
        self.path = path
        known = Atomic(size)
    }

    /// The writer wrote up to `end`: asks for the next step when less than
    /// one step of the file is left after it. Never blocks.
    func wrote(upTo end: Int64) {
        let step = Int64(CoalescingWALVFS.extensionSize)
        let size = known.load(ordering: .relaxed)
        guard size != .max, end > size - step else { return }
        if pending.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged {
            WALGrower.request(self)
        }
    }

    func truncated(to size: Int64) {
        known.store(size, ordering: .relaxed)
    }

    /// On the grower's thread: appends zeros up to the next step past the
    /// file's current end.
    fileprivate func grow() {
        defer { pending.store(false, ordering: .releasing) }
        let fd = open(path, O_WRONLY | O_APPEND | O_DSYNC | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return }
        let step = Int64(CoalescingWALVFS.extensionSize)
        var size = Int64(info.st_size)
        let target = (size / step + 1) * step
        while size < target {
            let written = CoalescingWALVFS.zeros.withUnsafeBytes {
                write(fd, $0.baseAddress, Int(min(Int64($0.count), target - size)))
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { break }
            size += Int64(written)
        }
        if fstat(fd, &info) == 0 { known.store(Int64(info.st_size), ordering: .relaxed) }
        extensions.add(1, ordering: .relaxed)
    }
}

/// The one thread that writes every WAL file's steps of zeros (``WALGrowth``),
/// started when the first step is asked for.
enum WALGrower {
    private enum Job {
        case grow(WALGrowth)
        case idle(DispatchSemaphore)
        case hold(DispatchSemaphore)
    }

    private static let jobs = Mutex<(queued: [Job], started: Bool)>(([], false))
    private static let wake = DispatchSemaphore(value: 0)

    static func request(_ growth: WALGrowth) {
        enqueue(.grow(growth))
    }

    /// Returns once every step asked for so far is written (tests).
    static func waitUntilIdle() {
        let done = DispatchSemaphore(value: 0)
        enqueue(.idle(done))
        done.wait()
    }

    /// Makes the thread write no zeros until the returned semaphore is
    /// signalled (tests: a commit does not wait for its step).
    static func hold() -> DispatchSemaphore {
        let release = DispatchSemaphore(value: 0)
        enqueue(.hold(release))
        return release
    }

    private static func enqueue(_ job: Job) {
        let start = jobs.withLock { state -> Bool in
            state.queued.append(job)
            defer { state.started = true }
            return !state.started
        }
        if start {
            let thread = Thread {
                nameCurrentThread("switchboard-wal")
                run()
            }
            thread.qualityOfService = .utility
            thread.start()
        }
        wake.signal()
    }

    private static func run() {
        while true {
            wake.wait()
            let queued = jobs.withLock { state in
                defer { state.queued.removeAll() }
                return state.queued
            }
            for job in queued {
                switch job {
                case .grow(let growth): growth.grow()
                case .idle(let done): done.signal()
                case .hold(let release): release.wait()
                }
            }
        }
    }
}
