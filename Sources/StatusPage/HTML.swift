import Foundation

/// HTML text escaping (HTML Living Standard, 13.1.2.6 and 13.2.4): every
/// text from outside — a customer's summary, description, name or message,
/// an agent's note, a nick, a network's error — goes through `escape` before
/// it is placed in an element or a quoted attribute, so it is shown as text
/// and never becomes markup or script.
public enum HTML {
    /// `&`, `<`, `>`, `"` and `'` as character references; C0 controls
    /// other than tab and line feed, DEL and unpaired surrogates cannot
    /// reach the output (a Swift `String` holds none of the latter), and
    /// the others are dropped so a terminal escape cannot ride along.
    public static func escape(_ text: some StringProtocol) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            case "\r": continue
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `text` cut to `max` characters (with `…`) and escaped: for one-line
    /// cells where a customer's text may be long.
    public static func escape(_ text: String, max: Int) -> String {
        escape(text.count > max ? String(text.prefix(max - 1)) + "…" : text)
    }
}
