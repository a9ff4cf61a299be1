import Testing
import Transport

/// Line framing (RFC 1459 §2.3 / RFC 2812 §2.3: lines end in CR LF; a bare
/// LF is accepted too), fed chunk by chunk with no I/O.
@Suite struct LineFramerTests {
    @Test func reassemblesALineSplitAcrossChunks() throws {
        var framer = LineFramer()
        framer.append(bytes("PING :ab"))
        #expect(try framer.nextLine() == nil)
        framer.append(bytes("c\r"))
        #expect(try framer.nextLine() == nil)
        framer.append(bytes("\nPRIVMSG #help :hi\r\n"))
        #expect(text(try framer.nextLine()) == "PING :abc")
        #expect(text(try framer.nextLine()) == "PRIVMSG #help :hi")
        #expect(try framer.nextLine() == nil)
        #expect(framer.bufferedByteCount == 0)
    }

    @Test func acceptsCRLFAndBareLFAndKeepsOtherCRs() throws {
        var framer = LineFramer()
        framer.append(bytes("one\r\ntwo\n\r\nthree\rstill three\r\n"))
        #expect(text(try framer.nextLine()) == "one")
        #expect(text(try framer.nextLine()) == "two")
        #expect(text(try framer.nextLine()) == "")
        #expect(text(try framer.nextLine()) == "three\rstill three")
    }

    @Test func keepsTheCarriageReturnWhenAskedTo() throws {
        var framer = LineFramer(stripsCarriageReturn: false)
        framer.append(bytes("a\r\n"))
        #expect(text(try framer.nextLine()) == "a\r")
    }

    @Test func aLineAtTheLimitPassesAndOneBeyondFails() throws {
        var framer = LineFramer(maxLineLength: 10)
        framer.append(bytes(String(repeating: "x", count: 10) + "\r\n"))
        #expect(try framer.nextLine()?.count == 10)
        framer.append(bytes(String(repeating: "y", count: 11) + "\n"))
        #expect(throws: TransportError.lineTooLong(operation: "read line", limit: 10)) { try framer.nextLine() }
    }

    @Test func anUnterminatedFloodFailsWithoutWaitingForALineFeed() throws {
        var framer = LineFramer(maxLineLength: 100)
        framer.append([UInt8](repeating: 0x61, count: 101))  // may still be 100 + CR
        #expect(try framer.nextLine() == nil)
        framer.append([0x61])
        #expect(throws: TransportError.self) { try framer.nextLine() }
    }

    @Test func manyLinesThroughOneFramerKeepTheBufferSmall() throws {
        var framer = LineFramer(maxLineLength: 512)
        var seen = 0
        for index in 0..<20_000 {
            framer.append(bytes(":server 372 bot :line \(index)\r\n:ser"))
            framer.append(bytes("ver PING\r\n"))
            while try framer.nextLine() != nil { seen += 1 }
            #expect(framer.bufferedByteCount == 0)
        }
        #expect(seen == 40_000)
    }
}
