import IRC
import Testing

@Suite("Serialising messages")
struct SerializerTests {
    @Test("The trailing ':' is added exactly when the last parameter is empty, has a space or starts with ':'")
    func trailingColon() throws {
        func line(_ parameters: [String]) throws -> String {
            try IRCMessage(command: .privmsg, parameters: parameters).serializedString()
        }
        #expect(try line(["#a", "word"]) == "PRIVMSG #a word")
        #expect(try line(["#a", "two words"]) == "PRIVMSG #a :two words")
        #expect(try line(["#a", ""]) == "PRIVMSG #a :")
        #expect(try line(["#a", ":)"]) == "PRIVMSG #a ::)")
        #expect(try line(["#a", "a:b"]) == "PRIVMSG #a a:b")
        #expect(try IRCMessage(command: .quit).serializedString() == "QUIT")
    }

    @Test("serialized() ends with CR LF and contains no other CR or LF")
    func lineEnding() throws {
        let bytes = try IRCMessage.privmsg(to: "#a", text: "hello").serialized()
        #expect(bytes == Array("PRIVMSG #a hello\r\n".utf8))
    }

    @Test("Tag values are escaped; empty values are written as bare keys")
    func tagEscaping() throws {
        let message = IRCMessage(tags: ["+draft/reply": "a; b\\c\r\n", "label": ""], command: .tagmsg,
                                 parameters: ["#a"])
        #expect(try message.serializedString() == #"@+draft/reply=a\:\sb\\c\r\n;label TAGMSG #a"#)
        #expect(try IRCMessage(parsing: message.serializedString()) == message)
    }

    @Test("Middle parameters that are empty, contain a space or start with ':' are refused, naming the parameter")
    func badMiddleParameters() {
        for bad in ["", "a b", ":x"] {
            let message = IRCMessage(command: .privmsg, parameters: [bad, "text"])
            #expect(throws: IRCSerializationError(.invalidMiddleParameter, part: .parameter(0), command: "PRIVMSG")) {
                try message.serialized()
            }
        }
    }

    @Test("CR, LF and NUL are refused wherever they are: parameters, source, verb, tag values")
    func forbiddenBytes() {
        for byte in ["\r", "\n", "\u{0}"] {
            #expect(throws: IRCSerializationError.self) {
                try IRCMessage(command: .privmsg, parameters: ["#a", "x\(byte)QUIT :bye"]).serialized()
            }
            #expect(throws: IRCSerializationError.self) {
                try IRCMessage(source: .server("irc\(byte).example"), command: .ping, parameters: ["x"]).serialized()
            }
            #expect(throws: IRCSerializationError.self) {
                try IRCMessage(command: .other("PING\(byte)QUIT"), parameters: ["x"]).serialized()
            }
        }
        // CR and LF in tag values are escaped, NUL cannot be.
        #expect(throws: IRCSerializationError(.forbiddenByte(0), part: .tag(key: "k"), command: "TAGMSG")) {
            try IRCMessage(tags: ["k": "a\u{0}b"], command: .tagmsg, parameters: ["#a"]).serialized()
        }
        #expect(throws: IRCSerializationError.self) {
            try IRCMessage(tags: ["bad key": "v"], command: .tagmsg, parameters: ["#a"]).serialized()
        }
        // A key cannot smuggle a second tag either: keys have no escapes, so it is refused.
        var tags = IRCTags()
        tags.append(key: "a;account", value: "admin")
        #expect(throws: IRCSerializationError(.invalidTagKey, part: .tag(key: "a;account"), command: "TAGMSG")) {
            try IRCMessage(tags: tags, command: .tagmsg, parameters: ["#a"]).serialized()
        }
    }

    @Test("Limits: more than 15 parameters, or more than 512 bytes with CR LF, are refused")
    func limits() throws {
        #expect(throws: IRCSerializationError(.tooManyParameters(count: 16), part: .line, command: "MODE")) {
            try IRCMessage(command: .mode, parameters: (1...16).map { "p\($0)" }).serialized()
        }
        let fits = IRCMessage(command: .privmsg, parameters: ["#a", String(repeating: "x", count: 499)])  // "PRIVMSG #a " + 499 + CR LF
        #expect(try fits.serialized().count == 512)
        let tooLong = IRCMessage(command: .privmsg, parameters: ["#a", String(repeating: "x", count: 500)])
        #expect(throws: IRCSerializationError(.lineTooLong(length: 513, limit: 512), part: .line, command: "PRIVMSG")) {
            try tooLong.serialized()
        }
        #expect(try tooLong.serialized(lineLimit: 1024).count == 513)
    }

    @Test("A failed serialize(into:) leaves the buffer as it was")
    func serializeIntoIsAtomic() throws {
        var buffer = Array("PING a\r\n".utf8)
        #expect(throws: IRCSerializationError.self) {
            try IRCMessage(command: .privmsg, parameters: ["#a", "x\ny"]).serialize(into: &buffer)
        }
        #expect(buffer == Array("PING a\r\n".utf8))
        try IRCMessage.pong("b").serialize(into: &buffer)
        #expect(buffer == Array("PING a\r\nPONG b\r\n".utf8))
    }

    @Test("description shows refused bytes visibly, for logs")
    func logDescription() {
        let message = IRCMessage(command: .privmsg, parameters: ["#a", "x\r\ny"])
        #expect(message.description == "PRIVMSG #a x\u{240D}\u{240A}y")
    }

    @Test("Errors name the command, the part and the problem")
    func errorText() {
        let error = IRCSerializationError(.forbiddenByte(0x0A), part: .parameter(1), command: "PRIVMSG")
        #expect(error.description == "cannot send PRIVMSG: parameter 1 contains a LF byte, which would end or corrupt the line")
    }
}

@Suite("User text can never start a second line")
struct InjectionTests {
    static let attack = "hello\r\nQUIT :x"
    static let attacks = [attack, "hello\nQUIT :x", "hello\rQUIT :x", "a\u{0}\r\nQUIT :x\r\n", "\r\nQUIT :x", "\u{1}DCC SEND x\u{1}"]

    /// Splits wire bytes into lines; every line must end in CR LF and hold no other CR, LF or NUL.
    static func wireLines(_ bytes: [UInt8]) -> [String] {
        var lines: [String] = []
        var current: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 0x0D {
                #expect(i + 1 < bytes.count && bytes[i + 1] == 0x0A, "CR not followed by LF")
                lines.append(String(decoding: current, as: UTF8.self))
                current = []
                i += 2
                continue
            }
            #expect(byte != 0x0A, "bare LF on the wire")
            #expect(byte != 0x00, "NUL on the wire")
            current.append(byte)
            i += 1
        }
        #expect(current.isEmpty, "bytes after the last CR LF")
        return lines
    }

    static func assertNoInjection(_ bytes: [UInt8], expectedLines: Int? = nil, verb: String = "PRIVMSG") {
        let lines = wireLines(bytes)
        if let expectedLines { #expect(lines.count == expectedLines) }
        for line in lines {
            #expect(line.hasPrefix("\(verb) "), "unexpected line \(line.debugDescription)")
            if verb != "QUIT" { #expect(!line.hasPrefix("QUIT")) }
        }
        // And the receiving side agrees: every line parses as the intended command.
        var framer = IRCLineFramer()
        framer.append(bytes)
        while let result = framer.next() {
            #expect((try? result.get().command.verb) == verb)
        }
    }

    @Test("privmsg/notice/part/quit/topic/kick/away constructors: one line each, no QUIT")
    func constructors() throws {
        for text in Self.attacks {
            Self.assertNoInjection(try IRCMessage.privmsg(to: "#a", text: text).serialized(), expectedLines: 1)
            Self.assertNoInjection(try IRCMessage.notice(to: "bob", text: text).serialized(), expectedLines: 1,
                                   verb: "NOTICE")
            Self.assertNoInjection(try IRCMessage.part(["#a"], reason: text).serialized(), expectedLines: 1, verb: "PART")
            Self.assertNoInjection(try IRCMessage.topic("#a", text: text).serialized(), expectedLines: 1, verb: "TOPIC")
            Self.assertNoInjection(try IRCMessage.kick("#a", nick: "b", reason: text).serialized(), expectedLines: 1,
                                   verb: "KICK")
            Self.assertNoInjection(try IRCMessage.away(text).serialized(), expectedLines: 1, verb: "AWAY")
            Self.assertNoInjection(try IRCMessage.quit(reason: text).serialized(), expectedLines: 1, verb: "QUIT")
            Self.assertNoInjection(try IRCMessage.action(to: "#a", text: text).serialized(), expectedLines: 1)
            Self.assertNoInjection(
                try IRCMessage.ctcpReply(to: "b", CTCP(command: "VERSION", parameters: text)).serialized(),
                expectedLines: 1, verb: "NOTICE")
        }
    }

    @Test("The sanitised text is what the user wrote, with the line breaks as spaces and no CTCP marker")
    func sanitisedText() {
        #expect(IRCMessage.privmsg(to: "#a", text: Self.attack).parameters == ["#a", "hello  QUIT :x"])
        #expect(IRCMessage.privmsg(to: "#a", text: "\u{1}VERSION\u{1}").parameters.last == "VERSION")
        #expect(IRCMessage.privmsg(to: "#a", text: "plain").ctcp == nil)
    }

    @Test("The strict serializer refuses the raw text instead of sending it")
    func serializer() {
        for text in Self.attacks where text.contains("\r") || text.contains("\n") {
            #expect(throws: IRCSerializationError.self) {
                try IRCMessage(command: .privmsg, parameters: ["#a", text]).serialized()
            }
        }
    }

    @Test("An attacker-controlled target cannot smuggle a command either")
    func target() {
        #expect(throws: IRCSerializationError.self) {
            try IRCMessage.privmsg(to: "#a\r\nQUIT", text: "hi").serialized()
        }
        #expect(throws: IRCSerializationError.self) {
            try IRCLineSplitter().split("hi", target: "#a\r\nQUIT :x")
        }
        #expect(throws: IRCSerializationError.self) {
            try IRCMessage.join(["#a\nQUIT"]).serialized()
        }
    }

    @Test("The splitter turns each pasted line into its own PRIVMSG, never a QUIT")
    func splitter() throws {
        for text in Self.attacks {
            var bytes: [UInt8] = []
            for message in try IRCLineSplitter().split(text, target: "#a") {
                try message.serialize(into: &bytes)
            }
            Self.assertNoInjection(bytes)
            for message in try IRCLineSplitter().split(text, target: "#a", ctcpAction: true) {
                try message.serialize(into: &bytes)
            }
            Self.assertNoInjection(bytes)
        }
        let messages = try IRCLineSplitter().split(Self.attack, target: "#a")
        #expect(messages.map(\.parameters) == [["#a", "hello"], ["#a", "QUIT :x"]])
    }
}
