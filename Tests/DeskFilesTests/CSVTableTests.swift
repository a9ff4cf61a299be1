import Config
import DeskFiles
import Testing

@Suite struct CSVTableTests {
    @Test func readsQuotedFieldsWithSeparatorsQuotesAndLineBreaks() throws {
        let text = "\u{FEFF}customer_number,name,accounts\r\n"
            + "10042,\"Speicherstadt, Logistik\",\r\n"
            + "10043,\"Autohaus \"\"Elbblick\"\"\",x:y\r\n"
            + "10044,\"Zwei\r\nZeilen\",\r\n"
            + "\r\n"
            + "10045,Ende,\n"
        let table = try CSVTable(text: text, file: "c.csv")
        #expect(table.separator == ",")
        #expect(table.columns == ["customer_number", "name", "accounts"])
        #expect(table.rows.map { $0.fields[1].text } == ["Speicherstadt, Logistik", "Autohaus \"Elbblick\"", "Zwei\r\nZeilen", "Ende"])
        // Line numbers follow the file, also after a field with a line break and a blank line.
        #expect(table.rows.map(\.line) == [2, 3, 4, 7])
        #expect(table.rows[1].field("accounts", in: table)?.text == "x:y")
        #expect(table.rows[3].fields[1].column == 7)
    }

    @Test func detectsSemicolonsAsGermanSpreadsheetsWriteThem() throws {
        let table = try CSVTable(text: "Customer_Number;Name\n10042;\"Müller; Söhne\"\n", file: "c.csv")
        #expect(table.separator == ";")
        #expect(table.columns == ["customer_number", "name"])
        #expect(table.rows[0].fields.map(\.text) == ["10042", "Müller; Söhne"])
    }

    @Test func commentLinesBeforeTheHeaderAreSkipped() throws {
        let table = try CSVTable(text: "# a note\r\n# another\r\nnumber,name\r\n1,\"# not a comment\"\r\n", file: "c.csv")
        #expect(table.rows.count == 1)
        #expect(table.rows[0].line == 4)
        #expect(table.rows[0].fields[1].text == "# not a comment")
    }

    private func error(_ text: String) -> String {
        do {
            _ = try CSVTable(text: text, file: "config/customers.csv")
            return "no error"
        } catch {
            return error.description
        }
    }

    @Test func malformedCSVIsRefusedWithLineAndColumn() {
        #expect(error("a,b\n1,\"open\n2,x\n")
            == "config/customers.csv:2:3: unterminated quoted field (the quote opened here is never closed)")
        #expect(error("a,b\n1,\"closed\"x\n")
            == "config/customers.csv:2:11: unexpected text after a closing quote (a quote inside a quoted field is written twice: \"\")")
        #expect(error("a,b\n1,say \"hi\"\n")
            == "config/customers.csv:2:7: a quote inside a field that does not start with one: put the whole field in quotes and write the quote twice (\"\")")
        #expect(error("a,b\n1,2\n3\n4,5,6\n") == """
            config/customers.csv:3:1: this row has 1 fields, the header 2 (a field with a ',' in it must be in double quotes)
            config/customers.csv:4:1: this row has 3 fields, the header 2 (a field with a ',' in it must be in double quotes)
            """)
        #expect(error("a,a\n") == "config/customers.csv:1:3: a: the column 'a' appears twice in the header")
        #expect(error("") == "config/customers.csv:1: the file is empty: expected a header row")
    }
}
