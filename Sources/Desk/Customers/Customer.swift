import Foundation

/// A chat account linked to a customer: someone logged in as `account` on
/// `network` is that customer without a PIN (SPEC "Customer conversation").
public struct LinkedAccount: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The configured network name (`libera`, `demo`).
    public var network: String
    /// The services account (IRC) or user id (Matrix).
    public var account: String

    public init(network: String, account: String) {
        self.network = network
        self.account = account
    }

    /// `libera:acme-it`
    public var description: String { "\(network):\(account)" }
}

/// A service and maintenance contract: a tier, valid from one calendar day
/// to another (both included) in the desk's time zone. Outside those days
/// it is no contract at all.
public struct Contract: Sendable, Hashable, Codable {
    /// A tier id from the tiers file (`basic`, `premium`, `enterprise`).
    public var tier: String
    public var from: CalendarDate
    public var until: CalendarDate

    public init(tier: String, from: CalendarDate, until: CalendarDate) {
        self.tier = tier
        self.from = from
        self.until = until
    }

    /// Whether `date` is one of the contract's days.
    public func isValid(on date: CalendarDate) -> Bool { from <= date && date <= until }
}

/// A customer of the desk: number, name, contract, PIN hash, linked accounts.
public struct Customer: Sendable, Hashable {
    /// Digits only (`10042`); leading zeros count.
    public var number: String
    public var name: String
    public var contract: Contract?
    /// Nil when the customer has no PIN (they then prove who they are only
    /// by a linked account).
    public var pinHash: PINHash?
    public var accounts: [LinkedAccount]

    public init(number: String, name: String, contract: Contract?, pinHash: PINHash?, accounts: [LinkedAccount] = []) {
        self.number = number
        self.name = name
        self.contract = contract
        self.pinHash = pinHash
        self.accounts = accounts
    }

    /// The contract valid at `instant` (judged on the calendar day of `zone`), or nil.
    public func activeContract(at instant: Date, zone: ZonedCalendar) -> Contract? {
        guard let contract, contract.isValid(on: zone.date(of: instant)) else { return nil }
        return contract
    }

    /// Whether `number` is a well-formed customer number: 1–12 ASCII digits.
    public static func isValidNumber(_ number: String) -> Bool {
        (1...12).contains(number.count) && number.allSatisfy { $0.isASCII && $0.isNumber }
    }
}

/// All configured customers, looked up by number or by linked account.
///
/// Contract validity is judged on the calendar day of the instant in the
/// desk's time zone: a contract `until: 2027-12-31` holds until midnight
/// at the end of that day in Berlin, not in UTC.
public struct CustomerDirectory: Sendable {
    public let zone: ZonedCalendar
    /// Checks PINs against the stored hashes (injected: the desk holds no
    /// crypto of its own).
    public let verifier: any PINVerifier
    private let byNumber: [String: Customer]
    /// Network → linked accounts as configured, in configuration order.
    private let byNetwork: [String: [(account: String, number: String)]]

    /// Two customers with one number, or one account linked to two
    /// customers, is a mistake the configuration check reports; here the
    /// first one wins so a directory can always be built.
    public init(customers: [Customer], zone: ZonedCalendar, verifier: any PINVerifier) {
        self.zone = zone
        self.verifier = verifier
        var numbers: [String: Customer] = [:]
        var accounts: [String: [(account: String, number: String)]] = [:]
        for customer in customers where numbers[customer.number] == nil {
            numbers[customer.number] = customer
            for linked in customer.accounts {
                accounts[linked.network, default: []].append((linked.account, customer.number))
            }
        }
        byNumber = numbers
        byNetwork = accounts
    }

    public var count: Int { byNumber.count }

    /// Every customer, by number.
    public var all: [Customer] { byNumber.values.sorted { $0.number < $1.number } }

    /// The customer with this number (white space around it is ignored).
    public func customer(number: String) -> Customer? {
        byNumber[number.trimmingCharacters(in: .whitespaces)]
    }

    /// The customer whose linked account on `network` is `account`, both
    /// sides compared by `normalize` (the network's rule for accounts: IRC
    /// services fold case, Matrix ids do not; the default compares exactly).
    /// A scan of that network's linked accounts: one per conversation start.
    public func customer(network: String, account: String, normalize: (String) -> String = { $0 }) -> Customer? {
        let wanted = normalize(account)
        return byNetwork[network]?.first { normalize($0.account) == wanted }.flatMap { byNumber[$0.number] }
    }

    /// The customer a chat identity proves to be: only by its authenticated
    /// account, never by nick.
    public func customer(linkedTo identity: ChatIdentity, normalize: (String) -> String = { $0 }) -> Customer? {
        guard let account = identity.account else { return nil }
        return customer(network: identity.network, account: account, normalize: normalize)
    }

    /// Whether `identity` is logged in to an account linked to customer
    /// `number` — then no PIN is asked.
    public func isLinked(_ identity: ChatIdentity, to number: String, normalize: (String) -> String = { $0 }) -> Bool {
        customer(linkedTo: identity, normalize: normalize)?.number == number.trimmingCharacters(in: .whitespaces)
    }

    /// The contract of customer `number` that is valid at `instant`, or nil
    /// (no such customer, no contract, expired, or not yet valid).
    public func activeContract(number: String, at instant: Date) -> Contract? {
        customer(number: number)?.activeContract(at: instant, zone: zone)
    }

    /// Whether `pin` is customer `number`'s PIN. False for unknown numbers
    /// and customers without a PIN. Costs one ``PINVerifier`` check (a PBKDF2,
    /// about half a second at the default iterations): call it off any
    /// latency-sensitive path.
    public func verifyPIN(number: String, pin: String) -> Bool {
        guard let hash = customer(number: number)?.pinHash else { return false }
        return verifier.verify(pin: pin, against: hash)
    }
}
