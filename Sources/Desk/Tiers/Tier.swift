import Config
import Foundation

/// When a tier's support is given: around the clock, or during business
/// hours only. It decides both whether an agent is paged at night and
/// whether the SLA clock runs outside business hours.
public enum Coverage: String, Sendable, Hashable, Codable, ConfigValue, CustomStringConvertible {
    case allDay = "24/7"
    case businessHours = "business-hours"

    public static var configExpectation: String { "\"24/7\" or \"business-hours\"" }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Coverage(rawValue: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "expected \(Self.configExpectation), found \"\(text)\""))
        }
        self = value
    }
}

/// What a tier promises for one severity.
public struct TierTerms: Sendable, Hashable {
    /// Time to the first response (acknowledge, take or reply), counted on
    /// the clock that `coverage` names.
    public var responseTime: TimeInterval
    public var coverage: Coverage

    public init(responseTime: TimeInterval, coverage: Coverage) {
        self.responseTime = responseTime
        self.coverage = coverage
    }
}

/// A contract tier (`basic`, `premium`, `enterprise`) and its terms per
/// severity.
public struct Tier: Sendable, Hashable, Identifiable {
    public var id: String
    /// For people: `Premium`.
    public var name: String
    /// Terms for each of the four severities.
    public var terms: [Severity: TierTerms]

    public init(id: String, name: String, terms: [Severity: TierTerms]) {
        self.id = id
        self.name = name
        self.terms = terms
    }
}

/// The configured tiers, by id.
public struct TierCatalog: Sendable {
    private let byID: [String: Tier]
    /// In the order of the file.
    public let all: [Tier]

    public init(_ tiers: [Tier]) {
        all = tiers
        var map: [String: Tier] = [:]
        for tier in tiers where map[tier.id] == nil { map[tier.id] = tier }
        byID = map
    }

    public func tier(_ id: String) -> Tier? { byID[id] }

    /// The terms for a contract ticket of `tier` and `severity`; nil for an
    /// unknown tier.
    public func terms(tier: String, severity: Severity) -> TierTerms? {
        byID[tier]?.terms[severity]
    }
}
