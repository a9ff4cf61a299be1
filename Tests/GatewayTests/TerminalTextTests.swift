import Desk
import Foundation
@testable import Gateway
import Testing

/// Customer text on an operator's terminal (`switchboard tickets`, `kb gaps`).
@Suite struct TerminalTextTests {
    /// `tickets list` and `tickets show` printed a description's or
    /// summary's escape sequences after a `·` (`·[2J`, `·]0;title`) and
    /// bidi overrides as they are, and a CR LF line end as `⏎⏎` inside one
    /// line; now customer text is made safe as in `kb gaps`.
    @Test func ticketsShowsCustomerTextWithoutEscapesOrBidiControls() {
        let at = Date(timeIntervalSince1970: 1_772_442_000)
        let ticket = Ticket(number: TicketNumber(7), createdAt: at, customerNumber: nil, customerName: "Guest",
                            contact: ChatIdentity(network: "e2e", nick: "guest"), group: .noContract, tier: nil,
                            severity: .minor, summary: "\u{1B}[2Jprinter \u{202E}down",
                            description: "first \u{1B}]0;pwned\u{07}line\r\nsecond\u{0}line\n\u{9B}31mthird",
                            language: "en")
        let zone = TimeZone(identifier: "UTC")!
        let details = TicketFormatting.details(StoredTicket(ticket: ticket, version: 1), events: [], pages: [], zone: zone)
        let line = TicketFormatting.line(ticket, zone: zone)
        for text in [details, line] {
            for bad in ["\u{1B}", "\u{202E}", "\u{0}", "\u{9B}", "\r", "[2J", "pwned", "31m"] {
                #expect(!text.contains(bad), "\(bad.unicodeScalars.map(\.value)) in \(text)")
            }
            #expect(text.contains("printer down"), "\(text)")
        }
        #expect(details.contains("  | first line\n  | secondline\n  | third\n"),
                "\(details)")
    }

    /// Escape sequences go whole (dropping only ESC would print `[31m`),
    /// then what chat values lose: breaks, NUL, bidi controls.
    @Test func terminalLinesKeepNoEscapeSequenceOrControl() {
        #expect(TerminalText.line("\u{1B}[1;31mred\u{1B}[0m text", limit: 80) == "red text")
        #expect(TerminalText.line("a\u{1B}]8;;http://x\u{1B}\\link\u{1B}]8;;\u{1B}\\ b", limit: 80) == "alink b")
        #expect(TerminalText.line("a\u{9B}2Jb\u{1B}(Bc", limit: 80) == "abc")
        #expect(TerminalText.line("line\r\nnext\u{0}\u{202E}txet", limit: 80) == "line nexttxet")
        #expect(TerminalText.line("Grüße, 🙂 ok", limit: 80) == "Grüße, 🙂 ok")
        let long = TerminalText.line(String(repeating: "word ", count: 2_000), limit: 160)
        #expect(long.count == 160 && long.hasSuffix("…"))
    }
}
