import Foundation

/// Makes text from chat users and the store safe to put into a reply.
///
/// Replies are built from definition texts (which may contain line breaks:
/// the adapter sends each line as its own message) and values. A value —
/// a nick, a summary, a relayed message — must never bring its own line
/// break (it would start a new line that looks like the bot's) nor a
/// control character (NUL, IRC formatting codes, terminal escapes), so
/// values go through ``inline(_:limit:)``.
public enum Sanitizer {
    /// One line: CR, LF, tab and Unicode line/paragraph separators become a
    /// space, every other control character (C0, DEL, C1), bidirectional
    /// overrides and isolates are dropped, runs of spaces are collapsed,
    /// and the result is cut to `limit` characters (with `…`).
    public static func inline(_ text: String, limit: Int = 400) -> String {
        // Most values (a KB answer, a nick, a ticket summary) are clean
        // already: one read, no copy (issue 12, the `!kb` path).
        if isInline(text, limit: limit) { return text }
        var out = String.UnicodeScalarView()
        var lastWasSpace = true
        var count = 0
        var truncated = false
        for scalar in text.unicodeScalars {
            if isBreak(scalar) || scalar == " " || scalar == "\u{00A0}" {
                if !lastWasSpace {
                    out.append(" ")
                    lastWasSpace = true
                    count += 1
                }
                continue
            }
            if isControl(scalar) { continue }
            if count >= limit {
                truncated = true
                break
            }
            out.append(scalar)
            lastWasSpace = false
            count += 1
        }
        var result = String(out)
        while result.last == " " { result.removeLast() }
        if truncated {
            // Keep within the limit on a character boundary.
            while result.count > max(0, limit - 1) { result.removeLast() }
            result += "…"
        }
        return result
    }

    /// Whether `inline(text, limit:)` is `text` itself: at most `limit`
    /// scalars, no break, control character or no-break space, and no space
    /// at either end or next to another.
    static func isInline(_ text: String, limit: Int) -> Bool {
        var count = 0
        var lastWasSpace = true
        for scalar in text.unicodeScalars {
            count += 1
            if count > limit { return false }
            if scalar == " " {
                if lastWasSpace { return false }
                lastWasSpace = true
                continue
            }
            if isBreak(scalar) || scalar == "\u{00A0}" || isControl(scalar) { return false }
            lastWasSpace = false
        }
        return count == 0 || !lastWasSpace
    }

    /// CR, LF, tab and the Unicode line and paragraph separators (general
    /// categories Zl and Zp, which hold exactly U+2028 and U+2029): each
    /// becomes a space in a value.
    static func isBreak(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return v == 0x0A || v == 0x0D || v == 0x09 || v == 0x2028 || v == 0x2029
    }

    /// Several lines (a customer's description, shown to an agent): each line
    /// made safe with ``inline(_:limit:)``, empty lines dropped, at most
    /// `maxLines` lines (the rest summarised as `…`).
    public static func lines(_ text: String, maxLines: Int, lineLimit: Int = 400) -> [String] {
        let all = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
            .map { inline(String($0), limit: lineLimit) }.filter { !$0.isEmpty }
        if all.count <= maxLines { return all }
        return Array(all.prefix(maxLines)) + ["… (+\(all.count - maxLines))"]
    }

    /// Whether a scalar is a control or formatting character that must not
    /// reach the wire from a value: C0 (except the breaks handled above),
    /// DEL, C1, and the bidirectional embedding/override/isolate controls
    /// that could make a line read differently than it is.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) { return true }
        if (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v) || v == 0x200E || v == 0x200F { return true }
        return false
    }

    /// Whether definition text (from the bot files) is acceptable: no
    /// control characters except the line break.
    static func isCleanDefinitionText(_ text: String) -> Bool {
        !text.unicodeScalars.contains { $0 != "\n" && isControl($0) }
    }
}

extension StringProtocol {
    /// The text without white space and line breaks at either end (Foundation's
    /// `.whitespacesAndNewlines`). A line that starts and ends with a visible
    /// ASCII character, as nearly every chat line does, is taken as it is
    /// without asking Foundation (issue 12: every message's path).
    var trimmedLine: String {
        if let first = unicodeScalars.first, let last = unicodeScalars.last,
           (0x21...0x7E).contains(first.value), (0x21...0x7E).contains(last.value) {
            return String(self)
        }
        return trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
