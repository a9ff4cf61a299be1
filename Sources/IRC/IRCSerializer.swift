/// Why a message cannot be sent, and which part of it is wrong.
public struct IRCSerializationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The part of the message at fault.
    public enum Part: Sendable, Hashable, CustomStringConvertible {
        case tag(key: String)
        case source
        case command
        /// The parameter at this index (0-based).
        case parameter(Int)
        /// The whole line.
        case line

        public var description: String {
            switch self {
            case .tag(let key): "tag \"\(key)\""
            case .source: "source"
            case .command: "command"
            case .parameter(let index): "parameter \(index)"
            case .line: "line"
            }
        }
    }

    /// What is wrong with the message.
    public enum Reason: Sendable, Hashable {
        /// CR, LF or NUL: they would end or corrupt the line (RFC 1459 §2.3.1).
        case forbiddenByte(UInt8)
        /// A tag key that is empty or has characters outside `[+][vendor/]name`.
        case invalidTagKey
        /// The tag section exceeds 8191 bytes (IRCv3 message-tags "Size limit").
        case tagSectionTooLong(length: Int, limit: Int)
        /// An empty source, or one containing a space.
        case invalidSource
        /// The verb is neither letters nor three digits.
        case invalidCommand
        /// A middle parameter is empty, contains a space or starts with `:`:
        /// only the last parameter may (RFC 1459 §2.3.1 `<middle>`).
        case invalidMiddleParameter
        /// More than 15 parameters (RFC 1459 §2.3.1).
        case tooManyParameters(count: Int)
        /// The line without tags is longer than the limit, CR LF included.
        case lineTooLong(length: Int, limit: Int)
    }

    /// What is wrong.
    public let reason: Reason
    /// Where.
    public let part: Part
    /// The command of the message, for the error text.
    public let command: String

    public init(_ reason: Reason, part: Part, command: String) {
        self.reason = reason
        self.part = part
        self.command = command
    }

    public var description: String {
        let what: String
        switch reason {
        case .forbiddenByte(let byte):
            let name = byte == 0 ? "NUL" : byte == 0x0D ? "CR" : "LF"
            what = "contains a \(name) byte, which would end or corrupt the line"
        case .invalidTagKey: what = "is not a valid tag key ([+][vendor/]name of letters, digits, '-')"
        case .tagSectionTooLong(let length, let limit): what = "makes the tag section \(length) bytes (limit \(limit))"
        case .invalidSource: what = "is empty or contains a space"
        case .invalidCommand: what = "is neither letters nor three digits"
        case .invalidMiddleParameter:
            what = "is empty, contains a space or starts with ':' but is not the last parameter"
        case .tooManyParameters(let count): what = "has \(count) parameters (limit 15)"
        case .lineTooLong(let length, let limit): what = "is \(length) bytes with CR LF (limit \(limit))"
        }
        return "cannot send \(command): \(part) \(what)"
    }
}

extension IRCMessage {
    /// The message as bytes for the wire, CR LF included.
    ///
    /// Strict: throws rather than send anything that could change the line's
    /// meaning — CR, LF or NUL anywhere (tag values are escaped, but NUL has
    /// no escape), a middle parameter that is empty, has a space or starts
    /// with `:`, an invalid verb, tag key or source, more than 15 parameters,
    /// or a line longer than `lineLimit` bytes (tags not counted, CR LF
    /// counted; default 512, RFC 1459 §2.3; pass ISUPPORT `LINELEN` if
    /// larger). The last parameter gets a `:` exactly when it needs one:
    /// empty, containing a space, or starting with `:`.
    public func serialized(lineLimit: Int = IRCLimits.lineLength) throws(IRCSerializationError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 + parameters.reduce(0) { $0 + $1.utf8.count + 2 })
        try serialize(into: &bytes, lineLimit: lineLimit)
        return bytes
    }

    /// Appends the serialised line (CR LF included) to `bytes`; on error
    /// `bytes` is left as it was. See ``serialized(lineLimit:)``.
    public func serialize(into bytes: inout [UInt8], lineLimit: Int = IRCLimits.lineLength)
        throws(IRCSerializationError)
    {
        let start = bytes.count
        if let error = IRCSerializer.write(self, into: &bytes, validate: true, lineLimit: lineLimit) {
            bytes.removeSubrange(start...)
            throw error
        }
        bytes.append(0x0D)
        bytes.append(0x0A)
    }

    /// The serialised line as text without CR LF. Throws like ``serialized(lineLimit:)``.
    public func serializedString(lineLimit: Int = IRCLimits.lineLength) throws(IRCSerializationError) -> String {
        var bytes = try serialized(lineLimit: lineLimit)
        bytes.removeLast(2)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Checks that the message can be sent (see ``serialized(lineLimit:)``).
    public func validate(lineLimit: Int = IRCLimits.lineLength) throws(IRCSerializationError) {
        _ = try serialized(lineLimit: lineLimit)
    }
}

enum IRCSerializer {
    /// What a scan of appended bytes found.
    struct Scan {
        var hasSpace = false
        /// The first CR, LF or NUL, if any.
        var forbidden: UInt8?
    }

    /// Appends the UTF-8 of `text` to `bytes` and reports spaces and the
    /// first CR/LF/NUL (eight bytes at a time).
    @inline(__always)
    static func append(_ text: String, to bytes: inout [UInt8]) -> Scan {
        if let scan = text.utf8.withContiguousStorageIfAvailable({ p -> Scan in
            bytes.append(contentsOf: p)
            return scanBytes(p)
        }) {
            return scan
        }
        var copy = text
        return copy.withUTF8 { p in
            bytes.append(contentsOf: p)
            return scanBytes(p)
        }
    }

    static func scanBytes(_ p: UnsafeBufferPointer<UInt8>) -> Scan {
        var scan = Scan()
        let n = p.count
        guard n > 0 else { return scan }
        let base = UnsafeRawPointer(p.baseAddress!)
        var i = 0
        while i + 8 <= n {
            let x = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if Bytes.lessThanMask(x, 0x21) != 0 { break }  // a space or control byte: look closer
            i += 8
        }
        while i < n {
            switch p[i] {
            case 0x20: scan.hasSpace = true
            case 0x00, 0x0A, 0x0D:
                if scan.forbidden == nil { scan.forbidden = p[i] }
            default: break
            }
            i += 1
        }
        return scan
    }

    /// Checks received or built tag wire text without decoding it: every key
    /// valid, no NUL. Returns the offending key's text on failure.
    static func checkTags(_ text: String) -> (key: String, reason: IRCSerializationError.Reason)? {
        IRCTags.withBytes(text) { p in
            var offset = 0
            while offset < p.count {
                let segment = IRCTags.segment(p, at: offset)
                offset = segment.next
                let key = UnsafeBufferPointer(start: p.baseAddress! + segment.start, count: segment.keyEnd - segment.start)
                let keyText = { String(decoding: key, as: UTF8.self) }
                if key.isEmpty {
                    if segment.end > segment.start { return ("", .invalidTagKey) }  // "=value" without key
                    continue
                }
                if !IRCTags.isValidKey(key) { return (keyText(), .invalidTagKey) }
                if segment.valueStart >= 0 {
                    for i in segment.valueStart..<segment.end where p[i] == 0 { return (keyText(), .forbiddenByte(0)) }
                }
            }
            return nil
        }
    }

    /// Writes the line without CR LF. With `validate`, returns the first
    /// problem (leaving partial output for the caller to drop); without,
    /// writes everything as it is (for logs).
    static func write(_ message: IRCMessage, into bytes: inout [UInt8], validate: Bool,
                      lineLimit: Int = IRCLimits.lineLength) -> IRCSerializationError?
    {
        func fail(_ reason: IRCSerializationError.Reason, _ part: IRCSerializationError.Part) -> IRCSerializationError {
            IRCSerializationError(reason, part: part, command: message.command.verb)
        }

        // Read once: a parsed message makes its tags and source when asked.
        let tags = message.tags
        let tagText = tags.wireText
        if !tagText.isEmpty, !tags.isEmpty {
            if validate, let key = tags.invalidKey { return fail(.invalidTagKey, .tag(key: key)) }
            if validate, let (key, reason) = checkTags(tagText) { return fail(reason, .tag(key: key)) }
            bytes.append(0x40)
            _ = append(tagText, to: &bytes)
            bytes.append(0x20)
            let length = tagText.utf8.count + 2
            if validate, length > IRCLimits.tagSectionLength {
                return fail(.tagSectionTooLong(length: length, limit: IRCLimits.tagSectionLength), .line)
            }
        }
        let bodyStart = bytes.count

        if let source = message.source {
            bytes.append(0x3A)
            let sourceStart = bytes.count
            var scan: Scan
            switch source {
            case .server(let name):
                scan = append(name, to: &bytes)
            case .user(let mask):
                scan = append(mask.nick, to: &bytes)
                for (separator, part) in [(UInt8(0x21), mask.user), (UInt8(0x40), mask.host)] {
                    guard let part else { continue }
                    bytes.append(separator)
                    let partScan = append(part, to: &bytes)
                    scan.hasSpace = scan.hasSpace || partScan.hasSpace
                    scan.forbidden = scan.forbidden ?? partScan.forbidden
                }
            }
            if validate {
                if let byte = scan.forbidden { return fail(.forbiddenByte(byte), .source) }
                if scan.hasSpace || bytes.count == sourceStart { return fail(.invalidSource, .source) }
            }
            bytes.append(0x20)
        }

        switch message.command {
        case .other(let verb):
            if validate {
                var verb = verb
                if !verb.withUTF8({ IRCCommand.isValidVerb($0) }) { return fail(.invalidCommand, .command) }
            }
            bytes.append(contentsOf: verb.utf8)
        case .numeric(let numeric):
            let v = Int(numeric.rawValue)
            bytes.append(UInt8(0x30 + v / 100))
            bytes.append(UInt8(0x30 + v / 10 % 10))
            bytes.append(UInt8(0x30 + v % 10))
        default:
            bytes.append(contentsOf: message.command.verb.utf8)
        }

        let parameters = message.parameters
        let count = parameters.count
        if validate, count > IRCLimits.parameterCount {
            return fail(.tooManyParameters(count: count), .line)
        }
        for index in 0..<count {
            let isLast = index == count - 1
            let error = IRCTags.withBytes(parameters[index]) { p -> IRCSerializationError? in
                let scan = scanBytes(p)
                if validate, let byte = scan.forbidden { return fail(.forbiddenByte(byte), .parameter(index)) }
                bytes.append(0x20)
                if p.isEmpty || scan.hasSpace || p[0] == 0x3A {
                    if validate, !isLast { return fail(.invalidMiddleParameter, .parameter(index)) }
                    bytes.append(0x3A)
                }
                bytes.append(contentsOf: p)
                return nil
            }
            if let error { return error }
        }

        let length = bytes.count - bodyStart + 2
        if validate, length > lineLimit {
            return fail(.lineTooLong(length: length, limit: lineLimit), .line)
        }
        return nil
    }
}
