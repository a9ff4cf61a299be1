import Config
import Desk
import Foundation

/// A CSV file as a CRM exports it, read per RFC 4180: a header row, fields
/// separated by `,` or `;` (detected from the header, since German
/// spreadsheet exports use `;`), fields in double quotes may hold the
/// separator, line breaks and quotes (written twice: `""`), lines end in
/// CRLF or LF, UTF-8 with or without a byte order mark.
///
/// Lines that start with `#` *before* the header row are comments (for a
/// note at the top of a file kept by hand; a CRM export has none). After
/// the header a `#` is ordinary text.
///
/// Stricter than many readers, because a mangled export should stop the
/// load rather than shift a PIN hash into the name column: a quote inside
/// an unquoted field, text after a closing quote, an unterminated quoted
/// field and a row with the wrong number of fields are errors naming file,
/// line and column.
public struct CSVTable: Sendable {
    /// One field, with where it starts in the file.
    public struct Field: Sendable, Hashable {
        public var text: String
        public var line: Int
        public var column: Int
    }

    /// One record after the header.
    public struct Row: Sendable {
        /// The line the record starts on.
        public var line: Int
        public var fields: [Field]

        /// The field under `column` of the header.
        public func field(_ column: String, in table: CSVTable) -> Field? {
            guard let index = table.columnIndex[column], index < fields.count else { return nil }
            return fields[index]
        }
    }

    public let file: String
    /// `,` or `;`.
    public let separator: Character
    /// The header's column names, trimmed and lowercased.
    public let columns: [String]
    /// Fields of the header, with positions (for errors about a column).
    public let header: [Field]
    public let rows: [Row]
    let columnIndex: [String: Int]

    /// Parses CSV text; `file` names it in errors. Blank lines are skipped.
    public init(text: String, file: String) throws(ConfigError) {
        var body = text
        if body.unicodeScalars.first == "\u{FEFF}" { body.unicodeScalars.removeFirst() }
        let bytes = Array(body.utf8)
        self.file = file
        // Skip leading comment lines, counting them so line numbers stay right.
        var start = 0, startLine = 1
        while start < bytes.count, bytes[start] == UInt8(ascii: "#") {
            while start < bytes.count, bytes[start] != UInt8(ascii: "\n"), bytes[start] != UInt8(ascii: "\r") { start += 1 }
            if start < bytes.count {
                start += (bytes[start] == UInt8(ascii: "\r") && start + 1 < bytes.count
                          && bytes[start + 1] == UInt8(ascii: "\n")) ? 2 : 1
                startLine += 1
            }
        }
        let separatorByte = Self.detectSeparator(bytes[start...])
        separator = Character(Unicode.Scalar(separatorByte))
        var records = try Self.records(bytes, from: start, line: startLine, separator: separatorByte, file: file)
        guard !records.isEmpty else {
            throw ConfigError(ConfigIssue(file: file, line: 1, message: "the file is empty: expected a header row"))
        }
        let headerRow = records.removeFirst()
        header = headerRow.fields
        columns = headerRow.fields.map { $0.text.trimmingCharacters(in: .whitespaces).lowercased() }
        var index: [String: Int] = [:]
        for (offset, name) in columns.enumerated() {
            if name.isEmpty {
                throw ConfigError(ConfigIssue(file: file, line: headerRow.line, column: headerRow.fields[offset].column,
                                              message: "column \(offset + 1) of the header has no name"))
            }
            if index[name] != nil {
                throw ConfigError(ConfigIssue(file: file, line: headerRow.line, column: headerRow.fields[offset].column,
                                              field: name, message: "the column '\(name)' appears twice in the header"))
            }
            index[name] = offset
        }
        columnIndex = index
        var issues: [ConfigIssue] = []
        for record in records where record.fields.count != columns.count {
            issues.append(ConfigIssue(file: file, line: record.line, column: record.fields.first?.column,
                message: "this row has \(record.fields.count) fields, the header \(columns.count) "
                    + "(a field with a '\(separator)' in it must be in double quotes)"))
        }
        if !issues.isEmpty { throw ConfigError(issues) }
        rows = records
    }

    /// Reads the file at `url` (named `displayName` in errors).
    public init(contentsOf url: URL, displayName: String? = nil) throws(ConfigError) {
        let name = displayName ?? url.path
        let data = try ConfigDocument.readFile(url.path, displayName: name)
        try self.init(text: try ConfigDocument.utf8Text(data, file: name), file: name)
    }

    /// `;` when the header (outside quotes) has more semicolons than commas.
    static func detectSeparator(_ bytes: ArraySlice<UInt8>) -> UInt8 {
        var commas = 0, semicolons = 0, quoted = false
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { quoted.toggle() }
            if quoted { continue }
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { break }
            if byte == UInt8(ascii: ",") { commas += 1 }
            if byte == UInt8(ascii: ";") { semicolons += 1 }
        }
        return semicolons > commas ? UInt8(ascii: ";") : UInt8(ascii: ",")
    }

    private static func records(_ bytes: [UInt8], from start: Int, line firstLine: Int, separator: UInt8,
                                file: String) throws(ConfigError) -> [Row] {
        let quote = UInt8(ascii: "\""), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
        var rows: [Row] = []
        var i = start
        var line = firstLine
        var lineStart = start
        /// Column in characters: UTF-8 continuation bytes do not count.
        func column(_ at: Int) -> Int {
            var count = 1
            var k = lineStart
            while k < at {
                if bytes[k] & 0xC0 != 0x80 { count += 1 }
                k += 1
            }
            return count
        }
        func error(_ message: String, line: Int, column: Int) -> ConfigError {
            ConfigError(ConfigIssue(file: file, line: line, column: column, message: message))
        }
        while i < bytes.count {
            // One record.
            let recordLine = line
            var fields: [Field] = []
            var endOfRecord = false
            if bytes[i] == cr || bytes[i] == lf {
                // A blank line.
                i += (bytes[i] == cr && i + 1 < bytes.count && bytes[i + 1] == lf) ? 2 : 1
                line += 1
                lineStart = i
                continue
            }
            while !endOfRecord {
                let fieldLine = line, fieldColumn = column(i)
                var text: [UInt8] = []
                if i < bytes.count, bytes[i] == quote {
                    i += 1
                    var closed = false
                    while i < bytes.count {
                        let byte = bytes[i]
                        if byte == quote {
                            if i + 1 < bytes.count, bytes[i + 1] == quote {
                                text.append(quote)
                                i += 2
                                continue
                            }
                            i += 1
                            closed = true
                            break
                        }
                        if byte == lf || (byte == cr && !(i + 1 < bytes.count && bytes[i + 1] == lf)) {
                            text.append(byte)
                            i += 1
                            line += 1
                            lineStart = i
                            continue
                        }
                        text.append(byte)
                        i += 1
                    }
                    if !closed {
                        throw error("unterminated quoted field (the quote opened here is never closed)",
                                    line: fieldLine, column: fieldColumn)
                    }
                    if i < bytes.count, bytes[i] != separator, bytes[i] != cr, bytes[i] != lf {
                        throw error("unexpected text after a closing quote (a quote inside a quoted field is written twice: \"\")",
                                    line: line, column: column(i))
                    }
                } else {
                    while i < bytes.count, bytes[i] != separator, bytes[i] != cr, bytes[i] != lf {
                        if bytes[i] == quote {
                            throw error("a quote inside a field that does not start with one: put the whole field in quotes and write the quote twice (\"\")",
                                        line: line, column: column(i))
                        }
                        text.append(bytes[i])
                        i += 1
                    }
                }
                fields.append(Field(text: String(decoding: text, as: UTF8.self), line: fieldLine, column: fieldColumn))
                if i < bytes.count, bytes[i] == separator {
                    i += 1
                } else {
                    endOfRecord = true
                    if i < bytes.count {
                        i += (bytes[i] == cr && i + 1 < bytes.count && bytes[i + 1] == lf) ? 2 : 1
                        line += 1
                        lineStart = i
                    }
                }
            }
            rows.append(Row(line: recordLine, fields: fields))
        }
        return rows
    }
}
