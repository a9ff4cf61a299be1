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

    /// Parses "1"…"4".
    public init?(text: String) {
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), let severity = Severity(rawValue: value) else {
            return nil
        }
        self = severity
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
