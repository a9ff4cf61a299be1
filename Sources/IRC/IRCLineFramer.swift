/// Cuts a received byte stream into IRC lines and parses them, incrementally.
///
/// Feed it whatever the socket delivered (any split, including between CR
/// and LF) with ``append(_:)``, then take results with ``next()`` until it
/// returns nil. Lines end with CR LF or a bare LF (RFC 1459 §2.3 says CR LF;
/// modern.ircdocs.horse notes that bare LF must be accepted). Empty lines are
/// skipped. Every other line gives exactly one result: a message, or an
/// ``IRCParseError`` for that line alone — the stream always goes on.
///
/// A line longer than ``maximumLineLength`` (default: 8191 bytes of tags plus
/// 510 of body, IRCv3 message-tags + RFC 1459) gives one
/// ``IRCParseError/Reason/lineTooLong(length:limit:)`` error; its bytes are
/// dropped as they arrive up to its LF, so the buffer never holds more than
/// the limit plus the last chunk appended — as long as the caller drains
/// ``next()`` after each ``append(_:)``, as below.
///
/// ```swift
/// framer.append(bytesFromSocket)
/// while let result = framer.next() {
///     switch result {
///     case .success(let message): handle(message)
///     case .failure(let error): logger.log(.warning, "bad line", ["error": error])
///     }
/// }
/// ```
public struct IRCLineFramer: Sendable, IteratorProtocol {
    /// The longest line accepted, in bytes without its line ending.
    public let maximumLineLength: Int

    private var buffer: [UInt8] = []
    /// Start of the next unread line.
    private var readIndex = 0
    /// Bytes in `readIndex..<scanIndex` are known to contain no LF.
    private var scanIndex = 0
    /// Start of the incomplete line at the end of the buffer (after the last LF).
    private var tailStart = 0
    /// Dropping the rest of an overlong line until its LF.
    private var discarding = false
    /// Overlong lines cut from the buffer: the error is due when reading reaches `position`.
    private var overlong: [(position: Int, error: IRCParseError)] = []

    /// - Parameter maximumLineLength: bytes per line without CR LF; at least 512.
    public init(maximumLineLength: Int = IRCLimits.framedLineLength) {
        self.maximumLineLength = max(maximumLineLength, IRCLimits.lineLength)
    }

    /// Bytes held that have not been returned as lines yet.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Adds received bytes.
    @inlinable
    public mutating func append(_ bytes: some Collection<UInt8>) {
        if bytes.withContiguousStorageIfAvailable({ append(contiguous: $0) }) == nil {
            Array(bytes).withUnsafeBufferPointer { append(contiguous: $0) }
        }
    }

    @usableFromInline
    mutating func append(contiguous chunk: UnsafeBufferPointer<UInt8>) {
        var chunk = chunk
        if discarding {
            guard let lf = Self.firstLF(in: chunk, from: 0) else { return }
            discarding = false
            chunk = UnsafeBufferPointer(rebasing: chunk[(lf + 1)...])
        }
        if chunk.isEmpty { return }
        let oldCount = buffer.count
        buffer.append(contentsOf: chunk)
        if let lf = Self.lastLF(in: chunk) { tailStart = oldCount + lf + 1 }
        // +1: the line's CR may already be here while its LF is not.
        let tailLength = buffer.count - tailStart
        if tailLength > maximumLineLength + 1 {
            let error = buffer.withUnsafeBufferPointer { all in
                IRCParseError(.lineTooLong(length: tailLength, limit: maximumLineLength), offset: maximumLineLength,
                              bytes: UnsafeBufferPointer(rebasing: all[tailStart...]))
            }
            overlong.append((tailStart, error))
            buffer.removeSubrange(tailStart...)
            scanIndex = min(scanIndex, tailStart)
            discarding = true
        }
    }

    /// The next line's result, or nil when no complete line is buffered.
    public mutating func next() -> Result<IRCMessage, IRCParseError>? {
        nextLine { line, kind in
            do throws(IRCParseError) {
                // A line the LF search already found to be ASCII or UTF-8 needs no second scan.
                switch kind {
                case .ascii: return .success(try IRCParser.parseValidated(line, ascii: true))
                case .utf8: return .success(try IRCParser.parseValidated(line, ascii: false))
                case .unknown: return .success(try IRCParser.parse(line))
                }
            } catch {
                return .failure(error)
            }
        }
    }

    /// The next line's raw bytes (without its line ending), or the error for
    /// an overlong line; nil when no complete line is buffered.
    public mutating func nextRawLine() -> Result<[UInt8], IRCParseError>? {
        nextLine { line, _ in .success(Array(line)) }
    }

    /// `body` gets the line and what the search for its LF learnt about
    /// its bytes (see ``firstLFAndKind(in:from:)``).
    private mutating func nextLine<T>(
        _ body: (UnsafeBufferPointer<UInt8>, _ kind: LineKind) -> Result<T, IRCParseError>
    ) -> Result<T, IRCParseError>? {
        while true {
            if let first = overlong.first, first.position == readIndex {
                overlong.removeFirst()
                return .failure(first.error)
            }
            let found: (start: Int, end: Int, lf: Int, kind: LineKind)? = buffer.withUnsafeBufferPointer { all in
                // Bytes before scanIndex were only searched for an LF: the kind holds only if all is new.
                let fresh = scanIndex <= readIndex
                guard let (lf, kind) = Self.firstLFAndKind(in: all, from: max(scanIndex, readIndex)) else {
                    return nil
                }
                var end = lf
                if end > readIndex, all[end - 1] == 0x0D { end -= 1 }
                return (readIndex, end, lf, fresh ? kind : .unknown)
            }
            guard let found else {
                scanIndex = buffer.count
                compact()
                return nil
            }
            readIndex = found.lf + 1
            scanIndex = readIndex
            let length = found.end - found.start
            if length == 0 { continue }
            return buffer.withUnsafeBufferPointer { all in
                let line = UnsafeBufferPointer(rebasing: all[found.start..<found.end])
                if length > maximumLineLength {
                    return .failure(IRCParseError(.lineTooLong(length: length, limit: maximumLineLength),
                                                  offset: maximumLineLength, bytes: line))
                }
                return body(line, found.kind)
            }
        }
    }

    /// Moves the unread bytes to the front once everything complete was read.
    private mutating func compact() {
        guard readIndex > 0 else { return }
        let shift = readIndex
        if shift == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 65_536)
        } else {
            buffer.removeSubrange(0..<shift)
        }
        readIndex = 0
        scanIndex -= shift
        tailStart = max(0, tailStart - shift)
        for i in overlong.indices { overlong[i].position -= shift }
    }

    /// Index of the first LF at or after `from`, eight bytes at a time.
    @inline(__always)
    static func firstLF(in p: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        let n = p.count
        var i = from
        guard i < n else { return nil }
        let base = UnsafeRawPointer(p.baseAddress!)
        let lf = Bytes.broadcast(0x0A)
        // Sixteen bytes per step while neither word holds an LF (a line is some 100 bytes).
        while i + 16 <= n {
            let a = base.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ lf
            let b = base.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self) ^ lf
            if (Bytes.zeroMask(a) | Bytes.zeroMask(b)) != 0 { break }
            i += 16
        }
        while i + 8 <= n {
            let zeros = Bytes.zeroMask(base.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ lf)
            if zeros != 0 { return i + (zeros.trailingZeroBitCount >> 3) }
            i += 8
        }
        while i < n {
            if p[i] == 0x0A { return i }
            i += 1
        }
        return nil
    }

    /// What the LF search learnt about the bytes of a line.
    enum LineKind {
        /// ASCII without NUL or CR: ``IRCParser/scan(_:)`` would say `.ascii`.
        case ascii
        /// Valid UTF-8 without NUL or CR: `scan` would say `.utf8`.
        case utf8
        /// Not looked at (a NUL, a CR inside, not UTF-8, or scanned in an
        /// earlier call): the parser scans it.
        case unknown
    }

    /// The first LF at or after `from`, and what the bytes from `from` up
    /// to it (a CR right before it aside) are. One pass does both for the
    /// common line, so the parser need not scan it again; a line with a
    /// NUL, a lone CR or bytes that are not UTF-8 continues with
    /// ``firstLF(in:from:)`` and is `.unknown`.
    @inline(__always)
    static func firstLFAndKind(in p: UnsafeBufferPointer<UInt8>, from: Int) -> (Int, LineKind)? {
        let n = p.count
        var i = from
        guard i < n else { return nil }
        let base = UnsafeRawPointer(p.baseAddress!)
        var ascii = true
        // i: the first byte not yet classified.
        search: while true {
            // A run of plain bytes (at least 0x0E, below 0x80).
            while i + 16 <= n {
                let a = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                let b = base.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)
                if (Bytes.lessThanMask(a, 0x0E) | Bytes.lessThanMask(b, 0x0E) | ((a | b) & Bytes.highBits)) != 0 {
                    break
                }
                i += 16
            }
            while i + 8 <= n {
                let x = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                // The lowest flagged byte is a real one (lessThanMask flags falsely only above a real one).
                let special = Bytes.lessThanMask(x, 0x0E) | (x & Bytes.highBits)
                if special != 0 {
                    i += special.trailingZeroBitCount >> 3
                    break
                }
                i += 8
            }
            while i < n, p[i] >= 0x0E, p[i] < 0x80 { i += 1 }
            guard i < n else { return nil }
            let byte = p[i]
            if byte >= 0x80 {
                // A UTF-8 sequence never holds a CR or LF, so it ends before the line does.
                let length = IRCText.utf8SequenceLength(p, at: i)
                if length == 0 { break search }  // not UTF-8 (or not all here yet)
                ascii = false
                i += length
                continue search
            }
            if byte == 0x0A { return (i, ascii ? .ascii : .utf8) }
            if byte == 0x0D, i + 1 < n, p[i + 1] == 0x0A { return (i + 1, ascii ? .ascii : .utf8) }
            if byte == 0x00 || byte == 0x0D { break search }  // the parser reports it
            i += 1  // another control byte (a tab, mIRC colours): allowed
        }
        guard let lf = firstLF(in: p, from: i) else { return nil }
        return (lf, .unknown)
    }

    static func lastLF(in p: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = p.count
        while i > 0 {
            i -= 1
            if p[i] == 0x0A { return i }
        }
        return nil
    }
}
