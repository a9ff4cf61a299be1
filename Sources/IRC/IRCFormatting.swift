/// mIRC formatting codes (modern.ircdocs.horse "IRC Formatting"):
/// bold `\x02`, italics `\x1D`, underline `\x1F`, strikethrough `\x1E`,
/// monospace `\x11`, reverse `\x16`, reset `\x0F`, colour `\x03[fg[,bg]]`
/// (one or two digits each) and hex colour `\x04[RRGGBB[,RRGGBB]]`.
public enum IRCFormatting {
    /// `text` without formatting codes, so bots match what a person reads:
    /// `"\x02!help\x02"` and `"\x0304,01!help"` both become `"!help"`.
    /// A comma after a colour is kept unless a background digit follows.
    /// Text without codes (nearly every message) is returned as it is: no copy.
    public static func strip(_ text: String) -> String {
        guard text.utf8.contains(where: { isCode($0) }) else { return text }
        let utf8 = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var i = 0
        func digits(_ limit: Int, _ accept: (UInt8) -> Bool) -> Int {
            var n = 0
            while n < limit, i + n < utf8.count, accept(utf8[i + n]) { n += 1 }
            return n
        }
        let isDigit: (UInt8) -> Bool = { $0 &- 0x30 < 10 }
        let isHex: (UInt8) -> Bool = { $0 &- 0x30 < 10 || ($0 | 0x20) &- 0x61 < 6 }
        while i < utf8.count {
            let byte = utf8[i]
            i += 1
            switch byte {
            case 0x02, 0x0F, 0x11, 0x16, 0x1D, 0x1E, 0x1F:
                continue
            case 0x03, 0x04:
                let (accept, width) = byte == 0x03 ? (isDigit, 2) : (isHex, 6)
                let foreground = byte == 0x03 ? digits(2, accept) : (digits(6, accept) == 6 ? 6 : 0)
                guard foreground > 0 else { continue }
                i += foreground
                if i < utf8.count, utf8[i] == 0x2C {
                    i += 1
                    let background = byte == 0x03 ? digits(width, accept) : (digits(6, accept) == 6 ? 6 : 0)
                    if background > 0 { i += background } else { i -= 1 }
                }
            default:
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isCode(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x02, 0x03, 0x04, 0x0F, 0x11, 0x16, 0x1D, 0x1E, 0x1F: true
        default: false
        }
    }
}
