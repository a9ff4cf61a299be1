import Core
import Foundation
import Glibc
import Synchronization

/// Name resolution with `getaddrinfo`.
///
/// `getaddrinfo` blocks (for seconds when a DNS server is slow), so it runs
/// on a thread of its own, never on Swift's cooperative pool. Cancellation
/// (and so a timeout) resumes the caller at once; the abandoned lookup
/// finishes on its thread and its result is dropped.
enum Resolver {
    /// The TCP addresses of `host`, in the order `getaddrinfo` prefers
    /// (RFC 6724), duplicates removed. A numeric host is returned as is,
    /// without a lookup. IPv6 results are only asked for when the machine
    /// has an IPv6 address configured, and IPv4 likewise (`AI_ADDRCONFIG`).
    static func resolve(host: String, port: UInt16) async throws -> [SocketAddress] {
        if let numeric = SocketAddress(numericHost: host, port: port) { return [numeric] }
        let slot = OneShot<[SocketAddress]>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                slot.attach(continuation)
                let thread = Thread {
                    nameCurrentThread("switchboard.dns")
                    slot.resume(with: Result { try lookup(host: host, port: port) })
                }
                thread.start()
            }
        } onCancel: {
            slot.resume(with: .failure(CancellationError()))
        }
    }

    /// The blocking lookup.
    static func lookup(host: String, port: UInt16) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, String(port), &hints, &list)
        guard code == 0 else {
            if code == EAI_SYSTEM {
                let error = Glibc.errno
                throw TransportError.nameResolution(host: host, code: code, message: errorText(error))
            }
            let message = gai_strerror(code).map { String(cString: $0) } ?? "error \(code)"
            throw TransportError.nameResolution(host: host, code: code, message: message)
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var entry = list
        while let current = entry {
            if let address = current.pointee.ai_addr {
                let socketAddress = SocketAddress(address, length: current.pointee.ai_addrlen)
                if !addresses.contains(socketAddress) { addresses.append(socketAddress) }
            }
            entry = current.pointee.ai_next
        }
        guard !addresses.isEmpty else {
            throw TransportError.nameResolution(host: host, code: EAI_NONAME, message: "no addresses")
        }
        return addresses
    }
}

/// A continuation resumed once, by whichever comes first: a result from
/// another thread or cancellation; either may come before the continuation
/// is attached.
final class OneShot<Value: Sendable>: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Value, any Error>)
        case finished(Result<Value, any Error>)
        case consumed
    }

    private let state = Mutex(State.idle)

    func attach(_ continuation: CheckedContinuation<Value, any Error>) {
        let early: Result<Value, any Error>? = state.withLock { state in
            if case .finished(let result) = state {
                state = .consumed
                return result
            }
            state = .waiting(continuation)
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func resume(with result: Result<Value, any Error>) {
        let waiting: CheckedContinuation<Value, any Error>? = state.withLock { state in
            switch state {
            case .idle:
                state = .finished(result)
                return nil
            case .waiting(let continuation):
                state = .consumed
                return continuation
            case .finished, .consumed:
                return nil
            }
        }
        waiting?.resume(with: result)
    }
}
