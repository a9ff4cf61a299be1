import Bots

/// Text from customers or the store made safe for an operator's terminal
/// (`switchboard tickets`, `kb gaps`): a line of it can neither move the
/// cursor, recolour or retitle the terminal, nor reorder what follows it.
enum TerminalText {
    /// Text from a customer or the store made safe for a terminal, on one
    /// line: terminal escape sequences (CSI `ESC [ … m`, OSC `ESC ] … BEL`,
    /// and the like) removed whole, then what ``Sanitizer/inline(_:limit:)``
    /// does for chat (line breaks become spaces; NUL and every other control
    /// character, and bidirectional overrides, are dropped; cut at `limit`
    /// characters with `…`).
    static func line(_ text: String, limit: Int) -> String {
        Sanitizer.inline(withoutEscapeSequences(text), limit: limit)
    }

    /// `text` without ECMA-48 escape sequences: `ESC [` (or C1 CSI) with its
    /// parameters up to the final byte, `ESC ]`, `ESC P`, `ESC X`, `ESC ^`,
    /// `ESC _` (or their C1 forms) up to BEL or the string terminator, and
    /// `ESC` with its intermediate and final bytes. Dropping only the ESC
    /// would leave `[31m` on the screen.
    static func withoutEscapeSequences(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "\u{1B}" || (0x90...0x9F).contains($0.value) }) else {
            return text
        }
        enum State { case text, escape, csi, string, stringEscape }
        var state = State.text
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let v = scalar.value
            switch state {
            case .text:
                if v == 0x1B {
                    state = .escape
                } else if v == 0x9B {
                    state = .csi
                } else if v == 0x90 || v == 0x98 || v == 0x9D || v == 0x9E || v == 0x9F {
                    state = .string
                } else {
                    out.append(scalar)
                }
            case .escape:
                if v == 0x5B {
                    state = .csi
                } else if v == 0x5D || v == 0x50 || v == 0x58 || v == 0x5E || v == 0x5F {
                    state = .string
                } else if (0x20...0x2F).contains(v) {
                    state = .escape // an intermediate byte; the final byte follows
                } else {
                    state = .text // the final byte (or a stray character) ends it
                }
            case .csi:
                if (0x40...0x7E).contains(v) || !(0x20...0x3F).contains(v) { state = .text }
            case .string:
                if v == 0x07 || v == 0x9C { state = .text } else if v == 0x1B { state = .stringEscape }
            case .stringEscape:
                state = v == 0x5C ? .text : .string
            }
        }
        return String(out)
    }
}
