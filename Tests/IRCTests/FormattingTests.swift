import IRC
import Testing

@Suite("Stripping mIRC formatting")
struct FormattingTests {
    @Test("Bold, italics, underline, strikethrough, monospace, reverse and reset are removed")
    func toggles() {
        #expect(IRCFormatting.strip("\u{2}!help\u{2} \u{1D}i\u{1D}\u{1F}u\u{1F}\u{1E}s\u{11}m\u{16}r\u{F}") == "!help iusmr")
    }

    @Test("Colours: one or two digits, optional background; a bare comma stays")
    func colours() {
        #expect(IRCFormatting.strip("\u{3}4!queue") == "!queue")
        #expect(IRCFormatting.strip("\u{3}04,12!queue\u{3}") == "!queue")
        #expect(IRCFormatting.strip("\u{3}123") == "3")  // two digits at most
        #expect(IRCFormatting.strip("\u{3}4,x") == ",x")  // comma without background digit stays
        #expect(IRCFormatting.strip("\u{3},5") == ",5")  // no foreground: the comma is text
        #expect(IRCFormatting.strip("\u{4}FF0000red\u{4}") == "red")
        #expect(IRCFormatting.strip("\u{4}FF0000,00FF00x") == "x")
        #expect(IRCFormatting.strip("plain 42") == "plain 42")
        #expect(IRCFormatting.strip("Grüße \u{2}👋\u{2}") == "Grüße 👋")
    }
}
