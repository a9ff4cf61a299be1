import Foundation
import IRC
import Testing

/// The public irc-parser-tests vectors (0.0.4, CC0), converted from YAML to
/// JSON by scripts/convert-parser-tests.py. Every test checks that it ran
/// exactly as many vectors as the file holds, and the number in its name is
/// the number of vectors, so a truncated or stale file fails.
@Suite("irc-parser-tests vectors")
struct VectorTests {
    struct VectorFile {
        let tests: [[String: Any]]
        let count: Int
    }

    static func load(_ name: String) throws -> VectorFile {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Vectors").appendingPathComponent("\(name).json")
        let data = try Data(contentsOf: url)
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let tests = try #require(root["tests"] as? [[String: Any]], "\(name).json has no tests list")
        let count = try #require(root["count"] as? Int)
        #expect(tests.count == count, "\(name).json: count field \(count) but \(tests.count) tests")
        return VectorFile(tests: tests, count: count)
    }

    static func tags(_ value: Any?) -> [(String, String)] {
        (value as? [[String]] ?? []).map { ($0[0], $0[1]) }
    }

    @Test("msg-split.yaml: all 35 vectors parse to the expected tags, source, verb and params")
    func messageSplit() throws {
        let file = try Self.load("msg-split")
        #expect(file.count == 35)
        var executed = 0
        for vector in file.tests {
            let input = try #require(vector["input"] as? String)
            let atoms = try #require(vector["atoms"] as? [String: Any])
            let message = try IRCMessage(parsing: input)
            // Tags: the vectors list the final value per key (duplicates: the last wins).
            let expectedTags = Self.tags(atoms["tags"])
            for (key, value) in expectedTags {
                #expect(message.tags[key] == value, "\(input): tag \(key)")
            }
            let keys = Set(message.tags.map(\.key))
            #expect(keys == Set(expectedTags.map(\.0)), "\(input): tag keys")
            #expect(message.source?.description == atoms["source"] as? String, "\(input): source")
            let verb = try #require(atoms["verb"] as? String)
            #expect(message.command.verb.uppercased() == verb.uppercased(), "\(input): verb")
            #expect(message.parameters == (atoms["params"] as? [String] ?? []), "\(input): params")
            executed += 1
        }
        #expect(executed == 35)
    }

    @Test("msg-join.yaml: all 17 vectors serialise to one of the accepted lines")
    func messageJoin() throws {
        let file = try Self.load("msg-join")
        #expect(file.count == 17)
        var executed = 0
        for vector in file.tests {
            let atoms = try #require(vector["atoms"] as? [String: Any])
            let matches = try #require(vector["matches"] as? [String])
            let tags = IRCTags(Self.tags(atoms["tags"]).map { IRCTags.Tag(key: $0.0, value: $0.1) })
            let message = IRCMessage(
                tags: tags,
                source: (atoms["source"] as? String).map(IRCSource.init(parsing:)),
                command: IRCCommand(try #require(atoms["verb"] as? String)),
                parameters: atoms["params"] as? [String] ?? [])
            let line = try message.serializedString()
            #expect(matches.contains(line), "\(vector["desc"] ?? ""): got \(line.debugDescription)")
            // And every accepted form parses back to the same message.
            for match in matches {
                #expect(try IRCMessage(parsing: match) == message, "\(match)")
            }
            executed += 1
        }
        #expect(executed == 17)
    }

    @Test("userhost-split.yaml: all 9 vectors split into nick, user and host")
    func userhostSplit() throws {
        let file = try Self.load("userhost-split")
        #expect(file.count == 9)
        var executed = 0
        for vector in file.tests {
            let source = try #require(vector["source"] as? String)
            let atoms = try #require(vector["atoms"] as? [String: String])
            let mask = IRCHostmask(parsing: source)
            #expect(mask.nick == atoms["nick"] ?? "", "\(source): nick")
            #expect((mask.user ?? "") == atoms["user"] ?? "", "\(source): user")
            #expect((mask.host ?? "") == atoms["host"] ?? "", "\(source): host")
            #expect(mask.description == source, "\(source): round trip")
            executed += 1
        }
        #expect(executed == 9)
    }

    @Test("mask-match.yaml: all 6 masks (26 subjects) match and fail as listed")
    func maskMatch() throws {
        let file = try Self.load("mask-match")
        #expect(file.count == 6)
        var executed = 0
        var subjects = 0
        for vector in file.tests {
            let pattern = try #require(vector["mask"] as? String)
            let mask = try IRCMask(pattern)
            for subject in vector["matches"] as? [String] ?? [] {
                #expect(mask.matches(subject), "\(pattern) should match \(subject)")
                subjects += 1
            }
            for subject in vector["fails"] as? [String] ?? [] {
                #expect(!mask.matches(subject), "\(pattern) should not match \(subject)")
                subjects += 1
            }
            executed += 1
        }
        #expect(executed == 6)
        #expect(subjects == 26)
    }

    @Test("validate-hostname.yaml: all 13 hostnames are judged as listed")
    func validateHostname() throws {
        let file = try Self.load("validate-hostname")
        #expect(file.count == 13)
        var executed = 0
        for vector in file.tests {
            let host = try #require(vector["host"] as? String)
            let valid = try #require(vector["valid"] as? Bool)
            #expect(IRCHostmask.isValidHostname(host) == valid, "\(host)")
            executed += 1
        }
        #expect(executed == 13)
    }
}
