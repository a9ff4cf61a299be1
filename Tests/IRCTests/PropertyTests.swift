import Core
import IRC
import Testing

/// Random messages that the serializer accepts.
struct MessageGenerator {
    var random: SeededRandom

    static let textPieces = ["a", "Z", "0", "-", "_", "[", "]", "{", "}", "|", "\\", "^", "ä", "ö", "ü", "ß", "Ä",
                             "€", "🙂", "👨‍👩‍👧", "中", "é", "\u{2}", "\u{3}4", "\u{1F}", "/", ".", ",", "#", "!", "~",
                             "=", ";", "@", "+", "%", "*", "?", "'", "\"", "\t"]

    mutating func word(_ pieces: [String] = textPieces, length: ClosedRange<Int> = 1...12) -> String {
        (0..<(length.lowerBound + random.below(length.count))).map { _ in random.pick(pieces) }.joined()
    }

    mutating func middle() -> String {
        var word = word()
        if word.hasPrefix(":") { word = "x" + word }
        return word
    }

    mutating func trailing() -> String {
        switch random.below(6) {
        case 0: return ""
        case 1: return ":" + word()
        case 2: return " " + word() + "  "
        default:
            return (0..<(1 + random.below(8))).map { _ in word() }.joined(separator: random.pick([" ", "  ", " : "]))
        }
    }

    mutating func tags() -> IRCTags {
        let count = random.chance(40) ? 0 : random.below(6)
        let keyPieces = ["a", "b", "time", "account", "msgid", "x-1", "9"]
        var tags: [IRCTags.Tag] = []
        for _ in 0..<count {
            var key = word(keyPieces, length: 1...3)
            if random.chance(20) { key = "example.com/" + key }
            if random.chance(20) { key = "+" + key }
            let valuePieces = Self.textPieces + [" ", "\\", ";", "\r", "\n", "\\s", "\\:", "="]
            let value = random.chance(20) ? "" : word(valuePieces, length: 1...10)
            tags.append(IRCTags.Tag(key: key, value: value))
        }
        return IRCTags(tags)
    }

    mutating func source() -> IRCSource? {
        let namePieces = ["a", "b", "Z", "0", "[", "]", "{", "}", "|", "\\", "^", "_", "-", "`", "ä"]
        switch random.below(4) {
        case 0: return nil
        case 1: return .server(word(namePieces, length: 1...6) + ".example.net")
        case 2: return .user(IRCHostmask(nick: word(namePieces, length: 1...9)))
        default:
            let host = word(namePieces + [".", "/", ":"], length: 1...20)
            return .user(IRCHostmask(nick: word(namePieces, length: 1...9),
                                     user: "~" + word(namePieces, length: 0...8), host: host))
        }
    }

    mutating func command() -> IRCCommand {
        switch random.below(3) {
        case 0: return .numeric(IRCNumeric(rawValue: UInt16(random.below(1000)))!)
        case 1: return random.pick([.privmsg, .notice, .join, .part, .quit, .kick, .mode, .tagmsg, .cap, .who])
        default: return IRCCommand(word(["A", "b", "C", "d", "E", "x", "Y", "z"], length: 1...10))
        }
    }

    mutating func message() -> IRCMessage {
        let count = random.below(16)
        var parameters: [String] = (0..<max(0, count - 1)).map { _ in middle() }
        if count > 0 { parameters.append(random.chance(50) ? trailing() : middle()) }
        return IRCMessage(tags: tags(), source: source(), command: command(), parameters: parameters)
    }
}

@Suite("Properties over generated input (seeded, deterministic)")
struct PropertyTests {
    @Test("serialise then parse gives back the same message, and re-serialising gives the same bytes (4,000 cases)")
    func roundTrip() throws {
        var generator = MessageGenerator(random: SeededRandom(seed: 0x5EED_0001))
        var cases = 0
        for _ in 0..<4000 {
            let message = generator.message()
            let bytes = try message.serialized(lineLimit: 100_000)
            #expect(bytes.suffix(2) == [0x0D, 0x0A])
            #expect(bytes.dropLast(2).allSatisfy { $0 != 0x0D && $0 != 0x0A && $0 != 0 })
            let parsed = try IRCMessage(parsing: bytes)
            #expect(parsed == message, "\(message.description.debugDescription)")
            #expect(try parsed.serialized(lineLimit: 100_000) == bytes)
            cases += 1
        }
        #expect(cases == 4000)
    }

    /// The line results a correct framer must give: one per LF-terminated
    /// line that is not empty after removing one CR before the LF.
    static func expectedLineCount(_ stream: [UInt8]) -> Int {
        var count = 0
        var lineLength = 0
        var previous: UInt8 = 0
        for byte in stream {
            if byte == 0x0A {
                let length = previous == 0x0D ? lineLength - 1 : lineLength
                if length > 0 { count += 1 }
                lineLength = 0
            } else {
                lineLength += 1
            }
            previous = byte
        }
        return count
    }

    static func feed(_ stream: [UInt8], random: inout SeededRandom) -> [Result<IRCMessage, IRCParseError>] {
        var framer = IRCLineFramer()
        var results: [Result<IRCMessage, IRCParseError>] = []
        var offset = 0
        while offset < stream.count {
            let end = min(stream.count, offset + 1 + random.below(64))
            framer.append(stream[offset..<end])
            offset = end
            while let result = framer.next() { results.append(result) }
            #expect(framer.bufferedByteCount <= framer.maximumLineLength + 1 + 64)
        }
        return results
    }

    /// What every successful parse must satisfy.
    static func checkParsed(_ message: IRCMessage, lineLength: Int) {
        #expect(message.parameters.count <= lineLength)
        for parameter in message.parameters {
            #expect(!parameter.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 })
        }
        // Whatever parsed and re-serialises must parse back to the same message.
        if let bytes = try? message.serialized(lineLimit: 100_000) {
            #expect((try? IRCMessage(parsing: bytes)) == message)
        }
    }

    @Test("Random bytes never crash the framer or parser; each LF-terminated line gives exactly one result (3,000 streams)")
    func randomBytes() {
        var random = SeededRandom(seed: 0x5EED_0002)
        let interesting: [UInt8] = [0x20, 0x3A, 0x40, 0x3B, 0x3D, 0x5C, 0x0D, 0x0A, 0x00, 0x21, 0x2C, 0x01,
                                    0x80, 0xBF, 0xC3, 0xE2, 0xF0, 0xFF, 0x41, 0x61, 0x30]
        for _ in 0..<3000 {
            let length = random.below(400)
            let stream: [UInt8] = (0..<length).map { _ in
                random.chance(60) ? random.pick(interesting) : UInt8(truncatingIfNeeded: random.next())
            }
            let results = Self.feed(stream, random: &random)
            #expect(results.count == Self.expectedLineCount(stream))
            for case .success(let message) in results { Self.checkParsed(message, lineLength: stream.count) }
        }
    }

    @Test("Mutated valid lines: no crash, one result per line, and parsed results re-serialise consistently (3,000 streams)")
    func mutatedLines() throws {
        var generator = MessageGenerator(random: SeededRandom(seed: 0x5EED_0003))
        var random = SeededRandom(seed: 0x5EED_0004)
        let inserts: [UInt8] = [0x0D, 0x0A, 0x00, 0x20, 0x3A, 0x40, 0x3B, 0x5C, 0xFF, 0xC3]
        var successes = 0
        var failures = 0
        for _ in 0..<3000 {
            var stream: [UInt8] = []
            for _ in 0..<(1 + random.below(4)) {
                stream += try generator.message().serialized(lineLimit: 100_000)
            }
            for _ in 0..<(1 + random.below(4)) {
                let at = random.below(stream.count)
                switch random.below(4) {
                case 0: stream[at] = random.pick(inserts)
                case 1: stream.insert(random.pick(inserts), at: at)
                case 2: stream.remove(at: at)
                default: stream[at] ^= UInt8(1 << random.below(8))
                }
            }
            let results = Self.feed(stream, random: &random)
            #expect(results.count == Self.expectedLineCount(stream))
            for result in results {
                switch result {
                case .success(let message):
                    successes += 1
                    Self.checkParsed(message, lineLength: stream.count)
                case .failure(let error):
                    failures += 1
                    #expect(error.offset >= 0)
                    #expect(!error.description.isEmpty)
                }
            }
        }
        // Both paths were exercised.
        #expect(successes > 1000)
        #expect(failures > 100)
    }
}
