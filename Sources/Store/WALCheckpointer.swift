import CSQLite
import Core
import Foundation
import Synchronization

/// Copies the write-ahead log into the database on a connection and thread
/// of its own, so that no commit waits for it.
///
/// SQLite checkpoints automatically inside the COMMIT that makes the log
/// longer than 1,000 frames (about every 100 tickets here): that commit then
/// also copies 4 MB and syncs the database file, a stall of several
/// milliseconds on the path from a customer's last answer to the page. The
/// store turns that off (``SQLiteConnection/replaceAutomaticCheckpoint(with:)``)
/// and the checkpointer runs a PASSIVE checkpoint — which never blocks the
/// writer — whenever the log has grown past `threshold` frames, and once a
/// second while anything is left. A checkpoint never affects durability: a
/// committed transaction is durable in the log, whether or not it has been
/// copied yet; the next writer restarts the log once it is fully copied.
final class WALCheckpointer: Sendable {
    private struct State {
        var framesSinceCheckpoint = 0
        var pending = false
        var stopped = false
    }

    private final class Shared: Sendable {
        let state = Mutex(State())
    }

    let observer: WALCommitObserver
    private let shared = Shared()
    private let signal = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let path: String
    private let threshold: Int
    private let logger: Logger

    init(path: String, threshold: Int = 500, logger: Logger) {
        self.path = path
        self.threshold = threshold
        self.logger = logger
        let shared = self.shared
        let signal = self.signal
        observer = WALCommitObserver { frames in
            let wake = shared.state.withLock { s -> Bool in
                s.framesSinceCheckpoint = frames
                let wasPending = s.pending
                if frames >= threshold { s.pending = true }
                return s.pending && !wasPending
            }
            if wake { signal.signal() }
        }
    }

    /// Starts the thread (with its own connection to `path`).
    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "switchboard-wal-checkpointer"
        thread.start()
    }

    /// Stops the thread and waits for it (its last checkpoint included).
    func stop() {
        let wasRunning = shared.state.withLock { s -> Bool in
            defer { s.stopped = true }
            return !s.stopped
        }
        guard wasRunning else { return }
        signal.signal()
        finished.wait()
    }

    private func run() {
        defer { finished.signal() }
        let db: SQLiteConnection
        do {
            db = try SQLiteConnection(path: path, create: false)
        } catch {
            logger.error("WAL checkpointer cannot open the store; SQLite checkpoints only at close", ["error": error])
            return
        }
        defer { db.close() }
        while true {
            _ = signal.wait(timeout: .now() + 1)
            let (stop, due) = shared.state.withLock { s -> (Bool, Bool) in
                defer { s.pending = false }
                return (s.stopped, s.pending || s.framesSinceCheckpoint > 0)
            }
            if due {
                do {
                    let result = try db.checkpointPassive()
                    if result.checkpointed >= result.logFrames {
                        shared.state.withLock { $0.framesSinceCheckpoint = 0 }
                    }
                } catch {
                    logger.warning("WAL checkpoint failed", ["error": error])
                }
            }
            if stop { return }
        }
    }
}
