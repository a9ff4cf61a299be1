import IRC
import Testing

@Suite("Convenience constructors")
struct ConstructorTests {
    @Test("The lines a client sends during registration and in channels")
    func lines() throws {
        #expect(try IRCMessage.capabilityList().serializedString() == "CAP LS 302")
        #expect(try IRCMessage.capabilityRequest(["message-tags", "server-time", "sasl"]).serializedString()
            == "CAP REQ :message-tags server-time sasl")
        #expect(try IRCMessage.capabilityEnd().serializedString() == "CAP END")
        #expect(try IRCMessage.nick("switchboard").serializedString() == "NICK switchboard")
        #expect(try IRCMessage.user("sb", realName: "Switchboard Support").serializedString()
            == "USER sb 0 * :Switchboard Support")
        #expect(try IRCMessage.join(["#a", "#b"], keys: ["k"]).serializedString() == "JOIN #a,#b k")
        #expect(try IRCMessage.join("#nordbox").serializedString() == "JOIN #nordbox")
        #expect(try IRCMessage.part(["#a"], reason: "bye now").serializedString() == "PART #a :bye now")
        #expect(try IRCMessage.quit().serializedString() == "QUIT")
        #expect(try IRCMessage.who("#agents", whoxFields: "tcuhnfa", token: "152").serializedString()
            == "WHO #agents %tcuhnfa,152")
        #expect(try IRCMessage.mode("#a", "+o", arguments: ["bob"]).serializedString() == "MODE #a +o bob")
        #expect(try IRCMessage.topic("#a").serializedString() == "TOPIC #a")
        #expect(try IRCMessage.kick("#a", nick: "spam", reason: "no").serializedString() == "KICK #a spam no")
    }

    @Test("PONG answers a PING with its token")
    func pong() throws {
        let ping = try IRCMessage(parsing: "PING :irc.example.net")
        #expect(try IRCMessage.pong(answering: ping)?.serializedString() == "PONG irc.example.net")
        #expect(IRCMessage.pong(answering: IRCMessage.nick("x")) == nil)
    }

    @Test("SASL payloads go in 400-byte chunks, with + after an exact multiple of 400")
    func authenticateChunks() {
        #expect(IRCMessage.authenticate(base64Payload: "").map(\.parameters) == [["+"]])
        #expect(IRCMessage.authenticate(base64Payload: "abc").map(\.parameters) == [["abc"]])
        let exact = String(repeating: "A", count: 400)
        #expect(IRCMessage.authenticate(base64Payload: exact).map(\.parameters) == [[exact], ["+"]])
        let long = String(repeating: "B", count: 900)
        #expect(IRCMessage.authenticate(base64Payload: long).map { $0.parameters[0].count } == [400, 400, 100])
    }
}
