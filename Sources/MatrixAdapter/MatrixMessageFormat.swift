import Foundation
import Matrix

/// How a bots' text becomes an `m.room.message` (spec §"m.room.message",
/// §"User and room mentions").
///
/// - A text that mentions nobody is an `m.notice`: other bots ignore
///   notices, and no client notifies for them.
/// - A text that mentions someone (a page, a channel line naming the on-duty
///   agent) is an `m.text`: the default push rule `.m.rule.suppress_notices`
///   silences notices before `.m.rule.is_user_mention` is looked at, so a
///   page sent as a notice would never reach the agent's phone. It carries
///   `m.mentions.user_ids` and a `matrix.to` pill in `formatted_body`.
/// - `formatted_body` is the whole text HTML-escaped, with only the pills
///   and line breaks as markup: nothing a customer wrote becomes markup.
/// - Control characters other than line breaks and tabs are removed (NUL,
///   ESC, …): user text never reaches the wire as it came.
public enum MatrixMessageFormat {
    /// The event content for `text`, mentioning those of `mentionable`
    /// whose user id appears in it. `alert`: a page, which must notify even
    /// where it names no one (the agent's direct room): an `m.text` that
    /// mentions `alert`'s users besides.
    public static func content(_ text: String, mentionable: Set<String>, alert: [String]? = nil) -> JSONValue {
        let body = sanitized(text)
        let named = userIDs(in: body).filter { mentionable.contains($0) }
        var seen = Set<String>()
        let mentioned = (named + (alert ?? [])).filter { seen.insert($0).inserted }
        guard !mentioned.isEmpty || alert != nil else {
            return .object(["msgtype": .string("m.notice"), "body": .string(body)])
        }
        var content: [String: JSONValue] = [
            "msgtype": .string("m.text"),
            "body": .string(body),
            "m.mentions": .object(["user_ids": .array(mentioned.map { .string($0) })]),
        ]
        if !named.isEmpty {
            content["format"] = .string("org.matrix.custom.html")
            content["formatted_body"] = .string(html(body, pills: Set(named)))
        }
        return .object(content)
    }

    /// The text without control characters other than LF and TAB (CR LF
    /// and lone CR become LF).
    public static func sanitized(_ text: String) -> String {
        let unified = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        return String(String.UnicodeScalarView(unified.unicodeScalars.filter { scalar in
            scalar == "\n" || scalar == "\t" || !(scalar.value < 0x20 || scalar.value == 0x7F
                || (0x80...0x9F).contains(scalar.value))
        }))
    }

    /// `text` as HTML: `& < > " '` escaped, line breaks as `<br>`, and each
    /// user id of `pills` as a `matrix.to` link.
    public static func html(_ text: String, pills: Set<String>) -> String {
        var out = ""
        var rest = Substring(text)
        while !rest.isEmpty {
            if rest.first == "@", let id = userID(at: rest), pills.contains(id) {
                out += "<a href=\"https://matrix.to/#/\(escape(MatrixPath.encode(id)))\">\(escape(id))</a>"
                rest = rest.dropFirst(id.count)
                continue
            }
            let next = rest.dropFirst().firstIndex(of: "@") ?? rest.endIndex
            out += escape(String(rest[..<next])).replacingOccurrences(of: "\n", with: "<br>")
            rest = rest[next...]
        }
        return out
    }

    /// HTML-escapes the five characters that can open or close markup.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// Every `@localpart:server` in `text`, in order.
    public static func userIDs(in text: String) -> [String] {
        var found: [String] = []
        var rest = Substring(text)
        while let at = rest.firstIndex(of: "@") {
            rest = rest[at...]
            if let id = userID(at: rest) {
                found.append(id)
                rest = rest.dropFirst(id.count)
            } else {
                rest = rest.dropFirst()
            }
        }
        return found
    }

    /// The user id that starts `text` (which starts with `@`): localpart of
    /// `a-z 0-9 . _ = - / +` (any case), `:`, a server name of letters,
    /// digits, `.`, `-` and an optional `:port`; trailing dots and colons
    /// belong to the sentence, not the id.
    static func userID(at text: Substring) -> String? {
        guard text.first == "@" else { return nil }
        let local = text.dropFirst().prefix { $0.isASCII && ($0.isLetter || $0.isNumber || "._=-/+".contains($0)) }
        guard !local.isEmpty else { return nil }
        let afterLocal = text.dropFirst(1 + local.count)
        guard afterLocal.first == ":" else { return nil }
        var server = afterLocal.dropFirst().prefix { $0.isASCII && ($0.isLetter || $0.isNumber || ".-:".contains($0)) }
        while let last = server.last, last == "." || last == ":" { server = server.dropLast() }
        guard !server.isEmpty, server.first!.isLetter || server.first!.isNumber else { return nil }
        return "@\(local):\(server)"
    }

    /// The transaction id of a text the bots gave none
    /// (``Bots/ChatAction/transactionID``): a page's is derived from its
    /// outbox id alone, so the same page sent again after a crash (same
    /// device) is one event; any other text gets one unique to this run.
    public static func transactionID(deliveryID: Int64?, run: String, sequence: UInt64) -> String {
        if let deliveryID { return "sb-page-\(deliveryID)" }
        return "sb-\(run)-\(sequence)"
    }
}
