/// Parsing one IRC line into an ``IRCMessage``: a tolerant, byte-level parser.
///
/// Grammar (RFC 1459 §2.3.1, IRCv3 message-tags, modern.ircdocs.horse):
/// `['@' tags SPACE] [':' source SPACE] command {SPACE param} [SPACE ':' trailing]`.
///
/// Tolerance, following the irc-parser-tests vectors: parts may be separated
/// by several spaces (RFC 1459 says "one or more"); spaces after the last
/// middle parameter are ignored; a tab is not a separator; duplicate tag keys
/// are kept (lookup returns the last); a tag with an empty key is ignored; an
/// empty tag section (`@ CMD`) is no tags; more than 15 parameters are
/// accepted. A line that is not valid UTF-8 is decoded as Latin-1 (older
/// clients still send it), never dropped.
///
/// Refused, with an ``IRCParseError`` saying where: NUL, CR or LF inside the
/// line, `:` without a source, a missing command, a command that is neither
/// letters nor three digits.
extension IRCMessage {
    /// Parses one line. A single trailing LF or CR LF is allowed and ignored.
    public init(parsing line: String) throws(IRCParseError) {
        var line = line
        self = try line.withUTF8 { IRCMessage._parseLine($0) }.get()
    }

    /// Parses one line from bytes. A single trailing LF or CR LF is allowed and ignored.
    @inlinable
    public init(parsing bytes: some Collection<UInt8>) throws(IRCParseError) {
        let result = bytes.withContiguousStorageIfAvailable { IRCMessage._parseLine($0) }
            ?? Array(bytes).withUnsafeBufferPointer { IRCMessage._parseLine($0) }
        self = try result.get()
    }

    @usableFromInline
    static func _parseLine(_ p: UnsafeBufferPointer<UInt8>) -> Result<IRCMessage, IRCParseError> {
        do throws(IRCParseError) {
            return .success(try IRCParser.parseLine(p))
        } catch {
            return .failure(error)
        }
    }
}

enum IRCParser {
    static let space: UInt8 = 0x20

    /// Strips one trailing LF / CR LF, then parses.
    static func parseLine(_ p: UnsafeBufferPointer<UInt8>) throws(IRCParseError) -> IRCMessage {
        var n = p.count
        if n > 0, p[n - 1] == 0x0A { n -= 1 }
        if n > 0, p[n - 1] == 0x0D { n -= 1 }
        return try parse(UnsafeBufferPointer(rebasing: p[0..<n]))
    }

    /// Parses a line without its line ending.
    static func parse(_ p: UnsafeBufferPointer<UInt8>) throws(IRCParseError) -> IRCMessage {
        guard p.count > 0 else { throw IRCParseError(.emptyLine, offset: 0, bytes: p) }
        switch scan(p) {
        case .forbidden(let offset):
            throw IRCParseError(.forbiddenByte(p[offset]), offset: offset, bytes: p)
        case .ascii:
            return try parseValidated(p, ascii: true)
        case .utf8:
            return try parseValidated(p, ascii: false)
        case .notUTF8:
            // Not UTF-8: read the line as Latin-1 (RFC 1459 §2.2 leaves the encoding open).
            let utf8 = IRCText.latin1ToUTF8(p)
            let result = utf8.withUnsafeBufferPointer { q -> Result<IRCMessage, IRCParseError> in
                do throws(IRCParseError) {
                    return .success(try parseValidated(q, ascii: false))
                } catch {
                    return .failure(error)
                }
            }
            switch result {
            case .success(let message):
                return message
            case .failure(let error):
                // Report the offset into the original bytes, not the re-encoded ones.
                var original = 0
                var encoded = 0
                while original < p.count, encoded < error.offset {
                    encoded += p[original] < 0x80 ? 1 : 2
                    original += 1
                }
                throw IRCParseError(error.reason, offset: original, line: error.line)
            }
        }
    }

    enum ScanResult {
        /// All bytes ASCII.
        case ascii
        /// Valid UTF-8 with some non-ASCII bytes.
        case utf8
        /// Not valid UTF-8 (the line is read as Latin-1).
        case notUTF8
        /// A NUL, CR or LF at this offset.
        case forbidden(Int)
    }

    /// One pass over the line, eight bytes at a time where possible: finds
    /// the first NUL, CR or LF, and checks that the line is UTF-8.
    @inline(__always)
    static func scan(_ p: UnsafeBufferPointer<UInt8>) -> ScanResult {
        let n = p.count
        let base = UnsafeRawPointer(p.baseAddress!)
        var ascii = true
        var utf8 = true
        var i = 0
        // Sixteen plain ASCII bytes at a time (most of a line); the first
        // pair of words with a control or non-ASCII byte goes to the loop below.
        while i + 16 <= n {
            let a = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let b = base.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)
            if (Bytes.lessThanMask(a, 0x0E) | Bytes.lessThanMask(b, 0x0E) | ((a | b) & Bytes.highBits)) != 0 { break }
            i += 16
        }
        while i < n {
            if i + 8 <= n {
                let x = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                // No byte below 0x0E (so no NUL, LF, CR; rarer controls take the slow path).
                if Bytes.lessThanMask(x, 0x0E) == 0 {
                    let high = x & Bytes.highBits
                    if high == 0 {
                        i += 8
                        continue
                    }
                    // ASCII up to the first non-ASCII byte; check that sequence.
                    ascii = false
                    i += high.trailingZeroBitCount >> 3
                    if utf8 {
                        let length = IRCText.utf8SequenceLength(p, at: i)
                        if length > 0 {
                            i += length
                            continue
                        }
                        utf8 = false
                    }
                    i += 1
                    continue
                }
            }
            // Byte by byte: near the end, or a word holding a control byte.
            let end = min(i + 8, n)
            while i < end {
                let byte = p[i]
                if byte == 0x00 || byte == 0x0A || byte == 0x0D { return .forbidden(i) }
                if byte < 0x80 {
                    i += 1
                    continue
                }
                ascii = false
                if utf8 {
                    let length = IRCText.utf8SequenceLength(p, at: i)
                    if length > 0 {
                        i += length
                        continue
                    }
                    utf8 = false
                }
                i += 1
            }
        }
        return ascii ? .ascii : utf8 ? .utf8 : .notUTF8
    }

    /// Index of the first space in `from..<end`, or `end`.
    @inline(__always)
    static func firstSpace(_ p: UnsafeBufferPointer<UInt8>, from: Int, to end: Int) -> Int {
        var i = from
        let base = UnsafeRawPointer(p.baseAddress!)
        while i + 8 <= end {
            let zeros = Bytes.zeroMask(base.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ Bytes.broadcast(0x20))
            if zeros != 0 { return i + (zeros.trailingZeroBitCount >> 3) }
            i += 8
        }
        while i < end, p[i] != space { i += 1 }
        return i
    }

    /// Part of a line known to be valid UTF-8 (and ASCII when `ascii`).
    @inline(__always)
    static func string(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ ascii: Bool) -> String {
        IRCText.string(validated: UnsafeBufferPointer(start: p.baseAddress! + start, count: end - start), ascii: ascii)
    }

    /// Parses a line that is valid UTF-8 with no NUL, CR or LF. Inlined into
    /// ``parse(_:)`` so the message is built in its result, not copied there.
    @inline(__always)
    static func parseValidated(_ p: UnsafeBufferPointer<UInt8>, ascii: Bool) throws(IRCParseError) -> IRCMessage {
        let n = p.count
        var i = 0

        // Tags: '@' up to the first space, kept as bytes until read.
        var tagsStart = 0, tagsEnd = 0
        if p[0] == 0x40 {
            let end = firstSpace(p, from: 1, to: n)
            if end > 1 { (tagsStart, tagsEnd) = (1, end) }
            i = end
            while i < n, p[i] == space { i += 1 }
        }

        // Source: ':' up to the next space, kept as bytes until read.
        var sourceStart = 0, sourceEnd = 0
        if i < n, p[i] == 0x3A {
            let start = i + 1
            let end = firstSpace(p, from: start, to: n)
            guard end > start else { throw IRCParseError(.emptySource, offset: i, bytes: p) }
            (sourceStart, sourceEnd) = (start, end)
            i = end
            while i < n, p[i] == space { i += 1 }
        }

        // Command.
        guard i < n else { throw IRCParseError(.missingCommand, offset: i, bytes: p) }
        let verbStart = i
        while i < n, p[i] != space { i += 1 }
        let verb = UnsafeBufferPointer(start: p.baseAddress! + verbStart, count: i - verbStart)
        let command: IRCCommand
        if let known = IRCCommand(verbBytes: verb, eightReadable: verbStart + 8 <= n) {
            command = known
        } else if IRCCommand.isValidVerb(verb) {
            command = .other(string(p, verbStart, i, ascii))
        } else {
            throw IRCParseError(.invalidCommand(string(p, verbStart, i, ascii)), offset: verbStart, bytes: p)
        }

        // Parameters: their ranges are collected on the stack first, so the
        // array is allocated once at its final size.
        let parameters = withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * 16) { ranges -> [String] in
            var count = 0
            var j = i
            var overflow: [String] = []
            while true {
                while j < n, p[j] == space { j += 1 }
                if j >= n { break }
                let start: Int
                let end: Int
                if p[j] == 0x3A {
                    start = j + 1
                    end = n
                    j = n
                } else {
                    start = j
                    j = firstSpace(p, from: j, to: n)
                    end = j
                }
                if count < 16 {
                    ranges[2 * count] = start
                    ranges[2 * count + 1] = end
                } else {
                    overflow.append(string(p, start, end, ascii))  // more than 15: rare, tolerated
                }
                count += 1
            }
            func parameter(_ k: Int) -> String { string(p, ranges[2 * k], ranges[2 * k + 1], ascii) }
            // Up to four parameters (nearly every line) as an array literal:
            // one allocation of the exact size, without reserveCapacity's
            // generic growth path and the capacity check of each append.
            switch count {
            case 0: return []
            case 1: return [parameter(0)]
            case 2: return [parameter(0), parameter(1)]
            case 3: return [parameter(0), parameter(1), parameter(2)]
            case 4: return [parameter(0), parameter(1), parameter(2), parameter(3)]
            default:
                var parameters: [String] = []
                parameters.reserveCapacity(count)
                for k in 0..<min(count, 16) { parameters.append(parameter(k)) }
                if !overflow.isEmpty { parameters.append(contentsOf: overflow) }
                return parameters
            }
        }
        let base = p.baseAddress!
        return IRCMessage(command: command, parameters: parameters,
                          tags: UnsafeBufferPointer(start: base + tagsStart, count: tagsEnd - tagsStart),
                          source: UnsafeBufferPointer(start: base + sourceStart, count: sourceEnd - sourceStart),
                          ascii: ascii)
    }
}
