import IRC
import Testing

/// A parsed message keeps its tag section and source as the line's bytes and
/// makes them when read; these tests hold it to the same value semantics as a
/// message built from parts.
@Suite("Parsed messages as values")
struct MessageStorageTests {
    @Test("A parsed message equals, hashes and serialises like the same message built from parts")
    func parsedEqualsBuilt() throws {
        let parsed = try IRCMessage(parsing: "@account=alice;msgid=x1 :alice!~a@host.example PRIVMSG #help :hi there")
        let built = IRCMessage(tags: ["account": "alice", "msgid": "x1"],
                               source: .user(IRCHostmask(nick: "alice", user: "~a", host: "host.example")),
                               command: .privmsg, parameters: ["#help", "hi there"])
        #expect(parsed == built)
        #expect(parsed.hashValue == built.hashValue)
        #expect(Set([parsed, built]).count == 1)
        #expect(try parsed.serialized() == built.serialized())
    }

    @Test("Messages that differ only in source or tags are not equal")
    func differingLazyParts() throws {
        let a = try IRCMessage(parsing: ":alice!~a@host PRIVMSG #help :hi")
        let b = try IRCMessage(parsing: ":alice!~a@other PRIVMSG #help :hi")
        let c = try IRCMessage(parsing: "@account=alice :alice!~a@host PRIVMSG #help :hi")
        let d = try IRCMessage(parsing: "PRIVMSG #help :hi")
        #expect(a != b)
        #expect(a != c)
        #expect(a != d)
        #expect(d.source == nil)
        #expect(d.tags.isEmpty)
    }

    @Test("A server source and an empty tag section read back as such")
    func serverSourceAndEmptyTags() throws {
        let message = try IRCMessage(parsing: "@ :irc.example.net 001 switchboard :Welcome")
        #expect(message.source == .server("irc.example.net"))
        #expect(message.tags == IRCTags())
        #expect(message.command == .numeric(1))
        #expect(message == IRCMessage(source: .server("irc.example.net"), command: .numeric(1),
                                      parameters: ["switchboard", "Welcome"]))
    }

    @Test("Setting each part of a parsed message changes that part only, and the copy it came from not at all")
    func settersOnParsed() throws {
        let original = try IRCMessage(parsing: "@time=2025-03-01T12:00:00.000Z :bob!~b@h NOTICE #x :text")
        var changed = original
        changed.parameters[1] = "other text"
        #expect(changed.parameters == ["#x", "other text"])
        #expect(changed.source == original.source)
        #expect(changed.tags == original.tags)
        #expect(changed.command == .notice)
        #expect(original.parameters == ["#x", "text"])

        changed.source = .server("irc.example.net")
        changed.tags = ["account": "bob"]
        changed.command = .privmsg
        #expect(try changed.serialized() == Array("@account=bob :irc.example.net PRIVMSG #x :other text\r\n".utf8))
        #expect(try original.serialized()
            == Array("@time=2025-03-01T12:00:00.000Z :bob!~b@h NOTICE #x text\r\n".utf8))
    }

    @Test("A Latin-1 source is read as Latin-1 when asked for, after the line was parsed")
    func latin1Source() throws {
        // "Jürgen" in Latin-1: 0xFC is not UTF-8.
        let bytes: [UInt8] = Array(":J".utf8) + [0xFC] + Array("rgen!~j@host PRIVMSG #x :gr".utf8) + [0xFC] + Array("n".utf8)
        let message = try IRCMessage(parsing: bytes)
        #expect(message.source?.nick == "Jürgen")
        #expect(message.parameters == ["#x", "grün"])
    }
}
