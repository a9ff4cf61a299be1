import Testing
import IRC

/// A hostmask is held as one text with separator offsets; these check that
/// reading, changing and comparing its parts behave as for three fields.
@Suite("Hostmask parts")
struct HostmaskTests {
    @Test("Parts of a parsed source read back, absent separators give nil")
    func partsOfParsedMasks() throws {
        let full = IRCHostmask(parsing: "Schröder!~schr@nordlicht-7f3a9c.example.de")
        #expect(full.nick == "Schröder")
        #expect(full.user == "~schr")
        #expect(full.host == "nordlicht-7f3a9c.example.de")

        let noUser = IRCHostmask(parsing: "coolguy@127.0.0.1")
        #expect(noUser.nick == "coolguy" && noUser.user == nil && noUser.host == "127.0.0.1")
        let noHost = IRCHostmask(parsing: "coolguy!ag")
        #expect(noHost.nick == "coolguy" && noHost.user == "ag" && noHost.host == nil)
        let empty = IRCHostmask(parsing: "!@")
        #expect(empty.nick == "" && empty.user == "" && empty.host == "")

        let message = try IRCMessage(parsing: ":alice!a@host.example PRIVMSG #help :hi")
        #expect(message.source?.hostmask == IRCHostmask(nick: "alice", user: "a", host: "host.example"))
    }

    @Test("Changing one part keeps the others and the text follows")
    func mutation() {
        var mask = IRCHostmask(parsing: "alice!~a@old.example")
        mask.host = "new.example"
        #expect(mask.description == "alice!~a@new.example")
        mask.nick = "alice_"
        #expect(mask == IRCHostmask(nick: "alice_", user: "~a", host: "new.example"))
        mask.user = nil
        #expect(mask.description == "alice_@new.example" && mask.user == nil && mask.host == "new.example")
        mask.host = nil
        #expect(mask.description == "alice_" && mask.nick == "alice_")
    }

    @Test("Equal parts are equal and hash alike; the same text split differently is not equal")
    func equality() {
        let built = IRCHostmask(nick: "bob", user: "b", host: "h.example")
        let parsed = IRCHostmask(parsing: "bob!b@h.example")
        #expect(built == parsed)
        #expect(Set([built, parsed]).count == 1)
        // A nick holding a `!` (only possible when built from parts) is not the parsed split.
        let odd = IRCHostmask(nick: "bob!b", user: nil, host: "h.example")
        #expect(odd.description == parsed.description)
        #expect(odd != parsed)
        #expect(odd.nick == "bob!b" && odd.user == nil)
    }
}
