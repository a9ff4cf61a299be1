// IRC parser benchmark: `swift run -c release IRCBench [runs] [lines]`.
//
// Builds a deterministic corpus of realistic server traffic (PRIVMSG with
// account/msgid/time tags and long UTF-8 texts, NOTICE, extended JOIN,
// PART/QUIT, WHO/WHOX/NAMES/ISUPPORT numerics, PING, MODE, NICK), then
// measures on one core:
//   1. framing + parsing: the corpus as one byte stream fed to IRCLineFramer
//      in 64 KiB chunks (as a socket would deliver it), every message parsed;
//   2. parsing alone: IRCMessage(parsing:) over pre-cut lines;
//   3. serialising: the parsed messages back to bytes (validated).
// Each is run several times; the table shows the minimum and median time and
// the throughput at those times.
import Core
import IRC

#if canImport(Glibc)
import Glibc
#endif

let words = [
    "NordBox", "backup", "restore", "the", "VPN", "tunnel", "is", "down", "again", "after", "firmware", "update",
    "please", "help", "ticket", "customer", "Sicherung", "Wiederherstellung", "funktioniert", "nicht", "mehr",
    "Größe", "Übertragung", "schlägt", "fehl", "müssen", "täglich", "Datenträger", "RAID", "disk", "degraded",
    "NordBox Connect", "client", "cannot", "connect", "since", "yesterday", "🙂", "👍", "✅", "déjà", "vu",
    "https://docs.nordlicht.example/kb/1042", "and", "or", "with", "for", "licence", "expired", "alert", "mail",
]

func sentence(_ rng: inout SeededRandom, minWords: Int, maxWords: Int) -> String {
    let count = minWords + rng.below(maxWords - minWords + 1)
    return (0..<count).map { _ in rng.pick(words) }.joined(separator: " ")
}

func timestamp(_ rng: inout SeededRandom) -> String {
    "2025-0\(1 + rng.below(9))-\(10 + rng.below(18))T\(10 + rng.below(13)):\(10 + rng.below(50)):"
        + "\(10 + rng.below(50)).\(100 + rng.below(900))Z"
}

func msgid(_ rng: inout SeededRandom) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    return String((0..<20).map { _ in alphabet[rng.below(alphabet.count)] })
}

/// `tagged`: IRCv3 traffic (account/msgid/time tags, long texts); otherwise
/// classic traffic without tags and with shorter texts.
func makeCorpus(lines: Int, tagged: Bool = true) -> [String] {
    var rng = SeededRandom(seed: tagged ? 20_250_301 : 19_930_501)
    let nicks = (0..<300).map { "user\($0)" } + ["alice", "bob", "Schröder", "agent_max", "[away]nick", "x"]
    let hosts = ["user/alice", "192-0-2-17.dyn.example.net", "2001:db8::17", "gateway/web/irccloud.com/x-abcdef",
                 "nordlicht-7f3a9c.example.de", "localhost"]
    let channels = ["#nordbox", "#nordbox-support", "#agents", "#help", "##offtopic"]
    func prefix(_ rng: inout SeededRandom) -> (String, String) {
        let nick = rng.pick(nicks)
        return (nick, ":\(nick)!~\(nick.prefix(9))@\(rng.pick(hosts))")
    }
    var corpus: [String] = []
    corpus.reserveCapacity(lines)
    while corpus.count < lines {
        let roll = rng.below(100)
        let (nick, source) = prefix(&rng)
        let tags = "@account=\(nick);msgid=\(msgid(&rng));time=\(timestamp(&rng))"
        let time = "@time=\(timestamp(&rng))"
        switch roll {
        case 0..<55 where !tagged:
            corpus.append("\(source) PRIVMSG \(rng.pick(channels)) :\(sentence(&rng, minWords: 1, maxWords: 12))")
        case 0..<55:
            corpus.append("\(tags) \(source) PRIVMSG \(rng.pick(channels)) :\(sentence(&rng, minWords: 3, maxWords: 40))")
        case 55..<60:
            corpus.append("\(tags) \(source) PRIVMSG switchboard :\u{1}ACTION \(sentence(&rng, minWords: 2, maxWords: 10))\u{1}")
        case 60..<67:
            corpus.append("\(time) :services.example.net NOTICE \(nick) :\(sentence(&rng, minWords: 4, maxWords: 20))")
        case 67..<75:
            corpus.append("\(time) \(source) JOIN \(rng.pick(channels)) \(nick) :\(sentence(&rng, minWords: 1, maxWords: 3))")
        case 75..<79:
            corpus.append("\(time) \(source) PART \(rng.pick(channels)) :\(sentence(&rng, minWords: 0, maxWords: 4))")
        case 79..<82:
            corpus.append("\(time) \(source) QUIT :Quit: \(sentence(&rng, minWords: 1, maxWords: 5))")
        case 82..<86:
            corpus.append(":irc.example.net 354 switchboard 152 \(rng.pick(channels)) ~\(nick) \(rng.pick(hosts)) \(nick) H@ \(nick) :\(sentence(&rng, minWords: 1, maxWords: 3))")
        case 86..<88:
            let names = (0..<(10 + rng.below(30))).map { _ in (rng.below(4) == 0 ? "@" : "") + rng.pick(nicks) }
            corpus.append(":irc.example.net 353 switchboard = \(rng.pick(channels)) :\(names.joined(separator: " "))")
        case 88..<89:
            corpus.append(":irc.example.net 005 switchboard CASEMAPPING=rfc1459 CHANTYPES=# PREFIX=(ov)@+ NICKLEN=30 CHANNELLEN=50 TOPICLEN=390 WHOX NETWORK=ExampleNet MODES=4 TARGMAX=PRIVMSG:4,NOTICE:4,JOIN: LINELEN=512 :are supported by this server")
        case 89..<95:
            corpus.append("PING :irc.example.net")
        case 95..<97:
            corpus.append("\(time) :ChanServ!ChanServ@services.example.net MODE \(rng.pick(channels)) +o \(nick)")
        case 97..<99:
            corpus.append("\(time) \(source) NICK \(rng.pick(nicks))_")
        default:
            corpus.append(":irc.example.net 433 * switchboard :Nickname is already in use")
        }
    }
    if !tagged {
        // Classic networks send no tags.
        return corpus.map { line in
            guard line.hasPrefix("@"), let space = line.firstIndex(of: " ") else { return line }
            return String(line[line.index(after: space)...])
        }
    }
    return corpus
}

func measure(runs: Int, _ body: () -> Int) -> (min: Double, median: Double, check: Int) {
    var times: [Double] = []
    var check = 0
    let clock = ContinuousClock()
    for _ in 0..<runs {
        var result = 0
        let elapsed = clock.measure { result = body() }
        check = result
        let c = elapsed.components
        times.append(Double(c.seconds) + Double(c.attoseconds) / 1e18)
    }
    times.sort()
    if times.isEmpty { return (.nan, .nan, -1) }
    return (times[0], times[times.count / 2], check)
}

func pad(_ s: String, _ width: Int, right: Bool = true) -> String {
    let padding = String(repeating: " ", count: max(0, width - s.count))
    return right ? padding + s : s + padding
}

func format(_ value: Double, _ decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = String(rounded)
    if let dot = text.firstIndex(of: ".") {
        let have = text.distance(from: dot, to: text.endIndex) - 1
        if have < decimals { text += String(repeating: "0", count: decimals - have) }
    } else if decimals > 0 {
        text += "." + String(repeating: "0", count: decimals)
    }
    return text
}

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let runs = arguments.first ?? 9
let lineCount = arguments.dropFirst().first ?? 100_000
/// `IRCBench RUNS LINES frame|parse|serialize|classic|read|readclassic` runs one benchmark (for profiling).
let only = CommandLine.arguments.dropFirst().first { Int($0) == nil }

let corpus = makeCorpus(lines: lineCount)
var stream: [UInt8] = []
for line in corpus {
    stream.append(contentsOf: line.utf8)
    stream.append(0x0D)
    stream.append(0x0A)
}
let lineBytes: [[UInt8]] = corpus.map { Array($0.utf8) }
var classicStream: [UInt8] = []
for line in makeCorpus(lines: lineCount, tagged: false) {
    classicStream.append(contentsOf: line.utf8)
    classicStream.append(0x0D)
    classicStream.append(0x0A)
}
let bodyBytes = lineBytes.reduce(0) { $0 + $1.count }
let streamBytes = stream.count
let chunkSize = 65_536

// Sanity: every line parses, and the framer agrees with the line count.
let parsed: [IRCMessage] = lineBytes.map { try! IRCMessage(parsing: $0) }

print("IRCBench: \(corpus.count) lines per corpus, \(runs) runs each, one core, framer fed \(chunkSize)-byte chunks")
print("  IRCv3 corpus:   \(streamBytes) bytes with CR LF, mean \(streamBytes / corpus.count) bytes/line (tags on most lines)")
print("  classic corpus: \(classicStream.count) bytes with CR LF, mean \(classicStream.count / corpus.count) bytes/line (no tags, shorter texts)")

/// `read`: also reads what a client reads from every message (the command,
/// the sender's nick, the account tag and each parameter's bytes), so the
/// parts a message makes only when asked are paid for too.
@inline(never)  // one symbol for callgrind --toggle-collect
func frameAndParse(_ stream: [UInt8], read: Bool = false) -> Int {
    var framer = IRCLineFramer()
    var count = 0
    var parameters = 0
    var offset = 0
    while offset < stream.count {
        let end = min(offset + chunkSize, stream.count)
        framer.append(stream[offset..<end])
        offset = end
        while let result = framer.next() {
            if case .success(let message) = result {
                count += 1
                parameters &+= message.parameters.count
                if read { parameters &+= readAll(message) }
            }
        }
    }
    return count + parameters &* 0
}

@inline(never)
func readAll(_ message: IRCMessage) -> Int {
    var sum = message.command.numeric == nil ? 1 : 0
    sum &+= message.source?.nick?.utf8.count ?? 0
    sum &+= message.tags.account?.utf8.count ?? 0
    for parameter in message.parameters { sum &+= parameter.utf8.count }
    return sum
}
let framing = measure(runs: only == nil || only == "frame" ? runs : 0) { frameAndParse(stream) }
let classic = measure(runs: only == nil || only == "classic" ? runs : 0) { frameAndParse(classicStream) }
let readIRCv3 = measure(runs: only == nil || only == "read" ? runs : 0) { frameAndParse(stream, read: true) }
let readClassic = measure(runs: only == nil || only == "readclassic" ? runs : 0) {
    frameAndParse(classicStream, read: true)
}
precondition(classic.check == -1 || classic.check == corpus.count)
precondition(readIRCv3.check == -1 || readIRCv3.check == corpus.count)
precondition(readClassic.check == -1 || readClassic.check == corpus.count)
precondition(framing.check == -1 || framing.check == corpus.count, "framer returned \(framing.check) messages, expected \(corpus.count)")

let parsing = measure(runs: only == nil || only == "parse" ? runs : 0) {
    var count = 0
    for line in lineBytes {
        if let message = try? IRCMessage(parsing: line) {
            count &+= message.parameters.count > 0 ? 1 : 1
        }
    }
    return count
}
precondition(parsing.check == -1 || parsing.check == corpus.count)

var serializedBytes = 0
let serializing = measure(runs: only == nil || only == "serialize" ? runs : 0) {
    var out: [UInt8] = []
    out.reserveCapacity(16_384)
    var total = 0
    for message in parsed {
        out.removeAll(keepingCapacity: true)
        do {
            try message.serialize(into: &out, lineLimit: 8_192)
        } catch {
            fatalError("\(error)")
        }
        total &+= out.count
    }
    return total
}
serializedBytes = serializing.check

print("")
print("| benchmark               | time min | time median | messages/s (min time) | messages/s (median) | MB/s (min time) | MB/s (median) |")
print("|-------------------------|---------:|------------:|----------------------:|--------------------:|----------------:|--------------:|")
func row(_ name: String, _ result: (min: Double, median: Double, check: Int), bytes: Int) {
    if result.check == -1 { return }
    let n = Double(lineCount)
    let b = Double(bytes)
    print("| \(pad(name, 23, right: false)) | \(pad(format(result.min * 1000, 1) + " ms", 8)) | "
        + "\(pad(format(result.median * 1000, 1) + " ms", 11)) | "
        + "\(pad(format(n / result.min / 1e6, 2) + " M", 21)) | \(pad(format(n / result.median / 1e6, 2) + " M", 19)) | "
        + "\(pad(format(b / result.min / 1e6, 0), 15)) | \(pad(format(b / result.median / 1e6, 0), 13)) |")
}
row("frame + parse IRCv3", framing, bytes: streamBytes)
row("parse IRCv3 (cut lines)", parsing, bytes: bodyBytes)
row("serialize IRCv3", serializing, bytes: serializedBytes)
row("frame + parse classic", classic, bytes: classicStream.count)
row("… + read IRCv3", readIRCv3, bytes: streamBytes)
row("… + read classic", readClassic, bytes: classicStream.count)
print("")
print("MB = 10^6 bytes. frame + parse: bytes in 64 KiB chunks through IRCLineFramer, every line parsed to an")
print("IRCMessage. parse: IRCMessage(parsing:) on lines already cut (bytes without CR LF). serialize: serialize(into:)")
print("with validation, bytes include CR LF. … + read: frame + parse, then the command, sender nick, account tag")
print("and every parameter read from each message (tags and source are made only when read).")
print("Target (issue 12): frame + parse classic >= 300 MB/s and >= 3 M lines/s on one core.")
