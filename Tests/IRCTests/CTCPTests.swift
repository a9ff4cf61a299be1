import IRC
import Testing

@Suite("CTCP")
struct CTCPTests {
    @Test("ACTION, VERSION and PING are recognised in PRIVMSG and NOTICE")
    func parsing() throws {
        let action = try IRCMessage(parsing: ":a!b@c PRIVMSG #x :\u{1}ACTION waves at everyone\u{1}")
        #expect(action.ctcp == CTCP.action("waves at everyone"))
        #expect(action.ctcp?.isAction == true)
        let version = try IRCMessage(parsing: ":a!b@c PRIVMSG sb :\u{1}VERSION\u{1}")
        #expect(version.ctcp == CTCP(command: "VERSION"))
        let ping = try IRCMessage(parsing: ":a!b@c PRIVMSG sb :\u{1}ping 1234 5678")  // closing \x01 may be missing
        #expect(ping.ctcp == CTCP(command: "PING", parameters: "1234 5678"))
        #expect(try IRCMessage(parsing: ":a!b@c PRIVMSG sb :hello").ctcp == nil)
        #expect(try IRCMessage(parsing: ":a!b@c PRIVMSG sb :\u{1}\u{1}").ctcp == nil)
        #expect(try IRCMessage(parsing: ":a!b@c JOIN :\u{1}ACTION x\u{1}").ctcp == nil)
    }

    @Test("Replies go as NOTICE; encoded parameters cannot carry \\x01 or line breaks")
    func replies() throws {
        let reply = IRCMessage.ctcpReply(to: "alice", CTCP(command: "ping", parameters: "1234"))
        #expect(try reply.serializedString() == "NOTICE alice :\u{1}PING 1234\u{1}")
        let hostile = CTCP(command: "VERSION", parameters: "x\u{1}\r\nQUIT :y")
        #expect(hostile.encoded == "\u{1}VERSION x  QUIT :y\u{1}")
        #expect(try IRCMessage.action(to: "#a", text: "nods").serializedString() == "PRIVMSG #a :\u{1}ACTION nods\u{1}")
    }
}
