import Glibc

/// Every error the Transport target throws (besides `CancellationError`).
///
/// Each case says what was being done and with whom (`operation`, e.g.
/// `"connect to 127.0.0.1:6667"`), and `description` renders one line a person
/// can act on:
///
///     connect to 127.0.0.1:6667: Connection refused (errno 111)
///     TLS handshake with 127.0.0.1:6697 as irc.example: certificate verify failed: hostname mismatch
///
/// System errors capture `errno` and its `strerror` text at the point where
/// the call failed.
public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed with `errno`; `message` is its `strerror` text.
    case system(operation: String, errno: Int32, message: String)
    /// Name resolution (`getaddrinfo`) failed; `code` is the `EAI_*` value and
    /// `message` its `gai_strerror` text.
    case nameResolution(host: String, code: Int32, message: String)
    /// The operation did not complete within `after`.
    case timedOut(operation: String, after: Duration)
    /// This side closed the connection or listener (`close()`) before or
    /// while the operation waited.
    case closed(operation: String)
    /// The peer ended the stream where more data was required (for example
    /// in the middle of the TLS handshake).
    case unexpectedEndOfStream(operation: String)
    /// A line grew beyond `limit` bytes without a line feed. The line
    /// sequence ends with this error; the stream is no longer in sync and
    /// should be closed.
    case lineTooLong(operation: String, limit: Int)
    /// TLS failed. `reason` is OpenSSL's account (the error queue text, or
    /// `"certificate verify failed: <verify result>"`); `verifyResult` is the
    /// certificate verification result text (`X509_verify_cert_error_string`)
    /// when verification is what failed, such as `"hostname mismatch"` or
    /// `"self-signed certificate"`.
    case tls(operation: String, reason: String, verifyResult: String?)
    /// Every address the host name resolved to was tried and each failed;
    /// `attempts` holds the failures in the order tried.
    case allAddressesFailed(host: String, port: UInt16, attempts: [TransportError])
    /// An argument cannot work (a listener host that is not a numeric
    /// address, a descriptor that is not a stream socket, ...).
    case invalidArgument(operation: String, reason: String)

    /// A `.system` error for `errno` (default: the current thread's), with its
    /// `strerror` text captured now.
    public static func posix(_ operation: String, errno code: Int32 = Glibc.errno) -> TransportError {
        .system(operation: operation, errno: code, message: errorText(code))
    }

    /// The `errno` of a `.system` error, else `nil`.
    public var errno: Int32? {
        if case .system(_, let code, _) = self { return code }
        return nil
    }

    /// Whether this is a `.timedOut` error.
    public var isTimeout: Bool {
        if case .timedOut = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .system(let operation, let code, let message):
            return "\(operation): \(message) (errno \(code))"
        case .nameResolution(let host, let code, let message):
            return "resolve \(host): \(message) (EAI \(code))"
        case .timedOut(let operation, let after):
            return "\(operation): timed out after \(after)"
        case .closed(let operation):
            return "\(operation): the connection was closed by this side"
        case .unexpectedEndOfStream(let operation):
            return "\(operation): the peer closed the connection unexpectedly"
        case .lineTooLong(let operation, let limit):
            return "\(operation): line longer than \(limit) bytes without a line feed"
        case .tls(let operation, let reason, _):
            return "\(operation): \(reason)"
        case .allAddressesFailed(let host, let port, let attempts):
            let each = attempts.map(\.description).joined(separator: "; ")
            return "connect to \(host):\(port): all \(attempts.count) addresses failed: \(each)"
        case .invalidArgument(let operation, let reason):
            return "\(operation): \(reason)"
        }
    }
}

/// `strerror` text for an errno value (thread-safe `strerror_r`, XSI variant).
func errorText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard strerror_r(code, &buffer, buffer.count) == 0 else { return "Unknown error \(code)" }
    return string(fromCString: buffer)
}

/// The text of a NUL-terminated C string in `buffer` (UTF-8, repaired if invalid).
func string(fromCString buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
