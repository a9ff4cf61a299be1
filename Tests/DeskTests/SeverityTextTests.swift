import Desk
import Testing

/// What a customer may type as a severity: the digit, with spaces or tabs
/// around it, and nothing else (the answer that pages an agent).
@Suite struct SeverityTextTests {
    @Test(arguments: [("1", Severity.critical), ("2", .major), (" 3 ", .minor), ("\t4\t", .question),
                      ("\u{00A0}2\u{2003}", .major)])
    func digitWithBlanksAroundIsRead(text: String, expected: Severity) {
        #expect(Severity(text: text) == expected)
    }

    @Test(arguments: ["", " ", "0", "5", "12", "-1", "1.", "one", "1\n", "\n1", "1 2", "٣"])
    func anythingElseIsNotASeverity(text: String) {
        #expect(Severity(text: text) == nil)
    }
}
