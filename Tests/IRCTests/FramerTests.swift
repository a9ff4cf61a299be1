import IRC
import Testing

@Suite("Framing a byte stream into lines")
struct FramerTests {
    static func drain(_ framer: inout IRCLineFramer) -> [Result<IRCMessage, IRCParseError>] {
        var results: [Result<IRCMessage, IRCParseError>] = []
        while let result = framer.next() { results.append(result) }
        return results
    }

    /// `stream` fed to a fresh framer in two pieces, cut before byte `cut`:
    /// every line it gave, and what it still holds.
    static func framed(_ stream: [UInt8], cutAt cut: Int) -> (results: [Result<IRCMessage, IRCParseError>], buffered: Int) {
        var framer = IRCLineFramer()
        framer.append(stream[..<cut])
        var results = drain(&framer)
        framer.append(stream[cut...])
        results += drain(&framer)
        return (results, framer.bufferedByteCount)
    }

    static func commands(_ results: [Result<IRCMessage, IRCParseError>]) -> [String] {
        results.map { result in
            switch result {
            case .success(let message): message.description
            case .failure(let error): "error: \(error.reason)"
            }
        }
    }

    @Test("Lines split at every possible byte, including between CR and LF, come out whole")
    func everySplitPoint() throws {
        let stream = Array("PING :a\r\n:s 001 bot :Welcome 👋\r\nPRIVMSG #c :x y\n".utf8)
        for cut in 0...stream.count {
            let (results, buffered) = Self.framed(stream, cutAt: cut)
            #expect(Self.commands(results) == ["PING a", ":s 001 bot :Welcome 👋", "PRIVMSG #c :x y"], "cut at \(cut)")
            #expect(buffered == 0)
        }
    }

    @Test("ASCII and UTF-8 lines (parsed without a second scan) and lines with a NUL, a CR inside, Latin-1 or control bytes give what parsing each line alone gives, wherever the stream is cut")
    func framedEqualsParsedAlone() {
        let lines: [[UInt8]] = [
            Array(":alice!~alice@host.example.net PRIVMSG #nordbox :a plain line longer than sixteen bytes".utf8),
            Array(":s NOTICE bot :tab\there and the rest of it".utf8),
            Array(":s PRIVMSG #c :Größe 👍 after a plain start of more than sixteen bytes".utf8),
            [0x3A, 0x73, 0x20, 0x50, 0x52, 0x49, 0x56, 0x4D, 0x53, 0x47, 0x20, 0x23, 0x63, 0x20, 0x3A, 0x47, 0x72, 0xF6,
             0xDF, 0x65],  // ":s PRIVMSG #c :Größe" in Latin-1
            Array("PRIVMSG #c :stray\rcarriage return inside".utf8),
            Array("PRIVMSG #c :a NUL \u{0} inside the text of the line".utf8),
            Array("PING :x".utf8),
            Array(": NOSOURCE after a colon".utf8),
        ]
        func describe(_ result: Result<IRCMessage, IRCParseError>) -> String {
            switch result {
            case .success(let message): message.description
            case .failure(let error): "error: \(error.reason) at \(error.offset)"
            }
        }
        var stream: [UInt8] = []
        var expected: [String] = []
        for (i, line) in lines.enumerated() {
            stream += line + (i % 2 == 0 ? [0x0D, 0x0A] : [0x0A])
            // A CR inside a line is refused by the parser (the framer splits only at LF).
            expected.append(describe(Result { () throws(IRCParseError) in try IRCMessage(parsing: line) }))
        }
        for cut in 0...stream.count {
            #expect(Self.framed(stream, cutAt: cut).results.map(describe) == expected, "cut at \(cut)")
        }
    }

    @Test("Byte by byte: CR LF and bare LF both end a line; empty lines are skipped")
    func byteByByte() {
        var framer = IRCLineFramer()
        var results: [Result<IRCMessage, IRCParseError>] = []
        for byte in Array("\r\n\nPING :1\r\n\r\n\nPING :2\nPING :3\r\n".utf8) {
            framer.append([byte])
            results += Self.drain(&framer)
        }
        #expect(Self.commands(results) == ["PING 1", "PING 2", "PING 3"])
    }

    @Test("A line without its LF yet is held back until the LF arrives")
    func partialLine() {
        var framer = IRCLineFramer()
        framer.append(Array("PING :abc\r".utf8))
        #expect(framer.next() == nil)
        #expect(framer.bufferedByteCount == 10)
        framer.append([0x0A])
        #expect(Self.commands(Self.drain(&framer)) == ["PING abc"])
    }

    @Test("One malformed line is one error; the lines around it still arrive")
    func malformedLineIsOneError() {
        var framer = IRCLineFramer()
        framer.append(Array("PING :1\r\n: BROKEN\r\nPING :2\r\nPRIV\u{0}MSG x\r\nPING :3\r\n".utf8))
        let results = Self.commands(Self.drain(&framer))
        #expect(results == ["PING 1", "error: emptySource", "PING 2", "error: forbiddenByte(0)", "PING 3"])
    }

    @Test("An overlong line is one error, dropped as it arrives; memory stays bounded; the next line parses")
    func overlongLine() {
        var framer = IRCLineFramer()
        let limit = framer.maximumLineLength
        framer.append(Array("PING :before\r\n".utf8))
        framer.append(Array("PRIVMSG #c :".utf8))
        var maxBuffered = 0
        for _ in 0..<200 {  // 200 × 1000 bytes, far over the limit, without an LF
            framer.append([UInt8](repeating: 0x61, count: 1000))
            maxBuffered = max(maxBuffered, framer.bufferedByteCount)
        }
        framer.append(Array("aaa\r\nPING :after\r\n".utf8))
        let results = Self.drain(&framer)
        #expect(maxBuffered <= limit + 1 + 1000)
        #expect(results.count == 3)
        #expect(Self.commands(results).first == "PING before")
        #expect(Self.commands(results).last == "PING after")
        guard case .failure(let error) = results[1], case .lineTooLong(_, let reportedLimit) = error.reason else {
            Issue.record("expected lineTooLong, got \(results[1])")
            return
        }
        #expect(reportedLimit == limit)
        #expect(error.line.hasPrefix("PRIVMSG #c :aaa"))
    }

    @Test("An overlong line that arrives whole in one chunk is also exactly one error")
    func overlongLineInOneChunk() {
        var framer = IRCLineFramer(maximumLineLength: 600)
        let long = "PRIVMSG #c :" + String(repeating: "x", count: 700)
        framer.append(Array("\(long)\r\nPING :ok\r\n".utf8))
        let results = Self.commands(Self.drain(&framer))
        #expect(results == ["error: lineTooLong(length: 712, limit: 600)", "PING ok"])
    }

    @Test("Two overlong lines in a row give two errors, in order")
    func twoOverlongLines() {
        var framer = IRCLineFramer(maximumLineLength: 512)
        framer.append([UInt8](repeating: 0x61, count: 600))
        framer.append(Array("\n".utf8))
        framer.append([UInt8](repeating: 0x62, count: 600))
        framer.append(Array("\nPING :z\n".utf8))
        let results = Self.drain(&framer)
        #expect(results.count == 3)
        #expect(Self.commands(results).last == "PING z")
    }

    @Test("Raw lines: the bytes of each line without its line ending")
    func rawLines() throws {
        var framer = IRCLineFramer()
        framer.append(Array("PING :a\r\n\nB\u{FF}\n".utf8))
        #expect(try framer.nextRawLine()?.get() == Array("PING :a".utf8))
        #expect(try framer.nextRawLine()?.get() == Array("B\u{FF}".utf8))
        #expect(framer.nextRawLine() == nil)
    }
}
