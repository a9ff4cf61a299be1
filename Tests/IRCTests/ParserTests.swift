import Foundation
import IRC
import Testing

@Suite("Parsing lines")
struct ParserTests {
    @Test("A line with tags, source, 15 parameters and emoji text round-trips byte for byte")
    func fullLineRoundTrip() throws {
        let middles = (1...13).map { "p\($0)" }.joined(separator: " ")
        let line = "@account=alice;msgid=AbC123;time=2025-03-01T12:34:56.789Z;+draft/reply=x\\sy "
            + ":alice!~alice@user/alice PRIVMSG #nordbox \(middles) :Grüße 👋🏽 — die NordBox 🙂 läuft wieder! 👨‍👩‍👧"
        let bytes = Array(line.utf8) + [0x0D, 0x0A]
        let message = try IRCMessage(parsing: bytes)
        #expect(message.parameters.count == 15)
        #expect(message.parameters.last == "Grüße 👋🏽 — die NordBox 🙂 läuft wieder! 👨‍👩‍👧")
        #expect(message.tags["+draft/reply"] == "x y")
        #expect(try message.serialized() == bytes)
    }

    @Test("Accessors: source nick, account, server-time as Date, command, parameters")
    func accessors() throws {
        let message = try IRCMessage(parsing:
            "@account=alice;time=2011-10-19T16:40:51.620Z :alice!~a@host.example PRIVMSG #help :hi there")
        #expect(message.source?.nick == "alice")
        #expect(message.source?.hostmask?.user == "~a")
        #expect(message.source?.hostmask?.host == "host.example")
        #expect(message.tags.account == "alice")
        #expect(message.tags.serverTime == Date(timeIntervalSince1970: 1_319_042_451.620))
        #expect(message.command == .privmsg)
        #expect(message.parameters == ["#help", "hi there"])
        #expect(message.trailing == "hi there")
    }

    @Test("A source with a dot and no !/@ is a server; a bare name is a nick")
    func sourceKinds() throws {
        #expect(try IRCMessage(parsing: ":irc.example.net NOTICE * :hello").source == .server("irc.example.net"))
        #expect(try IRCMessage(parsing: ":irc.example.net NOTICE * :hello").source?.nick == nil)
        #expect(try IRCMessage(parsing: ":coolguy PRIVMSG x :y").source?.nick == "coolguy")
    }

    @Test("Verbs: known ones typed case-insensitively, numerics as codes, others kept as spelled")
    func verbs() throws {
        #expect(try IRCMessage(parsing: "privmsg #a :b").command == .privmsg)
        #expect(try IRCMessage(parsing: ":s 433 * bot :in use").command == .numeric(.nicknameInUse))
        #expect(try IRCMessage(parsing: ":s 001 bot :Welcome").command.numeric == .welcome)
        #expect(try IRCMessage(parsing: ":s 999 bot :x").command == .numeric(999))
        #expect(try IRCMessage(parsing: "Foo bar").command == .other("Foo"))
        #expect(try IRCMessage(parsing: "authenticate +").command == .authenticate)
        #expect(try IRCMessage(parsing: ":s 005 bot :x").serializedString() == ":s 005 bot x")
    }

    @Test("Every typed command parses from its own verb, in upper and lower case")
    func typedCommandsRoundTrip() throws {
        let all: [IRCCommand] = [.privmsg, .notice, .join, .part, .quit, .nick, .ping, .pong, .cap, .authenticate,
                                 .account, .kick, .mode, .topic, .user, .who, .pass, .error, .away, .invite,
                                 .tagmsg, .batch, .chghost, .setname]
        for command in all {
            #expect(IRCCommand(command.verb) == command)
            #expect(IRCCommand(command.verb.lowercased()) == command)
            #expect(try IRCMessage(parsing: "\(command.verb) x").command == command)
        }
    }

    // Alone, a verb shorter than eight bytes is read byte by byte; with
    // parameters after it, as one word.
    @Test("A verb reads the same at the end of a line as with parameters after it")
    func verbAtEndAndBeforeParameters() throws {
        func command(_ line: String) -> String {
            do { return try "\(IRCMessage(parsing: line).command)" } catch { return "error: \(error.reason)" }
        }
        let known = ["PRIVMSG", "NOTICE", "JOIN", "PART", "QUIT", "NICK", "PING", "PONG", "CAP", "ACCOUNT", "KICK",
                     "MODE", "TOPIC", "USER", "WHO", "PASS", "ERROR", "AWAY", "INVITE", "TAGMSG", "BATCH", "CHGHOST",
                     "SETNAME"]
        var verbs: [String] = []
        for verb in known {
            let bytes = Array(verb.utf8)
            // Every mix of upper and lower case.
            for mask in 0..<(1 << bytes.count) {
                verbs.append(String(decoding: bytes.indices.map { mask >> $0 & 1 == 1 ? bytes[$0] | 0x20 : bytes[$0] },
                                    as: UTF8.self))
            }
            // One byte replaced by each printable ASCII byte: the neighbours of the letters
            // ('@', '[', '`', '{') must not be taken for them.
            for i in bytes.indices {
                for byte in UInt8(0x21)...0x7E where byte != 0x3A {
                    var changed = bytes
                    changed[i] = byte
                    verbs.append(String(decoding: changed, as: UTF8.self))
                }
            }
            verbs.append(verb + "S")
            verbs.append(String(verb.dropLast()))
        }
        var typed = 0
        for verb in verbs {
            let alone = command(":server \(verb)")
            #expect(command(":server \(verb) #channel :some text") == alone, "\(verb)")
            if known.contains(alone) { typed += 1 }
        }
        // Each known verb in all its case mixes, plus the replacements that spell it again.
        #expect(typed >= known.reduce(0) { $0 + 1 << $1.utf8.count })
    }

    @Test("Tag values are unescaped; an empty value and a missing value are the same")
    func tagEscapes() throws {
        let message = try IRCMessage(parsing: #"@a=b\\and\nk;c=72\s45;d=gh\:764;e;f=;g=x\r\y\ COMMAND"#)
        #expect(message.tags["a"] == "b\\and\nk")
        #expect(message.tags["c"] == "72 45")
        #expect(message.tags["d"] == "gh;764")
        #expect(message.tags["e"] == "")
        #expect(message.tags["f"] == "")
        #expect(message.tags["g"] == "x\ry")
        #expect(message.tags["missing"] == nil)
        #expect(message.tags.count == 6)
    }

    @Test("Received tags keep their exact text, order and duplicates when re-serialised")
    func tagWireTextIsKept() throws {
        let line = #"@b=2;a=1;b=3;c=;d=\q;e COMMAND"#
        let message = try IRCMessage(parsing: line)
        #expect(message.tags["b"] == "3")
        #expect(message.tags["d"] == "q")
        #expect(message.tags.wireText == #"b=2;a=1;b=3;c=;d=\q;e"#)
        #expect(try message.serializedString() == line)
        // Same meaning in another order and spelling: equal, though not byte-equal.
        let canonical = IRCMessage(tags: ["a": "1", "b": "3", "c": "", "d": "q", "e": ""], command: .other("COMMAND"))
        #expect(message == canonical)
        #expect(try canonical.serializedString() == "@a=1;b=3;c;d=q;e COMMAND")
    }

    @Test("Errors say what and where: NUL, CR inside a line, empty source, missing or invalid command")
    func errors() {
        func error(_ line: [UInt8]) -> IRCParseError? {
            do {
                _ = try IRCMessage(parsing: line)
                return nil
            } catch {
                return error
            }
        }
        let nul = error(Array("PRIVMSG #a :x".utf8) + [0] + Array("y".utf8))
        #expect(nul?.reason == .forbiddenByte(0))
        #expect(nul?.offset == 13)
        #expect(nul?.description.contains("byte 13") == true)
        let cr = error(Array("PRIVMSG #a :x\rQUIT".utf8))
        #expect(cr?.reason == .forbiddenByte(0x0D))
        #expect(cr?.offset == 13)
        #expect(error(Array(": PRIVMSG #a :x".utf8))?.reason == .emptySource)
        #expect(error(Array("@a=b :src".utf8))?.reason == .missingCommand)
        #expect(error(Array("@a=b :src".utf8))?.offset == 9)
        let invalid = error(Array(":src PRIV_MSG #a".utf8))
        #expect(invalid?.reason == .invalidCommand("PRIV_MSG"))
        #expect(invalid?.offset == 5)
        #expect(error([])?.reason == .emptyLine)
        #expect(error(Array("\r\n".utf8))?.reason == .emptyLine)
    }

    @Test("A line that is not UTF-8 is read as Latin-1, not dropped")
    func latin1Fallback() throws {
        // "Grüße" in Latin-1: ü = 0xFC, ß = 0xDF.
        let bytes = Array(":bob!b@h PRIVMSG #de :Gr".utf8) + [0xFC, 0xDF] + Array("e".utf8)
        let message = try IRCMessage(parsing: bytes)
        #expect(message.parameters.last == "Grüße")
        #expect(message.source?.nick == "bob")
    }

    @Test("Error offsets in a Latin-1 line count the original bytes")
    func latin1ErrorOffset() {
        let bytes: [UInt8] = [0xFC, 0xFC, 0x20, 0x21]  // "üü !" — command "üü" invalid
        #expect(throws: IRCParseError.self) { try IRCMessage(parsing: bytes) }
        do {
            _ = try IRCMessage(parsing: Array(":\u{FC}".utf8.map { $0 }) + [0x20, 0x24])
        } catch {
            #expect(error.reason == .invalidCommand("$"))
        }
        do {
            _ = try IRCMessage(parsing: [0x3A, 0xFC, 0xFC, 0x20, 0x24, 0x20, 0x78])
            Issue.record("should fail")
        } catch {
            #expect(error.reason == .invalidCommand("$"))
            #expect(error.offset == 4)
            #expect(error.line == ":üü $ x")
        }
    }

    @Test("Several spaces separate parts; trailing spaces after middle parameters are ignored")
    func tolerantSpacing() throws {
        let message = try IRCMessage(parsing: ":services.esper.net MODE #foo-bar +o foobar  ")
        #expect(message.parameters == ["#foo-bar", "+o", "foobar"])
        let spaced = try IRCMessage(parsing: "@a=b   :src   PRIVMSG   #c   :x  y")
        #expect(spaced.parameters == ["#c", "x  y"])
        #expect(try IRCMessage(parsing: "@ PING :x").tags.isEmpty)
    }

    @Test("IRCMessage(parsing:) accepts a String with or without its CR LF")
    func stringInput() throws {
        #expect(try IRCMessage(parsing: "PING :abc\r\n") == IRCMessage(command: .ping, parameters: ["abc"]))
        #expect(try IRCMessage(parsing: "PING :abc\n") == IRCMessage(command: .ping, parameters: ["abc"]))
        #expect(try IRCMessage(parsing: "PING abc") == IRCMessage(command: .ping, parameters: ["abc"]))
    }
}
