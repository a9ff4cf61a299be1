import IRC
import Testing

@Suite("Splitting long text into lines")
struct SplitterTests {
    /// About 2,000 characters of German support text with umlauts and ß.
    static let germanText: String = {
        let sentences = [
            "Sehr geehrte Damen und Herren, seit dem Firmware-Update auf Version 4.2 schlägt die nächtliche Sicherung",
            "unserer Dateiserver regelmäßig fehl.", "Die Übertragung zur NordBox Cloud bricht nach etwa zwölf Minuten ab,",
            "und im Protokoll erscheint die Meldung „Verbindung zurückgesetzt“.", "Außerdem können sich zwei Außendienst-",
            "mitarbeiter über NordBox Connect nicht mehr anmelden; die Zwei-Faktor-Prüfung läuft in eine Zeitüberschreitung.",
            "Wir haben die Datenträger geprüft: Alle vier Festplatten im RAID melden den Zustand „gesund“, aber die",
            "Wiederherstellung einzelner Dateien dauert ungewöhnlich lange.", "Könnten Sie bitte prüfen, ob das bekannte",
            "Problem mit der Größenberechnung bei großen Freigaben auch uns betrifft?", "Für Rückfragen erreichen Sie",
            "mich täglich zwischen acht und siebzehn Uhr.", "Vielen Dank für Ihre Mühe und freundliche Grüße aus Hamburg.",
        ]
        var text = ""
        var i = 0
        while text.count < 2000 {
            text += (text.isEmpty ? "" : " ") + sentences[i % sentences.count]
            i += 1
        }
        return String(text.prefix(2000))
    }()

    static func relayedLength(_ message: IRCMessage, prefix: Int) throws -> Int {
        prefix + (try message.serialized().count)
    }

    @Test("2,000 German characters: every line fits 512 bytes with a 100-byte prefix, is UTF-8, and reassembles")
    func germanText() throws {
        let text = Self.germanText
        #expect(text.count == 2000)
        let splitter = IRCLineSplitter()  // assumes the worst-case 100-byte prefix
        let messages = try splitter.split(text, target: "#nordbox-support")
        #expect(messages.count > 4)
        for message in messages {
            let bytes = try message.serialized()
            #expect(100 + bytes.count <= 512)
            // Valid UTF-8 on its own: decoding with validation succeeds.
            #expect(String(validating: bytes, as: UTF8.self) != nil)
            #expect(message.parameters.last?.isEmpty == false)
            #expect(message.command == .privmsg)
            // A receiving parser sees the same text.
            #expect(try IRCMessage(parsing: bytes) == message)
        }
        // Word boundaries: lines end at spaces here (no word is longer than a line).
        let segments = try splitter.segments(text, target: "#nordbox-support")
        #expect(segments.map(\.text) == messages.map { $0.parameters[1] })
        #expect(segments.dropFirst().allSatisfy { $0.separator == " " })
        #expect(IRCLineSplitter.reassemble(segments) == text)
        // Lines use the room they have: each but the last is close to the budget.
        let budget = splitter.textBudget(target: "#nordbox-support")
        for segment in segments.dropLast() {
            #expect(segment.text.utf8.count > budget - 30)
        }
    }

    @Test("The budget counts prefix, verb, target, ' :' and CR LF, and a line can be exactly 512 bytes")
    func exactBudget() throws {
        let splitter = IRCLineSplitter(relayPrefixLength: 100)
        let budget = splitter.textBudget(target: "#a")
        #expect(budget == 512 - 100 - 7 - 1 - 2 - 2 - 2)
        let text = String(repeating: "a", count: budget - 5) + " bbbb"  // exactly the budget, with a space
        let messages = try splitter.split(text, target: "#a")
        #expect(messages.count == 1)
        #expect(try Self.relayedLength(messages[0], prefix: 100) == 512)
        let over = text + "c"
        let two = try splitter.split(over, target: "#a")
        #expect(two.map { $0.parameters[1] } == [String(repeating: "a", count: budget - 5), "bbbbc"])
    }

    @Test("A word longer than a line is cut hard, on character boundaries, and nothing is lost")
    func longWord() throws {
        let splitter = IRCLineSplitter()
        let word = String(repeating: "ä", count: 700)  // 1,400 bytes, no space
        let segments = try splitter.segments("see " + word + " done", target: "#a")
        #expect(IRCLineSplitter.reassemble(segments) == "see " + word + " done")
        let budget = splitter.textBudget(target: "#a")
        for segment in segments {
            #expect(segment.text.utf8.count <= budget)
            #expect(!segment.text.isEmpty)
            #expect(segment.text.utf8.count % 2 == 0 || segment.text.hasPrefix("see") || segment.text.hasSuffix("done"))
        }
        #expect(segments.contains { $0.separator == "" && !$0.text.isEmpty && $0.text.first == "ä" })
    }

    @Test("Emoji grapheme clusters (ZWJ families, skin tones, flags) are never cut")
    func graphemes() throws {
        let clusters = ["👨‍👩‍👧‍👦", "👋🏽", "🇩🇪", "🏳️‍🌈", "e\u{301}"]  // e + combining accent
        let text = (0..<300).map { clusters[$0 % clusters.count] }.joined()
        let segments = try IRCLineSplitter(relayPrefixLength: 100).segments(text, target: "#a")
        #expect(segments.count > 1)
        #expect(IRCLineSplitter.reassemble(segments) == text)
        for segment in segments {
            // Every piece is whole clusters: its characters are all from the list.
            #expect(segment.text.allSatisfy { clusters.contains(String($0)) })
        }
    }

    @Test("A single grapheme cluster longer than a line is cut between scalars, never inside one")
    func hugeCluster() throws {
        let zalgo = "a" + String(repeating: "\u{0301}", count: 400)  // one Character, 801 bytes
        #expect(zalgo.count == 1)
        let segments = try IRCLineSplitter().segments(zalgo, target: "#a")
        #expect(segments.count >= 2)
        #expect(IRCLineSplitter.reassemble(segments) == zalgo)
        for segment in segments {
            #expect(String(validating: Array(segment.text.utf8), as: UTF8.self) != nil)
            #expect(!segment.text.isEmpty)
        }
    }

    @Test("Line breaks in the text become separate messages; blank lines and edge breaks are not sent")
    func lineBreaks() throws {
        let text = "\r\nFirst line\r\nsecond line\n\nthird\rfourth\n\n"
        let splitter = IRCLineSplitter()
        let messages = try splitter.split(text, target: "bob")
        #expect(messages.map { $0.parameters[1] } == ["First line", "second line", "third", "fourth"])
        let segments = try splitter.segments(text, target: "bob")
        #expect(segments.map(\.separator) == ["", "\r\n", "\n\n", "\r"])
        #expect(IRCLineSplitter.reassemble(segments) == "First line\r\nsecond line\n\nthird\rfourth")
        #expect(try splitter.split("\n\r\n", target: "bob").isEmpty)
        #expect(try splitter.split("", target: "bob").isEmpty)
    }

    @Test("A CTCP ACTION keeps its framing on every part, within the limit")
    func action() throws {
        let splitter = IRCLineSplitter()
        let text = String(repeating: "waves enthusiastically ", count: 60)
        let messages = try splitter.split(text, target: "#a", ctcpAction: true)
        #expect(messages.count > 1)
        var reassembled: [String] = []
        for message in messages {
            let ctcp = try #require(message.ctcp)
            #expect(ctcp.isAction)
            #expect(message.parameters[1].hasPrefix("\u{1}ACTION "))
            #expect(message.parameters[1].hasSuffix("\u{1}"))
            #expect(100 + (try message.serialized().count) <= 512)
            reassembled.append(ctcp.parameters)
        }
        #expect(reassembled.joined(separator: " ") == text)
    }

    @Test("NOTICE and a known own prefix: the budget follows the real prefix")
    func noticeWithKnownSource() throws {
        let source = IRCHostmask(nick: "switchboard", user: "~sb", host: "gateway.nordlicht.example")
        let splitter = IRCLineSplitter(source: source)
        #expect(splitter.relayPrefixLength == ":switchboard!~sb@gateway.nordlicht.example ".utf8.count)
        let text = String(repeating: "Hinweis ", count: 200)
        for message in try splitter.split(text, command: .notice, target: "alice") {
            #expect(message.command == .notice)
            let relayed = IRCMessage(source: .user(source), command: .notice, parameters: message.parameters)
            #expect(try relayed.serialized().count <= 512)
        }
    }

    @Test("NUL becomes a space and \\x01 is removed before splitting")
    func sanitising() throws {
        let messages = try IRCLineSplitter().split("a\u{0}b\u{1}c", target: "#a")
        #expect(messages.map { $0.parameters[1] } == ["a bc"])
    }

    @Test("A target that leaves no room is refused")
    func noRoom() {
        let target = "#" + String(repeating: "x", count: 420)
        #expect(throws: IRCSerializationError.self) { try IRCLineSplitter().split("hi", target: target) }
    }
}
