import Foundation

/// How bad a problem is (SPEC.md, "Priority").
public enum Severity: Int, Sendable, Hashable, Codable, CaseIterable, Comparable, CustomStringConvertible {
    /// System down / production stopped.
    case critical = 1
    /// Major function impaired.
    case major = 2
    /// Minor impairment.
    case minor = 3
    /// Question or request.
    case question = 4

    /// Parses "1"…"4", with spaces or tabs around it (what Foundation's
    /// `.whitespaces` trims: tab and Unicode space separators). Trimmed here
    /// without Foundation: it runs on every severity answer, the step that
    /// pages, and `trimmingCharacters(in:)` cost about 5 µs of that step
    /// (issue 12).
    public init?(text: String) {
        var body = Substring(text)
        while let first = body.first, Self.isBlank(first) { body.removeFirst() }
        while let last = body.last, Self.isBlank(last) { body.removeLast() }
        guard let value = Int(body), let severity = Severity(rawValue: value) else {
            return nil
        }
        self = severity
    }

    /// Tab or a Unicode space separator (`CharacterSet.whitespaces`).
    private static func isBlank(_ character: Character) -> Bool {
        character == " " || character == "\t"
            || character.unicodeScalars.allSatisfy { $0.properties.generalCategory == .spaceSeparator }
    }

    /// Lower raw value is more severe, so `critical < question`.
    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { String(rawValue) }
}

/// The two groups of customers the support policy knows.
public enum CustomerGroup: String, Sendable, Hashable, Codable, CaseIterable {
    /// An active service and maintenance contract.
    case contract
    /// No contract, or an expired one, or not proven (three wrong PINs).
    case noContract = "none"
}

/// A ticket's priority: the group first, then severity.
/// `P1`…`P4` are contract severities 1…4, `P5`…`P8` non-contract 1…4.
public struct Priority: Sendable, Hashable, CustomStringConvertible {
    public let group: CustomerGroup
    public let severity: Severity

    public init(group: CustomerGroup, severity: Severity) {
        self.group = group
        self.severity = severity
    }

    /// 1 (most urgent) … 8 (least urgent).
    public var rank: Int { (group == .contract ? 0 : 4) + severity.rawValue }

    /// `P1` … `P8`.
    public var label: String { "P\(rank)" }

    public var description: String { label }

    /// Whether this priority is handed out before `other` (ties are decided
    /// by age and number, not here).
    public func isMoreUrgent(than other: Priority) -> Bool { rank < other.rank }
}
