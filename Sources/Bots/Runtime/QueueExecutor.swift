import Dispatch

/// A serial executor on a dispatch queue of its own: the runtime's executor
/// when its owner gives none (tests, the console). Its jobs run one at a
/// time, in the order queued, on dispatch's threads — as a plain actor's
/// would. The gateway gives the runtime its event loop instead, the thread
/// its IRC clients run on (issue 12).
final class QueueExecutor: SerialExecutor {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedSerialExecutor()) }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
