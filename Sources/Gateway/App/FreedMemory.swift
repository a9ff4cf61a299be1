#if canImport(Glibc)
import CLinux
#endif

/// Returns to the system the pages malloc keeps after a burst of temporary
/// allocations, such as building the KB index at start-up or on a reload
/// (issue 12, idle memory: about half a megabyte the gateway would otherwise
/// hold free for its whole life; scripts/bench-rss). Only memory already
/// freed is given back, so nothing comes back unless the gateway allocates
/// that much again. Costs a walk over malloc's free lists: call it after
/// loading, never on a message's path.
enum FreedMemory {
    static func release() {
        #if canImport(Glibc)
        _ = malloc_trim(0)
        #endif
    }
}
