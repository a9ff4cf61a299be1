import Config
import Desk
import Foundation

// The shapes of the desk's configuration files, as written in `config/`.
// They are decoded strictly by `ConfigDocument` (unknown keys are errors)
// and then checked and turned into the domain values by
// `DeskConfiguration`. Each file documents itself in a comment at its top.

/// `tiers.json5`
struct TiersFile: Decodable {
    struct Entry: Decodable {
        var id: String
        var name: String
        /// "1"…"4" → terms.
        var severities: [String: Terms]
    }

    struct Terms: Decodable {
        var response: ConfigDuration
        var coverage: Coverage
    }

    var tiers: [Entry]
}

/// A customer number as written in a file: in quotes, because leading
/// zeros count and numbers are not for arithmetic.
struct CustomerNumberText: Decodable, ConfigValue {
    static var configExpectation: String { "a customer number in quotes, like \"10042\"" }
    var text: String

    init(from decoder: any Decoder) throws {
        text = try decoder.singleValueContainer().decode(String.self)
    }
}

/// `customers.json5`
struct CustomersFile: Decodable {
    struct Entry: Decodable {
        var number: CustomerNumberText
        var name: String
        var contract: ContractEntry?
        var pinHash: String?
        var accounts: [LinkedAccount]?

        enum CodingKeys: String, CodingKey {
            case number, name, contract, pinHash, accounts
            case pin
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if container.contains(.pin) {
                throw DecodingError.dataCorrupted(.init(codingPath: container.codingPath + [CodingKeys.pin],
                    debugDescription: "a PIN is never stored in clear: run `switchboard hash-pin`, type the PIN, "
                        + "and put the line it prints into `pinHash` instead"))
            }
            number = try container.decode(CustomerNumberText.self, forKey: .number)
            name = try container.decode(String.self, forKey: .name)
            contract = try container.decodeIfPresent(ContractEntry.self, forKey: .contract)
            pinHash = try container.decodeIfPresent(String.self, forKey: .pinHash)
            accounts = try container.decodeIfPresent([LinkedAccount].self, forKey: .accounts)
        }
    }

    struct ContractEntry: Decodable {
        var tier: String
        var from: CalendarDate
        var until: CalendarDate
    }

    var customers: [Entry]
}

/// `agents.json5`
struct AgentsFile: Decodable {
    struct AgentEntry: Decodable {
        var id: String
        var name: String
        var nick: String
        var accounts: [String: String]?
        var masks: [String]?
    }

    struct Handover: Decodable {
        var weekday: Weekday
        var time: LocalTime
    }

    struct RotationEntry: Decodable {
        var start: CalendarDate
        var handover: Handover
        var order: [String?]
    }

    struct OverrideEntry: Decodable {
        var agent: String?
        var from: LocalDateTime
        var until: LocalDateTime
        var reason: String

        enum CodingKeys: String, CodingKey { case agent, from, until, reason }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            // `agent: null` means "no one on duty"; leaving it out is more
            // likely a mistake, so it must be written.
            guard container.contains(.agent) else {
                throw DecodingError.keyNotFound(CodingKeys.agent, .init(codingPath: container.codingPath,
                    debugDescription: "missing field 'agent' (write null for \"no one on duty\")"))
            }
            agent = try container.decodeIfPresent(String.self, forKey: .agent)
            from = try container.decode(LocalDateTime.self, forKey: .from)
            until = try container.decode(LocalDateTime.self, forKey: .until)
            reason = try container.decode(String.self, forKey: .reason)
        }
    }

    struct WeekHours: Decodable {
        var monday: [TimeRange]?
        var tuesday: [TimeRange]?
        var wednesday: [TimeRange]?
        var thursday: [TimeRange]?
        var friday: [TimeRange]?
        var saturday: [TimeRange]?
        var sunday: [TimeRange]?

        subscript(day: Weekday) -> [TimeRange]? {
            switch day {
            case .monday: monday
            case .tuesday: tuesday
            case .wednesday: wednesday
            case .thursday: thursday
            case .friday: friday
            case .saturday: saturday
            case .sunday: sunday
            }
        }
    }

    struct Holiday: Decodable {
        var date: CalendarDate
        var name: String
    }

    var timeZone: String?
    var agents: [AgentEntry]
    var backup: String?
    var rotation: RotationEntry
    var overrides: [OverrideEntry]?
    var businessHours: WeekHours
    var holidays: [Holiday]?
}

/// `escalation.json5`
struct EscalationFile: Decodable {
    struct Step: Decodable {
        var after: ConfigDuration
        var page: [PageTarget]
    }

    struct SLA: Decodable {
        /// Percent of the response time at which the channel is warned.
        var warnAtPercent: Int
    }

    struct NonContract: Decodable {
        var offerMessageAfter: ConfigDuration
    }

    var steps: [Step]
    var sla: SLA?
    var nonContract: NonContract?
}
