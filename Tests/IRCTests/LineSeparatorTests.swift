import IRC
import Testing

/// Issue 15: "U+0085 and U+2028 in a message split it into several lines …
/// Only CR/LF framing splits lines; other separators are text" (RFC 1459
/// §2.3: a message ends with CR LF; nothing else ends it). Swift's
/// `Character.isNewline` is true for NEL, LS, PS, VT and FF, so any code
/// that split on it would cut a customer's message; these tests pin down
/// that the IRC layer never does, in both directions.
@Suite("Only CR/LF frames lines: NEL, LS, PS, VT and FF are text")
struct LineSeparatorTests {
    static let separators: [(String, String)] = [
        ("U+0085 NEL", "\u{0085}"), ("U+2028 LS", "\u{2028}"), ("U+2029 PS", "\u{2029}"),
        ("VT", "\u{000B}"), ("FF", "\u{000C}"),
    ]

    @Test("Received: one line with the separator inside is one message with the separator kept")
    func framerKeepsSeparators() throws {
        for (name, separator) in Self.separators {
            let text = "first\(separator)second"
            var framer = IRCLineFramer()
            framer.append(Array(":alice!a@h PRIVMSG #help :\(text)\r\nPING :x\r\n".utf8))
            var messages: [IRCMessage] = []
            while let result = framer.next() { messages.append(try result.get()) }
            #expect(messages.count == 2, "\(name)")
            #expect(messages.first?.trailing == text, "\(name)")
            #expect(messages.last?.command == .ping, "\(name)")
        }
    }

    @Test("Sent: a text with the separator is one PRIVMSG carrying it, byte for byte")
    func splitterKeepsSeparators() throws {
        let splitter = IRCLineSplitter()
        for (name, separator) in Self.separators {
            let text = "Your ticket\(separator)#42 is open"
            let messages = try splitter.split(text, target: "alice")
            #expect(messages.count == 1, "\(name)")
            let line = try #require(messages.first).serialized()
            #expect(line == Array("PRIVMSG alice :\(text)\r\n".utf8), "\(name)")
            #expect(line.filter { $0 == 0x0A || $0 == 0x0D }.count == 2, "\(name)")
        }
    }

    @Test("Sent: CR, LF and CR LF still split, and a separator next to them stays in the text")
    func crlfStillSplits() throws {
        let segments = try IRCLineSplitter().segments("a\u{2028}b\r\nc\u{0085}\nd", target: "#c")
        #expect(segments.map(\.text) == ["a\u{2028}b", "c\u{0085}", "d"])
    }

    @Test("A long text with separators is cut by bytes, never at a separator because it is one")
    func longTextNotCutAtSeparators() throws {
        let word = String(repeating: "x", count: 30)
        let text = Array(repeating: word, count: 40).joined(separator: "\u{2028}")
        let segments = try IRCLineSplitter().segments(text, target: "#c")
        #expect(segments.count > 1)
        #expect(segments.allSatisfy { $0.separator == "" })  // no separator consumed: nothing lost
        #expect(IRCLineSplitter.reassemble(segments) == text)
    }
}
