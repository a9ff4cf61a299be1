import CSQLite
import Core
import Dispatch
import Foundation
import Synchronization

/// Keeps the store's write-ahead log short without making a commit wait
/// for a checkpoint (issue 12).
///
/// **Why.** With SQLite's default (`wal_autocheckpoint` = 1000 pages) the
/// commit that takes the WAL past 1000 frames copies them into the database
/// file and syncs it before it returns: a ticket writes ~12 frames, so every
/// ~80th ticket waited for ~70 page writes and an `fdatasync` of the
/// database (1–4 ms here), ~30–50 µs per ticket on average. The WAL must
/// still be copied back, and restarted from its beginning: writing over
/// the same blocks, an `fdatasync` needs no change of the file's size
/// (which costs this machine's journal-less ext4 an extra inode write).
///
/// **How.** The store connection checkpoints nothing by itself
/// (`wal_autocheckpoint = 0`). After each commit SQLite tells it the WAL's
/// length (`sqlite3_wal_hook`, on the store thread):
/// - every ``Limits-swift.struct/background`` frames, a second connection
///   on a thread of its own copies the WAL into the database
///   (`SQLITE_CHECKPOINT_PASSIVE`: it waits for no reader or writer, and
///   commits go on meanwhile). When it has copied everything, the next
///   commit starts the WAL again from its beginning.
/// - at ``Limits-swift.struct/inline`` frames (a steady stream of commits
///   never left the WAL fully copied when the next one began, or the
///   background connection could not be opened) the committing connection
///   checkpoints itself, as SQLite's own autocheckpoint would (after the
///   background checkpoint under way, if any, ends): mostly copied already,
///   it finishes the rest, and its next commit restarts the WAL. So the WAL stays under about `inline` frames plus one transaction
///   (unless a reader holds an old snapshot, as with SQLite's own).
///
/// Durability is SQLite's: a checkpoint copies only committed frames, syncs
/// the database before it records them as copied, and the WAL is started
/// again only after that.
final class WALCheckpointer: Sendable {
    /// When to checkpoint, in WAL frames (pages).
    struct Limits: Sendable {
        /// Every this many frames, the background connection checkpoints.
        var background: Int
        /// At this many, the committing connection does (it bounds the WAL).
        var inline: Int

        /// ~1 MB and ~4 MB of WAL with the store's 1 KB pages.
        static let standard = Limits(background: 1000, inline: 4000)
    }

    let limits: Limits
    private let path: String
    private let logger: Logger
    private let wake = DispatchSemaphore(value: 0)
    private let state = Mutex(State())
    private let finished = DispatchSemaphore(value: 0)
    /// The most frames the WAL held after a commit (set on the store thread).
    private let longest = Atomic<Int>(0)

    private struct State {
        var requested = false
        var stopping = false
        var running = false
        var backgroundCheckpoints = 0
        var inlineCheckpoints = 0
        /// Callers of ``waitUntilIdle()``.
        var idleWaiters: [DispatchSemaphore] = []
    }

    /// Starts the background thread and opens its connection to `path` (an
    /// existing, migrated store file). If that fails, the error is logged
    /// and only the committing connection's checkpoints at
    /// ``Limits-swift.struct/inline`` frames remain.
    init(path: String, limits: Limits = .standard, logger: Logger) {
        self.path = path
        self.limits = limits
        self.logger = logger
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            nameCurrentThread("switchboard-ckpt")
            let db: SQLiteConnection
            do {
                db = try SQLiteConnection(path: path, create: false)
                // FULL: the checkpoint syncs the database file before it
                // records frames as copied. The read opens the WAL.
                try db.execute("PRAGMA synchronous = FULL")
                _ = try db.queryFirst("SELECT COUNT(*) FROM sqlite_schema") { _ in 0 }
            } catch {
                logger.error("store: cannot open the background checkpoint connection; the committing connection "
                             + "checkpoints every \(limits.inline) WAL pages", ["path": path, "error": "\(error)"])
                ready.signal()
                finished.signal()
                return
            }
            state.withLock { $0.running = true }
            ready.signal()
            run(db)
            db.close()
            finished.signal()
        }
        thread.start()
        ready.wait()
    }

    /// How many checkpoints ran in the background and on the committing
    /// connection, and the most frames the WAL held after a commit (tests,
    /// StoreBench).
    var statistics: (background: Int, inline: Int, longestWAL: Int) {
        let counts = state.withLock { ($0.backgroundCheckpoints, $0.inlineCheckpoints) }
        return (counts.0, counts.1, longest.load(ordering: .relaxed))
    }

    /// Stops the background thread after the checkpoint under way and closes
    /// its connection; returns when it is closed (at once if it never opened).
    func stop() {
        let wasRunning = state.withLock { state -> Bool in
            defer { state.stopping = true }
            return !state.stopping
        }
        guard wasRunning else { return }
        wake.signal()
        finished.wait()
    }

    /// Stops the thread without waiting for it (a store released without `close`).
    func stopLater() {
        let first = state.withLock { state -> Bool in
            defer { state.stopping = true }
            return !state.stopping
        }
        if first { wake.signal() }
    }

    /// Returns once the background thread has run every checkpoint asked
    /// for so far (at once without a background thread). For tests: the
    /// pause between two customers' tickets, made deterministic.
    func waitUntilIdle() {
        let waiter = DispatchSemaphore(value: 0)
        let queued = state.withLock { state -> Bool in
            guard state.running, !state.stopping else { return false }
            state.idleWaiters.append(waiter)
            return true
        }
        guard queued else { return }
        wake.signal()
        waiter.wait()
    }

    private func run(_ db: SQLiteConnection) {
        while true {
            wake.wait()
            let (stopping, requested) = state.withLock { state in
                defer { state.requested = false }
                return (state.stopping, state.requested)
            }
            if !stopping && requested {
                do {
                    _ = try db.checkpoint(mode: SQLITE_CHECKPOINT_PASSIVE)
                    state.withLock { $0.backgroundCheckpoints += 1 }
                } catch {
                    logger.warning("store: background checkpoint failed", ["path": path, "error": "\(error)"])
                }
            }
            let waiters = state.withLock { state in
                defer { state.idleWaiters.removeAll() }
                return state.idleWaiters
            }
            for waiter in waiters { waiter.signal() }
            if stopping { return }
        }
    }

    /// Asks the background thread for a checkpoint; never blocks. False if
    /// there is no background thread (it could not open, or is stopping).
    fileprivate func requestBackground() -> Bool {
        let (accepted, signal) = state.withLock { state -> (Bool, Bool) in
            guard state.running, !state.stopping else { return (false, false) }
            let signal = !state.requested
            state.requested = true
            return (true, signal)
        }
        if signal { wake.signal() }
        return accepted
    }

    fileprivate func countInline() {
        state.withLock { $0.inlineCheckpoints += 1 }
    }

    /// The hook for the store connection: call on its thread, once, after
    /// the schema is migrated.
    func attach(to db: SQLiteConnection) throws {
        try db.execute("PRAGMA wal_autocheckpoint = 0")
        db.setWALHook(CommitHook(checkpointer: self))
    }

    /// The committing connection's side (its thread only): decides after
    /// each commit, from the WAL's length, whether to ask for a checkpoint
    /// or to run one.
    final class CommitHook {
        let checkpointer: WALCheckpointer
        /// The WAL's length when a background checkpoint was last asked for.
        private var requestedAt = 0
        private var lastFrames = 0

        init(checkpointer: WALCheckpointer) { self.checkpointer = checkpointer }

        func committed(frames: Int, on db: OpaquePointer) {
            defer { lastFrames = frames }
            if frames > checkpointer.longest.load(ordering: .relaxed) {
                checkpointer.longest.store(frames, ordering: .relaxed)
            }
            if frames < lastFrames { requestedAt = 0 }  // the WAL started again
            let limits = checkpointer.limits
            if frames >= limits.inline {
                // A background checkpoint under way holds the checkpoint lock
                // (this one would fail with SQLITE_BUSY and the WAL grow on):
                // let it finish. Only when commits outrun the background.
                checkpointer.waitUntilIdle()
                var log: Int32 = 0
                var copied: Int32 = 0
                // An error (e.g. SQLITE_BUSY: another process checkpoints)
                // leaves it for the next commit.
                if sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_PASSIVE, &log, &copied) == SQLITE_OK {
                    checkpointer.countInline()
                }
                requestedAt = 0
                return
            }
            if frames >= limits.background && frames - requestedAt >= limits.background {
                if checkpointer.requestBackground() { requestedAt = frames }
            }
        }
    }
}
