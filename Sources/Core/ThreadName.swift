import CLinux

/// Names the calling thread as the system shows it (`/proc/self/task/*/comm`,
/// `top -H`, perf); at most 15 bytes are kept. Foundation's `Thread.name`
/// does not reach the system on Linux (a new thread keeps its creator's
/// name), so each thread the gateway starts calls this first: per-thread
/// figures (GatewayBench's CPU and switches per page, a profile) can then
/// tell the store's thread from the PIN worker's or a benchmark's client.
public func nameCurrentThread(_ name: String) {
    shim_set_thread_name(name)
}
