/// A hostmask pattern (`*!*@staff.example.net`) matched with glob rules:
/// `*` matches any run of characters, `?` exactly one; everything else,
/// `[` and `]` included, is literal; letters compare under the network's
/// case mapping (modern.ircdocs.horse "Wildcard expressions";
/// irc-parser-tests `mask-match`).
///
/// Used to recognise agents on networks without accounts. A pattern must
/// contain `@`, so it cannot match by nick alone; ``restrictsHost`` tells
/// whether its host part limits anything at all.
public struct IRCMask: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as given.
    public let pattern: String
    /// The mapping letters are compared under.
    public let caseMapping: IRCCaseMapping
    private let folded: [Unicode.Scalar]

    /// Validates a pattern: not empty, no spaces or control characters, and an `@`.
    public init(_ pattern: String, caseMapping: IRCCaseMapping = .rfc1459) throws(IRCNameError) {
        func fail(_ reason: IRCNameError.Reason) -> IRCNameError {
            IRCNameError(kind: "mask", name: pattern, reason: reason)
        }
        guard !pattern.isEmpty else { throw fail(.empty) }
        for character in pattern {
            if character == " " || character.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw fail(.forbiddenCharacter(character))
            }
        }
        guard pattern.contains("@") else { throw fail(.missingHostPart) }
        self.pattern = pattern
        self.caseMapping = caseMapping
        self.folded = Array(caseMapping.lowercased(pattern).unicodeScalars)
    }

    /// Whether the host part (after the last `@`) is more than wildcards:
    /// `alice!*@*` matches anyone using the nick `alice`.
    public var restrictsHost: Bool {
        guard let at = pattern.lastIndex(of: "@") else { return false }
        return pattern[pattern.index(after: at)...].contains { $0 != "*" && $0 != "?" }
    }

    /// Whether `hostmask` (`nick!user@host`) matches.
    public func matches(_ hostmask: IRCHostmask) -> Bool { matches(hostmask.description) }

    /// Whether the text matches the whole pattern.
    public func matches(_ text: String) -> Bool {
        let subject = Array(caseMapping.lowercased(text).unicodeScalars)
        // Iterative glob with backtracking to the last '*': O(n·m) worst case, no recursion.
        var p = 0
        var s = 0
        var starP = -1
        var starS = 0
        while s < subject.count {
            if p < folded.count, folded[p] == "*" {
                starP = p
                starS = s
                p += 1
            } else if p < folded.count, folded[p] == "?" || folded[p] == subject[s] {
                p += 1
                s += 1
            } else if starP >= 0 {
                p = starP + 1
                starS += 1
                s = starS
            } else {
                return false
            }
        }
        while p < folded.count, folded[p] == "*" { p += 1 }
        return p == folded.count
    }

    public var description: String { pattern }

    public static func == (lhs: IRCMask, rhs: IRCMask) -> Bool { lhs.folded == rhs.folded }
    public func hash(into hasher: inout Hasher) { hasher.combine(String(String.UnicodeScalarView(folded))) }
}
