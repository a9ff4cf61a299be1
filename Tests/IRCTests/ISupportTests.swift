import IRC
import Testing

@Suite("ISUPPORT (005)")
struct ISupportTests {
    static let lines = [
        ":irc.example.net 005 sb CASEMAPPING=rfc1459 CHANTYPES=# PREFIX=(qaohv)~&@%+ NICKLEN=30 CHANNELLEN=50 :are supported by this server",
        ":irc.example.net 005 sb TOPICLEN=390 LINELEN=2048 WHOX NETWORK=Nordlicht\\x20Net MODES=4 TARGMAX=PRIVMSG:4,NOTICE:4,JOIN: CHANMODES=beI,k,l,imnpst :are supported by this server",
    ]

    static func parsed() throws -> ISupport {
        var isupport = ISupport()
        for line in lines { isupport.apply(try IRCMessage(parsing: line)) }
        return isupport
    }

    @Test("Tokens from several 005 lines, with typed accessors")
    func accessors() throws {
        let isupport = try Self.parsed()
        #expect(isupport.caseMapping == .rfc1459)
        #expect(isupport.channelTypes == "#")
        #expect(isupport.prefixes.map(\.mode) == ["q", "a", "o", "h", "v"])
        #expect(isupport.prefixCharacters == "~&@%+")
        #expect(isupport.nickLength == 30)
        #expect(isupport.channelLength == 50)
        #expect(isupport.topicLength == 390)
        #expect(isupport.lineLength == 2048)
        #expect(isupport.supportsWHOX)
        #expect(isupport.network == "Nordlicht Net")
        #expect(isupport.modesPerCommand == 4)
        #expect(isupport.maximumTargets(for: .privmsg) == 4)
        #expect(isupport.maximumTargets(for: .join) == nil)
        #expect(isupport.channelModes.list == "beI")
        #expect(isupport.channelModes.noParameter == "imnpst")
        #expect(isupport["whox"] == "")
        #expect(isupport["NOPE"] == nil)
    }

    @Test("Prefix characters pair with modes as `prefixes` does, also for a malformed PREFIX")
    func prefixCharactersFollowPrefixes() {
        for value in ["(ov)@+", "(qaohv)~&@%+", "(ov)@", "(o)@+", "()", "(ov", "ov)@+", ""] {
            let isupport = ISupport(tokens: ["PREFIX=" + value])
            #expect(isupport.prefixCharacters == String(isupport.prefixes.map(\.prefix)), "PREFIX=\(value)")
        }
        #expect(ISupport(tokens: ["PREFIX=(ov)@"]).prefixCharacters == "@")
        #expect(ISupport(tokens: ["PREFIX=(o)@+"]).prefixCharacters == "@")
    }

    @Test("Defaults when the server says nothing")
    func defaults() {
        let isupport = ISupport()
        #expect(isupport.caseMapping == .rfc1459)
        #expect(isupport.channelTypes == "#&")
        #expect(isupport.prefixCharacters == "@+")
        #expect(isupport.lineLength == 512)
        #expect(!isupport.supportsWHOX)
        #expect(isupport.nickLength == nil)
    }

    @Test("-TOKEN withdraws; a later value replaces; an unknown case mapping is treated as ascii")
    func updates() throws {
        var isupport = try Self.parsed()
        isupport.apply(tokens: ["-WHOX", "NICKLEN=16", "CASEMAPPING=rfc8265"])
        #expect(!isupport.supportsWHOX)
        #expect(isupport.nickLength == 16)
        #expect(isupport.caseMapping == .ascii)
        #expect(isupport["CASEMAPPING"] == "rfc8265")
    }

    @Test("Other messages are ignored")
    func otherMessages() throws {
        var isupport = ISupport()
        isupport.apply(try IRCMessage(parsing: ":s 004 sb irc.example.net ngircd-27 abc defg"))
        #expect(isupport == ISupport())
    }
}
