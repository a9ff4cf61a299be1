import Glibc

/// Splits a byte stream into lines: bytes up to a line feed (LF, 0x0A).
///
/// IRC lines end with CR LF (RFC 1459 §2.3, RFC 2812 §2.3), but servers and
/// clients in the wild also send a bare LF, so LF is the terminator and a CR
/// right before it is removed too (`stripsCarriageReturn`, default on). A CR
/// elsewhere, and NUL, stay in the line: rejecting them is the IRC layer's
/// job. Lines are raw bytes, not decoded text: IRC has no fixed encoding.
///
/// `maxLineLength` bounds what a peer can make us buffer: a line whose
/// content (without its terminator) is longer throws
/// `TransportError.lineTooLong`, at the latest once `maxLineLength + 2` bytes
/// have arrived without an LF. After that error the framer is unusable.
public struct LineFramer: Sendable {
    /// The longest line content accepted, in bytes, CR LF / LF not counted.
    public let maxLineLength: Int
    /// Whether a CR before the LF is removed (default: yes).
    public let stripsCarriageReturn: Bool

    private var buffer: [UInt8] = []
    /// Bytes before `start` are consumed.
    private var start = 0
    /// Bytes from `start` up to `scanned` are known to hold no LF.
    private var scanned = 0

    public init(maxLineLength: Int = 8192, stripsCarriageReturn: Bool = true) {
        precondition(maxLineLength > 0, "maxLineLength must be positive")
        self.maxLineLength = maxLineLength
        self.stripsCarriageReturn = stripsCarriageReturn
    }

    /// Bytes received but not yet returned as a line.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
            scanned = 0
        } else if start >= 4096 && start * 2 >= buffer.count {
            buffer.removeFirst(start)
            scanned -= start
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete line without its terminator, or nil until more
    /// bytes arrive. Throws `TransportError.lineTooLong` (with `operation`
    /// `"read line"`) for a line beyond the limit.
    public mutating func nextLine() throws -> [UInt8]? {
        let end = buffer.count
        let found: Int? = buffer.withUnsafeBytes { raw in
            guard scanned < end, let base = raw.baseAddress else { return nil }
            guard let hit = memchr(base + scanned, 0x0A, end - scanned) else { return nil }
            return base.distance(to: UnsafeRawPointer(hit))
        }
        guard let lineFeed = found else {
            scanned = end
            if end - start > maxLineLength + 1 {
                throw TransportError.lineTooLong(operation: "read line", limit: maxLineLength)
            }
            return nil
        }
        var contentEnd = lineFeed
        if stripsCarriageReturn && contentEnd > start && buffer[contentEnd - 1] == 0x0D { contentEnd -= 1 }
        guard contentEnd - start <= maxLineLength else {
            throw TransportError.lineTooLong(operation: "read line", limit: maxLineLength)
        }
        let line = Array(buffer[start..<contentEnd])
        start = lineFeed + 1
        scanned = start
        return line
    }
}
