/// Splits text into PRIVMSG/NOTICE lines that fit the 512-byte line limit
/// *as relayed*: the server puts `:nick!user@host ` in front of what we
/// send, and the whole relayed line, CR LF included, must fit (RFC 1459
/// §2.3; tags do not count, IRCv3 message-tags).
///
/// Rules, in order:
/// 1. Line breaks (CR LF, CR, LF) end a line: a pasted multi-line text
///    becomes several messages, never a second command. Empty lines are not
///    sent; line breaks at the start and end of the text are dropped.
/// 2. NUL becomes a space and `\x01` is removed (``IRCText/sanitizedLine(_:)``).
/// 3. A line too long for the budget is split at the last space that fits;
///    that one space is consumed. A word longer than a whole line is cut at
///    the last grapheme-cluster boundary that fits (a cluster longer than a
///    line, at a Unicode scalar boundary). No piece is ever cut inside a
///    UTF-8 sequence, and no piece is empty.
/// 4. With `ctcpAction`, every piece is wrapped in `\x01ACTION …\x01`.
///
/// Reassembly: joining every ``Segment``'s ``Segment/separator`` and
/// ``Segment/text`` in order gives back the text after rule 2, without
/// leading and trailing line breaks (``reassemble(_:)``).
public struct IRCLineSplitter: Sendable {
    /// The commands whose text can be split.
    public enum Command: Sendable, Hashable {
        case privmsg, notice

        var ircCommand: IRCCommand { self == .privmsg ? .privmsg : .notice }
    }

    /// One line's text and what was consumed between it and the previous one.
    public struct Segment: Sendable, Hashable {
        /// What the splitter consumed before this text: `""` (hard cut or
        /// first line), `" "` (a word boundary), or the line break(s).
        public var separator: String
        /// The text sent as one message (without any CTCP framing).
        public var text: String
    }

    /// Bytes of `:nick!user@host ` (colon and space included) the server adds.
    public var relayPrefixLength: Int
    /// The line limit, CR LF included (ISUPPORT `LINELEN`, default 512).
    public var lineLimit: Int

    /// - Parameter relayPrefixLength: our `:nick!user@host ` length when
    ///   known; by default the assumed worst case, 100 bytes.
    public init(relayPrefixLength: Int = IRCLimits.assumedRelayPrefixLength, lineLimit: Int = IRCLimits.lineLength) {
        self.relayPrefixLength = relayPrefixLength
        self.lineLimit = lineLimit
    }

    /// A splitter for our own source as the server shows it (from the 001
    /// reply, a WHOX on ourselves, or CHGHOST).
    public init(source: IRCHostmask, lineLimit: Int = IRCLimits.lineLength) {
        self.init(relayPrefixLength: source.description.utf8.count + 2, lineLimit: lineLimit)
    }

    /// The text bytes one message may carry.
    public func textBudget(command: Command = .privmsg, target: String, ctcpAction: Bool = false) -> Int {
        // ":prefix " + VERB + " " + target + " :" + text + "\r\n"
        let verb = command.ircCommand.verb.utf8.count
        let framing = ctcpAction ? 9 : 0  // "\x01ACTION " + "\x01"
        return lineLimit - relayPrefixLength - verb - 1 - target.utf8.count - 2 - 2 - framing
    }

    /// The messages for `text` (see the type's rules). Throws when `target`
    /// is not a valid middle parameter or leaves no room for text.
    public func split(_ text: String, command: Command = .privmsg, target: String, ctcpAction: Bool = false)
        throws(IRCSerializationError) -> [IRCMessage]
    {
        try segments(text, command: command, target: target, ctcpAction: ctcpAction).map { segment in
            let payload = ctcpAction ? "\u{1}ACTION " + segment.text + "\u{1}" : segment.text
            return IRCMessage(command: command.ircCommand, parameters: [target, payload])
        }
    }

    /// The pieces `split` sends, with what was consumed between them.
    public func segments(_ text: String, command: Command = .privmsg, target: String, ctcpAction: Bool = false)
        throws(IRCSerializationError) -> [Segment]
    {
        func fail(_ reason: IRCSerializationError.Reason, _ part: IRCSerializationError.Part) -> IRCSerializationError {
            IRCSerializationError(reason, part: part, command: command.ircCommand.verb)
        }
        let targetBytes = Array(target.utf8)
        if let bad = targetBytes.first(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
            throw fail(.forbiddenByte(bad), .parameter(0))
        }
        if targetBytes.isEmpty || targetBytes.contains(0x20) || targetBytes.first == 0x3A {
            throw fail(.invalidMiddleParameter, .parameter(0))
        }
        let budget = textBudget(command: command, target: target, ctcpAction: ctcpAction)
        // Four bytes hold any Unicode scalar, so progress is always possible.
        guard budget >= 4 else {
            throw fail(.lineTooLong(length: lineLimit - budget + 4, limit: lineLimit), .line)
        }
        return Self.segments(text, budget: budget)
    }

    /// Joins segments back into text: each separator, then each text.
    public static func reassemble(_ segments: [Segment]) -> String {
        segments.map { $0.separator + $0.text }.joined()
    }

    // MARK: Splitting

    static func segments(_ text: String, budget: Int) -> [Segment] {
        // The common case, one line that fits with nothing to sanitise (a bot's
        // answer line): one read of the bytes, no copy (issue 12, the send path).
        if !text.isEmpty, text.utf8.count <= budget,
           !text.utf8.contains(where: { $0 <= 0x01 || $0 == 0x0D || $0 == 0x0A }) {
            return [Segment(separator: "", text: text)]
        }
        var segments: [Segment] = []
        var pendingBreaks = ""
        for (paragraph, lineBreak) in paragraphs(sanitized(text)) {
            if paragraph.isEmpty {
                if !segments.isEmpty { pendingBreaks += lineBreak }
                continue
            }
            split(paragraph[...], budget: budget, firstSeparator: pendingBreaks, into: &segments)
            pendingBreaks = lineBreak
        }
        return segments
    }

    /// NUL → space, `\x01` removed; line breaks kept (they are split on next).
    static func sanitized(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0 || $0 == 1 }) else { return text }
        return String(decoding: text.utf8.compactMap { $0 == 0 ? 0x20 : $0 == 1 ? nil : $0 }, as: UTF8.self)
    }

    /// Lines and the line break that ended each (`""` for the last).
    static func paragraphs(_ text: String) -> [(String, String)] {
        var result: [(String, String)] = []
        let bytes = Array(text.utf8)
        var start = 0
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 0x0D || byte == 0x0A {
                let breakLength = byte == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A ? 2 : 1
                result.append((String(decoding: bytes[start..<i], as: UTF8.self),
                               String(decoding: bytes[i..<(i + breakLength)], as: UTF8.self)))
                i += breakLength
                start = i
            } else {
                i += 1
            }
        }
        result.append((String(decoding: bytes[start...], as: UTF8.self), ""))
        return result
    }

    /// Splits one line (no line breaks) into pieces of at most `budget` UTF-8 bytes.
    static func split(_ line: Substring, budget: Int, firstSeparator: String, into segments: inout [Segment]) {
        var rest = line
        var separator = firstSeparator
        while !rest.isEmpty {
            if rest.utf8.count <= budget {
                segments.append(Segment(separator: separator, text: String(rest)))
                return
            }
            // Walk grapheme clusters while they fit; remember the last space
            // (a space cluster after the first character, so no piece is empty).
            var bytes = 0
            var index = rest.startIndex
            var fitEnd = rest.startIndex
            var lastSpace: String.Index?
            while index < rest.endIndex {
                let character = rest[index]
                let size = character.utf8.count
                if bytes + size > budget {
                    if character == " ", index > rest.startIndex { lastSpace = index }
                    break
                }
                if character == " ", index > rest.startIndex { lastSpace = index }
                bytes += size
                index = rest.index(after: index)
                fitEnd = index
            }
            if let space = lastSpace {
                segments.append(Segment(separator: separator, text: String(rest[..<space])))
                separator = " "
                rest = rest[rest.index(after: space)...]
            } else if fitEnd > rest.startIndex {
                segments.append(Segment(separator: separator, text: String(rest[..<fitEnd])))
                separator = ""
                rest = rest[fitEnd...]
            } else {
                // One grapheme cluster larger than a line: cut between its scalars.
                var end = rest.startIndex
                var size = 0
                for scalarIndex in rest.unicodeScalars.indices {
                    let scalarSize = UTF8.width(rest.unicodeScalars[scalarIndex])
                    if size + scalarSize > budget { break }
                    size += scalarSize
                    end = rest.unicodeScalars.index(after: scalarIndex)
                }
                segments.append(Segment(separator: separator, text: String(rest.unicodeScalars[..<end])))
                separator = ""
                rest = Substring(rest.unicodeScalars[end...])
            }
        }
    }
}
