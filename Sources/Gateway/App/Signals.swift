import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Process signals as an async sequence: SIGTERM and SIGINT ask the gateway
/// to stop (finish sending, say goodbye, close the store), SIGHUP to reload
/// its configuration. The default actions are switched off while it listens.
public enum ProcessSignal: Sendable, Hashable, CustomStringConvertible {
    case terminate(Int32)
    case reload

    public var description: String {
        switch self {
        case .terminate(let number): number == SIGINT ? "SIGINT" : "SIGTERM"
        case .reload: "SIGHUP"
        }
    }

    /// Signals as they arrive. Keep the stream alive for as long as you want them.
    public static func stream() -> AsyncStream<ProcessSignal> {
        AsyncStream { continuation in
            var sources: [any DispatchSourceSignal] = []
            for (number, value) in [(SIGTERM, ProcessSignal.terminate(SIGTERM)), (SIGINT, .terminate(SIGINT)),
                                    (SIGHUP, .reload)] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { continuation.yield(value) }
                source.resume()
                sources.append(source)
            }
            let keep = SignalSources(sources)
            continuation.onTermination = { _ in keep.cancel() }
        }
    }
}

/// Holds the dispatch sources for as long as the stream lives.
private final class SignalSources: @unchecked Sendable {
    // Written once in init, read in cancel(); the sources are thread-safe.
    private let sources: [any DispatchSourceSignal]
    init(_ sources: [any DispatchSourceSignal]) { self.sources = sources }
    func cancel() { for source in sources { source.cancel() } }
}
