import Foundation
import Testing
@testable import KB

// TEMPORARY (kbdict16): the scanner of de9cff0, to show the new one passes the same segments.
enum OldScanner {
    static func forEachSegment(in bytes: UnsafeBufferPointer<UInt8>,
                               _ body: (_ german: [ArraySlice<UInt8>], _ english: [ArraySlice<UInt8>]) -> Void) -> BilingualDictionary.Counts {
        var counts = BilingualDictionary.Counts()
        var lineStart = 0
        var scratch: [UInt8] = []
        var germans: [ArraySlice<UInt8>] = []
        var englishes: [ArraySlice<UInt8>] = []
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            defer { lineStart = lineEnd + 1 }
            var end = lineEnd
            if end > lineStart, bytes[end - 1] == 0x0D { end -= 1 }
            var first = lineStart
            while first < end, bytes[first] == 0x20 || bytes[first] == 0x09 { first += 1 }
            if first == end || bytes[first] == 0x23 { continue }  // blank, or # comment
            counts.lines += 1
            // The one " :: ".
            var separator = -1
            var separators = 0
            var i = lineStart
            while i + 3 < end {
                if bytes[i] == 0x20, bytes[i + 1] == 0x3A, bytes[i + 2] == 0x3A, bytes[i + 3] == 0x20 {
                    separators += 1
                    separator = i
                    i += 4
                } else {
                    i += 1
                }
            }
            guard separators == 1 else { counts.malformed += 1; continue }
            let german = segments(bytes, lineStart, separator)
            let english = segments(bytes, separator + 4, end)
            guard german.count == english.count else { counts.malformed += 1; continue }
            for (g, e) in zip(german, english) {
                germans.removeAll(keepingCapacity: true)
                englishes.removeAll(keepingCapacity: true)
                scratch.removeAll(keepingCapacity: true)
                for raw in rawSynonyms(bytes, g) where BilingualDictionary.isNoun(bytes, raw) {
                    let text = BilingualDictionary.withoutAnnotations(bytes, raw, into: &scratch)
                    var a = text.lowerBound, b = text.upperBound
                    while a < b, scratch[a] == 0x20 { a += 1 }
                    while b > a, scratch[b - 1] == 0x20 { b -= 1 }
                    let synonym = scratch[a..<b]
                    if !synonym.isEmpty, !synonym.contains(0x20), !synonym.contains(0x2E) { germans.append(synonym) }
                }
                guard !germans.isEmpty else { continue }
                let englishText = BilingualDictionary.withoutAnnotations(bytes, e, into: &scratch)
                for var synonym in synonyms(scratch, englishText)
                where !synonym.contains(0x2E) && !synonym.contains(0x3F) && !synonym.contains(0x21) {
                    if synonym.count > 3, synonym.starts(with: [0x74, 0x6F, 0x20]) { synonym = synonym.dropFirst(3) }  // "to "
                    englishes.append(synonym)
                }
                if !englishes.isEmpty { body(germans, englishes) }
            }
        }
        return counts
    }

    /// The ranges of a segment's synonyms as written, split at the ";"
    /// outside annotations.
    private static func rawSynonyms(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var depth = 0
        var start = range.lowerBound
        for i in range {
            switch bytes[i] {
            case 0x7B, 0x5B, 0x28, 0x3C: depth += 1
            case 0x7D, 0x5D, 0x29, 0x3E: depth = max(0, depth - 1)
            case 0x3B where depth == 0:
                out.append(start..<i)
                start = i + 1
            default: break
            }
        }
        out.append(start..<range.upperBound)
        return out
    }

    /// The ranges of a side's segments, split at " | ".
    private static func segments(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var segmentStart = start
        var i = start
        while i + 2 < end {
            if bytes[i] == 0x20, bytes[i + 1] == 0x7C, bytes[i + 2] == 0x20 {
                out.append(segmentStart..<i)
                i += 3
                segmentStart = i
            } else {
                i += 1
            }
        }
        out.append(segmentStart..<end)
        return out
    }

    /// The synonyms in `range` of `text`, split at ";", trimmed; empty ones
    /// left out.
    private static func synonyms(_ text: [UInt8], _ range: Range<Int>) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var start = range.lowerBound
        for i in range.lowerBound...range.upperBound where i == range.upperBound || text[i] == 0x3B {
            var a = start, b = i
            while a < b, text[a] == 0x20 { a += 1 }
            while b > a, text[b - 1] == 0x20 { b -= 1 }
            if a < b { out.append(text[a..<b]) }
            start = i + 1
        }
        return out
    }
}

@Suite("TEMP old vs new scanner")
struct OldVsNewScannerTests {
    @Test("The new scanner passes the same segments as the old one over the installed dictionary")
    func same() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: "/usr/share/trans/de-en"))
        func run(_ old: Bool) -> ([String], BilingualDictionary.Counts) {
            var out: [String] = []
            let counts = data.withUnsafeBytes { raw in
                let bytes = raw.bindMemory(to: UInt8.self)
                let body: ([ArraySlice<UInt8>], [ArraySlice<UInt8>]) -> Void = { g, e in
                    out.append(g.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "|") + "=" + e.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "|"))
                }
                return old ? OldScanner.forEachSegment(in: bytes, body) : BilingualDictionary.forEachSegment(in: bytes, body)
            }
            return (out, counts)
        }
        let (a, ca) = run(true)
        let (b, cb) = run(false)
        #expect(ca == cb)
        #expect(a.count == b.count)
        #expect(a == b)
        print("TEMP scanner: \(a.count) segment pairs, \(ca.lines) lines, \(ca.malformed) malformed")
        // Edge cases written for it.
        let lines = ["a :: b :: c", " :: x", "x ::  :: y", "Akku {m} ::: battery", "Akku {m} |  | x :: a | b | c", "| Akku {m} :: | b",
                     "Akku {m} | Akkus {pl} :: battery | batteries |", "Akku {m}; Lader {m} :: to charge; x. ; y? | z", "x::y", "Akku {m} :: battery\r", "  # c", ":: ::"]
        for line in lines + [lines.joined(separator: "\n")] {
            let bytes = Array(line.utf8)
            var x: [String] = [], y: [String] = []
            let c1 = bytes.withUnsafeBufferPointer { OldScanner.forEachSegment(in: $0) { g, e in x.append("\(g.map { Array($0) })=\(e.map { Array($0) })") } }
            let c2 = bytes.withUnsafeBufferPointer { BilingualDictionary.forEachSegment(in: $0) { g, e in y.append("\(g.map { Array($0) })=\(e.map { Array($0) })") } }
            #expect(x == y, "\(line)")
            #expect(c1 == c2, "\(line)")
        }
    }
}
