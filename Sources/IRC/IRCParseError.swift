/// Why one received line could not be parsed, and where.
///
/// The framer reports one `IRCParseError` per bad line and carries on with
/// the next line. ``offset`` is the byte offset into the line (without its
/// line ending) where the problem was found.
public struct IRCParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong with the line.
    public enum Reason: Sendable, Hashable {
        /// The line is empty (only `IRCMessage(parsing:)` reports this; the framer skips empty lines).
        case emptyLine
        /// The line is longer than the framer's limit; its bytes were dropped up to the next LF.
        case lineTooLong(length: Int, limit: Int)
        /// A NUL, CR or LF inside the line (RFC 1459 §2.3.1 forbids them in every part).
        case forbiddenByte(UInt8)
        /// `:` with no source after it.
        case emptySource
        /// No command after the tags and source.
        case missingCommand
        /// The command is neither letters nor a three-digit numeric.
        case invalidCommand(String)
    }

    /// What was wrong.
    public var reason: Reason { details.reason }
    /// Byte offset into the line where it was found.
    public var offset: Int { details.offset }
    /// The start of the offending line (at most 512 bytes, decoded as UTF-8
    /// or Latin-1), for the log. It may contain control characters.
    public var line: String { details.line }

    /// The fields sit behind one reference so that the framer's
    /// `Result<IRCMessage, IRCParseError>` is one word: a good line's result
    /// is then made, passed and destroyed as cheaply as the message alone
    /// (an inline error made every result a five-word multi-payload enum).
    private let details: Details

    private final class Details: Sendable {
        let reason: Reason
        let offset: Int
        let line: String

        init(reason: Reason, offset: Int, line: String) {
            self.reason = reason
            self.offset = offset
            self.line = line
        }
    }

    public init(_ reason: Reason, offset: Int, line: String) {
        details = Details(reason: reason, offset: offset, line: line)
    }

    init(_ reason: Reason, offset: Int, bytes: UnsafeBufferPointer<UInt8>) {
        self.init(reason, offset: offset, line: IRCText.decodeLine(UnsafeBufferPointer(rebasing: bytes.prefix(512))))
    }

    public static func == (lhs: IRCParseError, rhs: IRCParseError) -> Bool {
        lhs.reason == rhs.reason && lhs.offset == rhs.offset && lhs.line == rhs.line
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(reason)
        hasher.combine(offset)
        hasher.combine(line)
    }

    public var description: String {
        let what: String
        switch reason {
        case .emptyLine: what = "empty line"
        case .lineTooLong(let length, let limit):
            what = "line of at least \(length) bytes exceeds the limit of \(limit) bytes; dropped up to its LF"
        case .forbiddenByte(let byte):
            let name = byte == 0 ? "NUL" : byte == 0x0D ? "CR" : byte == 0x0A ? "LF" : "byte"
            what = "forbidden \(name) byte (0x\(String(byte, radix: 16, uppercase: true))) inside the line"
        case .emptySource: what = "':' with no source after it"
        case .missingCommand: what = "no command"
        case .invalidCommand(let verb): what = "invalid command \"\(verb)\" (must be letters or three digits)"
        }
        return "IRC line rejected at byte \(offset): \(what)"
    }
}
