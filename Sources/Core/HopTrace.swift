import Glibc
import Synchronization

/// Timestamps of the hops a line takes through the gateway — socket readable,
/// read, parsed, in the IRC session, in the adapter, in the bots, the store
/// call and its commit, the page handed to the network, queued, written — so
/// a benchmark can show where a page's time goes (issue 12).
///
/// Off unless the process starts with `SWITCHBOARD_HOP_TRACE` set in its
/// environment: off, a mark costs one load of a constant that is set once;
/// on, a `CLOCK_MONOTONIC` read and a lock. Only `GatewayBench` turns it on;
/// marks then pile up until ``take()``.
public enum HopTrace {
    /// The hops, in the order a page passes them.
    public enum Hop: Int, CaseIterable, Sendable {
        /// The epoll thread saw the socket readable and woke the reader.
        case readable
        /// The reader task's `recv` returned bytes.
        case read
        /// Those bytes were framed and parsed into messages.
        case parsed
        /// The IRC session took the messages in (on the client's executor).
        case session
        /// The adapter turned a message into a chat event.
        case adapter
        /// The bots' runtime took the event (its turn began).
        case runtime
        /// The ticket's store call was issued.
        case storeCall
        /// The store call returned (committed).
        case commitDone
        /// The page was handed to the network.
        case pageHanded
        /// The page was in the client's send queue.
        case queued
        /// A write of queued lines began.
        case writeBegin
        /// That write returned.
        case written

        public var label: String {
            switch self {
            case .readable: "socket readable (epoll)"
            case .read: "recv returned"
            case .parsed: "lines parsed"
            case .session: "session took them"
            case .adapter: "adapter event"
            case .runtime: "bot runtime turn"
            case .storeCall: "store call issued"
            case .commitDone: "commit returned"
            case .pageHanded: "page handed to network"
            case .queued: "page in send queue"
            case .writeBegin: "write began"
            case .written: "write returned"
            }
        }
    }

    /// Whether marks are kept (`SWITCHBOARD_HOP_TRACE` set at start).
    public static let isEnabled: Bool = getenv("SWITCHBOARD_HOP_TRACE") != nil

    private static let marks = Mutex<[(hop: Hop, nanoseconds: UInt64)]>([])

    /// Notes that `hop` happened now (nothing when tracing is off).
    @inline(__always)
    public static func mark(_ hop: Hop) {
        guard isEnabled else { return }
        let time = now()
        marks.withLock { $0.append((hop, time)) }
    }

    /// `CLOCK_MONOTONIC` in nanoseconds, the clock every mark uses.
    public static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    /// The marks since the last call, in the order they were made.
    public static func take() -> [(hop: Hop, nanoseconds: UInt64)] {
        marks.withLock { marks in
            defer { marks.removeAll(keepingCapacity: true) }
            return marks
        }
    }
}
