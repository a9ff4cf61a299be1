import Config
import Desk
import Foundation

/// Reads the desk's configuration files — `tiers.json5`, the customer files
/// (`.json5` and CRM `.csv` exports), `agents.json5`, `escalation.json5` —
/// checks them against each other and builds a ``DeskConfiguration``.
///
/// Loading is a pure function of the files: it returns a new immutable
/// value or a `ConfigError` listing every problem found in every file (each
/// with file, line, field), never half a configuration. The gateway loads at
/// start and again on reload (SIGHUP), and swaps the value only when loading
/// succeeded. The desk itself reads no files; this is where its files are.
///
/// ```swift
/// let paths = DeskFiles.Paths(directory: "config", customers: ["customers.json5", "customers.csv"])
/// let desk = try DeskFiles.load(paths, verifier: PBKDF2PINVerifier())
/// ```
public enum DeskFiles {
    /// Which files to read. Every file named must exist: a missing customer
    /// file is an error, not a desk with fewer customers.
    public struct Paths: Sendable, Hashable {
        public var tiers: String
        /// `.json5` and/or `.csv` files; their customers are merged.
        public var customers: [String]
        public var agents: String
        public var escalation: String

        public init(tiers: String, customers: [String], agents: String, escalation: String) {
            self.tiers = tiers
            self.customers = customers
            self.agents = agents
            self.escalation = escalation
        }

        /// `tiers.json5`, `agents.json5` and `escalation.json5` in
        /// `directory`, and the customer files named (relative to
        /// `directory` unless absolute).
        public init(directory: String, customers: [String]) {
            func path(_ name: String) -> String {
                if name.hasPrefix("/") { return name }
                return directory.hasSuffix("/") ? directory + name : directory + "/" + name
            }
            self.init(tiers: path("tiers.json5"), customers: customers.map(path), agents: path("agents.json5"),
                      escalation: path("escalation.json5"))
        }
    }

    /// Loads and cross-checks the files named by `paths`; the customers'
    /// PINs will be checked by `verifier`.
    public static func load(_ paths: Paths, verifier: any PINVerifier) throws(ConfigError) -> DeskConfiguration {
        var loader = Loader()
        let tiersDoc = loader.document(paths.tiers)
        let agentsDoc = loader.document(paths.agents)
        let escalationDoc = loader.document(paths.escalation)

        let tiers = tiersDoc.flatMap { loader.decode(TiersFile.self, $0) }.map { loader.tiers($0, tiersDoc!) }
        let agentsPart = agentsDoc.flatMap { loader.decode(AgentsFile.self, $0) }.map { loader.agents($0, agentsDoc!) }
        let escalation = escalationDoc.flatMap { loader.decode(EscalationFile.self, $0) }
            .map { loader.escalation($0, escalationDoc!) }
        if paths.customers.isEmpty {
            loader.issues.append(ConfigIssue(file: "desk configuration", field: "customers",
                                             message: "no customer files are named: list customers.json5 and/or "
                                                + "customers.csv"))
        }
        let customers = loader.customers(paths.customers, tiers: tiers.map { TierCatalog($0) })

        guard loader.issues.isEmpty, let tiers, let agentsPart, let escalation, let customers else {
            throw ConfigError(loader.issues)
        }
        let catalog = TierCatalog(tiers)
        return DeskConfiguration(
            zone: agentsPart.zone, tiers: catalog,
            customers: CustomerDirectory(customers: customers, zone: agentsPart.zone, verifier: verifier),
            agents: agentsPart.roster.agents, roster: agentsPart.roster, calendar: agentsPart.calendar,
            escalation: escalation.policy,
            sla: SLAPolicy(tiers: catalog, calendar: agentsPart.calendar, warningFraction: escalation.warningFraction),
            messageOfferDelay: escalation.messageOfferDelay)
    }
}

// MARK: - Loading and checking

/// Collects issues across all files so one run reports all of them.
private struct Loader {
    var issues: [ConfigIssue] = []

    mutating func document(_ path: String) -> ConfigDocument? {
        do {
            return try ConfigDocument(contentsOf: URL(fileURLWithPath: path), displayName: path)
        } catch {
            issues += error.issues
            return nil
        }
    }

    mutating func decode<T: Decodable>(_ type: T.Type, _ document: ConfigDocument) -> T? {
        do {
            return try document.decode(type)
        } catch {
            issues += error.issues
            return nil
        }
    }

    mutating func add(_ document: ConfigDocument, _ path: ConfigPath, _ message: String) {
        issues.append(document.issue(message, at: path))
    }

    static func isIdentifier(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 40
            && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)
                || $0 == "-" || $0 == "_" || $0 == ".") }
    }

    static func location(_ issue: ConfigIssue) -> String {
        issue.line.map { "\(issue.file):\($0)" } ?? issue.file
    }

    // MARK: Tiers

    mutating func tiers(_ file: TiersFile, _ doc: ConfigDocument) -> [Tier] {
        var result: [Tier] = []
        var seen: [String: Int] = [:]
        if file.tiers.isEmpty { add(doc, ConfigPath("tiers"), "no tiers: define at least one (e.g. basic, premium, enterprise)") }
        for (i, entry) in file.tiers.enumerated() {
            let path = ConfigPath("tiers", .index(i))
            if !Self.isIdentifier(entry.id) {
                add(doc, path.appending("id"), "a tier id is a short name of letters, digits, '-', '_' or '.', found \"\(entry.id)\"")
            }
            if let first = seen[entry.id] {
                add(doc, path.appending("id"), "the tier '\(entry.id)' is defined twice (first as tiers[\(first)])")
            }
            seen[entry.id] = seen[entry.id] ?? i
            if entry.name.trimmingCharacters(in: .whitespaces).isEmpty { add(doc, path.appending("name"), "the name is empty") }
            var terms: [Severity: TierTerms] = [:]
            for key in entry.severities.keys.sorted() {
                guard let severity = Severity(rawValue: Int(key) ?? 0), String(severity.rawValue) == key else {
                    add(doc, path.appending("severities").appending(.key(key)),
                        "unknown severity '\(key)': severities are \"1\" (system down) … \"4\" (question)")
                    continue
                }
                let value = entry.severities[key]!
                if value.response.seconds <= 0 {
                    add(doc, path.appending("severities").appending(.key(key)).appending("response"),
                        "the response time must be longer than 0")
                }
                terms[severity] = TierTerms(responseTime: value.response.timeInterval, coverage: value.coverage)
            }
            let missing = Severity.allCases.filter { terms[$0] == nil && entry.severities[String($0.rawValue)] == nil }
            if !missing.isEmpty {
                add(doc, path.appending("severities"), "missing terms for severity \(missing.map(\.description).joined(separator: ", ")): "
                    + "every tier sets a response time and coverage for each of \"1\" … \"4\"")
            }
            result.append(Tier(id: entry.id, name: entry.name, terms: terms))
        }
        return result
    }

    // MARK: Agents, roster, business hours

    struct AgentsPart {
        var zone: ZonedCalendar
        var roster: Roster
        var calendar: BusinessCalendar
    }

    mutating func agents(_ file: AgentsFile, _ doc: ConfigDocument) -> AgentsPart {
        // Time zone.
        var zone = ZonedCalendar.berlin
        if let name = file.timeZone {
            if let timeZone = TimeZone(identifier: name), TimeZone.knownTimeZoneIdentifiers.contains(name) || name == "UTC" {
                zone = ZonedCalendar(timeZone: timeZone)
            } else {
                var message = "unknown time zone '\(name)'"
                if let guess = ConfigDocument.closest(to: name, in: Set(TimeZone.knownTimeZoneIdentifiers)) {
                    message += " — did you mean '\(guess)'?"
                } else {
                    message += " (use an IANA name like \"Europe/Berlin\")"
                }
                add(doc, ConfigPath("timeZone"), message)
            }
        }

        // Agents.
        var agents: [Agent] = []
        var ids: [String: Int] = [:], nicks: [String: Int] = [:], accounts: [String: (Int, String)] = [:]
        if file.agents.isEmpty { add(doc, ConfigPath("agents"), "no agents: define at least one") }
        for (i, entry) in file.agents.enumerated() {
            let path = ConfigPath("agents", .index(i))
            if !Self.isIdentifier(entry.id) {
                add(doc, path.appending("id"), "an agent id is a short name of letters, digits, '-', '_' or '.', found \"\(entry.id)\"")
            }
            if let first = ids[entry.id] { add(doc, path.appending("id"), "the agent id '\(entry.id)' is used twice (first by agents[\(first)])") }
            ids[entry.id] = ids[entry.id] ?? i
            if entry.name.trimmingCharacters(in: .whitespaces).isEmpty { add(doc, path.appending("name"), "the name is empty") }
            let nick = entry.nick
            if nick.isEmpty || nick.count > 30 || nick.unicodeScalars.contains(where: {
                $0.value <= 0x20 || "!@*?,:#&$%".unicodeScalars.contains($0) || $0.value == 0x7F
            }) || nick.first.map({ $0.isNumber || $0 == "-" }) == true {
                add(doc, path.appending("nick"), "\"\(nick)\" is not a valid nick")
            }
            // Case-insensitively, whatever a network's own rule: two agents
            // whose nicks differ only in case are a mistake on any network.
            let folded = nick.lowercased()
            if let first = nicks[folded] { add(doc, path.appending("nick"), "the nick '\(nick)' is used twice (first by agents[\(first)])") }
            nicks[folded] = nicks[folded] ?? i
            for (network, account) in (entry.accounts ?? [:]).sorted(by: { $0.key < $1.key }) {
                let accountPath = path.appending("accounts").appending(.key(network))
                if network.isEmpty || network.contains(" ") { add(doc, accountPath, "\"\(network)\" is not a network name") }
                if account.trimmingCharacters(in: .whitespaces).isEmpty || account.contains(" ") {
                    add(doc, accountPath, "\"\(account)\" is not an account name")
                }
                let key = network + "\u{0}" + account.lowercased()
                if let (first, _) = accounts[key], first != i {
                    add(doc, accountPath, "the account \(network):\(account) is also agents[\(first)]'s: an account proves one person")
                }
                accounts[key] = accounts[key] ?? (i, entry.id)
            }
            // What a mask means is the network adapter's: the gateway's
            // configuration check validates masks with each network's rule.
            let masks = entry.masks ?? []
            for (m, text) in masks.enumerated() where text.isEmpty || text.contains(where: \.isWhitespace) {
                add(doc, path.appending("masks").appending(.index(m)), "\"\(text)\" is empty or contains white space")
            }
            if (entry.accounts ?? [:]).isEmpty && (entry.masks ?? []).isEmpty {
                add(doc, path, "agent '\(entry.id)' has neither accounts nor masks: no one could ever be recognised as this agent "
                    + "(a nick alone proves nothing)")
            }
            agents.append(Agent(id: entry.id, name: entry.name, nick: nick, accounts: entry.accounts ?? [:], masks: masks))
        }
        let directory = AgentDirectory(agents)
        let known = agents.map(\.id)
        func checkAgent(_ id: String, at path: ConfigPath, role: String) {
            guard directory.agent(id: id) == nil else { return }
            var message = "the agent '\(id)' \(role) is not defined"
            if let guess = ConfigDocument.closest(to: id, in: Set(known)) {
                message += " — did you mean '\(guess)'?"
            } else {
                message += " (agents: \(known.joined(separator: ", ")))"
            }
            add(doc, path, message)
        }

        // Rotation.
        let rotation = file.rotation
        if rotation.order.isEmpty { add(doc, ConfigPath("rotation", "order"), "the rotation has no one in it") }
        for (i, id) in rotation.order.enumerated() {
            if let id { checkAgent(id, at: ConfigPath("rotation", "order", .index(i)), role: "in the rotation") }
        }
        if rotation.start.weekday != rotation.handover.weekday {
            add(doc, ConfigPath("rotation", "start"), "\(rotation.start) is a \(rotation.start.weekday), but the handover is on "
                + "\(rotation.handover.weekday): start the rotation on a handover day")
        }
        if let backup = file.backup { checkAgent(backup, at: ConfigPath("backup"), role: "named as backup") }

        // Overrides.
        var overrides: [RosterOverride] = []
        for (i, entry) in (file.overrides ?? []).enumerated() {
            let path = ConfigPath("overrides", .index(i))
            if let agent = entry.agent { checkAgent(agent, at: path.appending("agent"), role: "in this override") }
            let from = zone.instant(on: entry.from.date, at: entry.from.time)
            let until = zone.instant(on: entry.until.date, at: entry.until.time)
            if until <= from { add(doc, path.appending("until"), "the override ends (\(entry.until)) before it starts (\(entry.from))") }
            if entry.reason.trimmingCharacters(in: .whitespaces).isEmpty { add(doc, path.appending("reason"), "say why (the reason is empty)") }
            overrides.append(RosterOverride(id: i + 1, agent: entry.agent, from: from, until: until, reason: entry.reason))
        }

        // Business hours and holidays.
        var hours: [Weekday: [TimeRange]] = [:]
        for day in Weekday.allCases {
            let ranges = (file.businessHours[day] ?? []).sorted { $0.start < $1.start }
            for (a, b) in zip(ranges, ranges.dropFirst()) where b.start < a.end {
                add(doc, ConfigPath("businessHours", .key(day.name)), "\(a) and \(b) overlap")
            }
            hours[day] = ranges
        }
        if hours.values.allSatisfy(\.isEmpty) {
            add(doc, ConfigPath("businessHours"), "no business hours on any day: tickets of a business-hours tier would never be served")
        }
        var holidays: [CalendarDate: String] = [:]
        var holidayIndex: [CalendarDate: Int] = [:]
        for (i, holiday) in (file.holidays ?? []).enumerated() {
            if let first = holidayIndex[holiday.date] {
                add(doc, ConfigPath("holidays", .index(i), "date"), "\(holiday.date) is listed twice (also holidays[\(first)])")
            }
            holidayIndex[holiday.date] = holidayIndex[holiday.date] ?? i
            holidays[holiday.date] = holiday.name
        }

        let roster = Roster(zone: zone, agents: directory,
                            rotation: Rotation(start: rotation.start, time: rotation.handover.time, order: rotation.order),
                            backup: file.backup, overrides: overrides)
        return AgentsPart(zone: zone, roster: roster, calendar: BusinessCalendar(zone: zone, hours: hours, holidays: holidays))
    }

    // MARK: Escalation

    struct EscalationPart {
        var policy: EscalationPolicy
        var warningFraction: Double
        var messageOfferDelay: TimeInterval
    }

    mutating func escalation(_ file: EscalationFile, _ doc: ConfigDocument) -> EscalationPart {
        var steps: [EscalationStep] = []
        if file.steps.isEmpty {
            add(doc, ConfigPath("steps"), "no escalation steps: contract tickets must page the on-duty agent at once")
        }
        for (i, step) in file.steps.enumerated() {
            let path = ConfigPath("steps", .index(i))
            if i == 0, step.after.seconds != 0 {
                add(doc, path.appending("after"), "the first step must page at once (after: \"0m\"): a contract ticket pages "
                    + "the on-duty agent immediately")
            }
            if i > 0, step.after <= file.steps[i - 1].after {
                add(doc, path.appending("after"), "steps must come in order of time: \(step.after) is not after the previous step's "
                    + "\(file.steps[i - 1].after)")
            }
            if step.page.isEmpty { add(doc, path.appending("page"), "the step pages no one") }
            if Set(step.page).count != step.page.count { add(doc, path.appending("page"), "a target is listed twice") }
            steps.append(EscalationStep(after: step.after.timeInterval, targets: step.page))
        }
        var fraction = 0.8
        if let sla = file.sla {
            if (1...99).contains(sla.warnAtPercent) {
                fraction = Double(sla.warnAtPercent) / 100
            } else {
                add(doc, ConfigPath("sla", "warnAtPercent"), "expected a percentage between 1 and 99, found \(sla.warnAtPercent)")
            }
        }
        return EscalationPart(policy: EscalationPolicy(steps: steps), warningFraction: fraction,
                              messageOfferDelay: file.nonContract?.offerMessageAfter.timeInterval ?? 180)
    }

    // MARK: Customers

    /// Which part of a customer an issue is about.
    enum CustomerField {
        case entry, number, name, tier, from, until, pinHash, account(Int)
    }

    /// A customer read from either file, with a way to point at its fields.
    struct Draft {
        var number: String
        var name: String
        var contract: Contract?
        var pinHash: String?
        var accounts: [LinkedAccount]
        var at: (CustomerField) -> ConfigIssue
    }

    mutating func customers(_ paths: [String], tiers: TierCatalog?) -> [Customer]? {
        var drafts: [Draft] = []
        let before = issues.count
        for path in paths {
            if path.lowercased().hasSuffix(".csv") {
                do {
                    let table = try CSVTable(contentsOf: URL(fileURLWithPath: path), displayName: path)
                    drafts += csvDrafts(table)
                } catch {
                    issues += error.issues
                }
            } else if let doc = document(path), let file = decode(CustomersFile.self, doc) {
                drafts += jsonDrafts(file, doc)
            }
        }
        var customers: [Customer] = []
        var numbers: [String: ConfigIssue] = [:]
        var accounts: [String: (String, ConfigIssue)] = [:]
        func report(_ draft: Draft, _ field: CustomerField, _ message: String) {
            var issue = draft.at(field)
            issue.message = message
            issues.append(issue)
        }
        for draft in drafts {
            if !Customer.isValidNumber(draft.number) {
                report(draft, .number, "a customer number is 1–12 digits, found \"\(draft.number)\"")
            } else if let first = numbers[draft.number] {
                report(draft, .number, "the customer number \(draft.number) is used twice (also at \(Self.location(first)))")
            } else {
                numbers[draft.number] = draft.at(.number)
            }
            if draft.name.trimmingCharacters(in: .whitespaces).isEmpty { report(draft, .name, "the name is empty") }
            var hash: PINHash?
            if let text = draft.pinHash, !text.isEmpty {
                do { hash = try PINHash(encoded: text) } catch { report(draft, .pinHash, error.description) }
            }
            if let contract = draft.contract {
                if let tiers, tiers.tier(contract.tier) == nil {
                    let known = tiers.all.map(\.id)
                    var message = "unknown tier '\(contract.tier)'"
                    if let guess = ConfigDocument.closest(to: contract.tier, in: Set(known)) {
                        message += " — did you mean '\(guess)'?"
                    } else {
                        message += " (tiers: \(known.joined(separator: ", ")))"
                    }
                    report(draft, .tier, message)
                }
                if contract.until < contract.from {
                    report(draft, .until, "the contract ends (\(contract.until)) before it starts (\(contract.from))")
                }
                if draft.pinHash.map(\.isEmpty) ?? true, draft.accounts.isEmpty {
                    report(draft, .entry, "customer \(draft.number) has a contract but neither a pinHash nor a linked account: "
                        + "no one could prove to be this customer (run `switchboard hash-pin` to make a PIN hash)")
                }
            }
            for (i, account) in draft.accounts.enumerated() {
                if account.network.isEmpty || account.network.contains(" ") || account.account.isEmpty
                    || account.account.contains(" ") {
                    report(draft, .account(i), "\"\(account)\" is not network:account")
                    continue
                }
                // Case-insensitively, whatever the network's own rule: one
                // account linked twice in different case is a mistake anywhere.
                let key = account.network + "\u{0}" + account.account.lowercased()
                if let (other, first) = accounts[key], other != draft.number {
                    report(draft, .account(i), "the account \(account) is linked to customers \(other) and \(draft.number) "
                        + "(also at \(Self.location(first))): a linked account must name one customer")
                } else {
                    accounts[key] = (draft.number, draft.at(.account(i)))
                }
            }
            customers.append(Customer(number: draft.number, name: draft.name, contract: draft.contract, pinHash: hash,
                                      accounts: draft.accounts))
        }
        return issues.count == before ? customers : nil
    }

    func jsonDrafts(_ file: CustomersFile, _ doc: ConfigDocument) -> [Draft] {
        file.customers.enumerated().map { i, entry in
            Draft(number: entry.number.text, name: entry.name,
                  contract: entry.contract.map { Contract(tier: $0.tier, from: $0.from, until: $0.until) },
                  pinHash: entry.pinHash, accounts: entry.accounts ?? []) { field in
                let base = ConfigPath("customers", .index(i))
                let path: ConfigPath = switch field {
                case .entry: base
                case .number: base.appending("number")
                case .name: base.appending("name")
                case .tier: base.appending(ConfigPath("contract", "tier"))
                case .from: base.appending(ConfigPath("contract", "from"))
                case .until: base.appending(ConfigPath("contract", "until"))
                case .pinHash: base.appending("pinHash")
                case .account(let a): base.appending(ConfigPath("accounts", .index(a)))
                }
                return doc.issue("", at: path)
            }
        }
    }

    static let csvColumns = ["customer_number", "name", "tier", "contract_from", "contract_until", "pin_hash", "accounts"]

    mutating func csvDrafts(_ table: CSVTable) -> [Draft] {
        let file = table.file
        var ok = true
        for (i, column) in table.columns.enumerated() where !Self.csvColumns.contains(column) {
            var message = "unknown column '\(column)'"
            if let guess = ConfigDocument.closest(to: column, in: Set(Self.csvColumns)) { message += " — did you mean '\(guess)'?" }
            message += " (columns: \(Self.csvColumns.joined(separator: ", ")))"
            issues.append(ConfigIssue(file: file, line: table.header[i].line, column: table.header[i].column, field: column,
                                      message: message))
            ok = false
        }
        for required in ["customer_number", "name"] where !table.columns.contains(required) {
            issues.append(ConfigIssue(file: file, line: table.header.first?.line, field: required, message: "the header has no column '\(required)'"))
            ok = false
        }
        let contractColumns = ["tier", "contract_from", "contract_until"]
        let present = contractColumns.filter(table.columns.contains)
        if !present.isEmpty, present.count != contractColumns.count {
            issues.append(ConfigIssue(file: file, line: table.header.first?.line, message: "a contract needs the columns tier, contract_from and "
                + "contract_until together; the header has only \(present.joined(separator: ", "))"))
            ok = false
        }
        guard ok else { return [] }
        var drafts: [Draft] = []
        for row in table.rows {
            func field(_ column: String) -> CSVTable.Field? { row.field(column, in: table) }
            func text(_ column: String) -> String { field(column)?.text.trimmingCharacters(in: .whitespaces) ?? "" }
            func issue(_ column: String, _ message: String) -> ConfigIssue {
                let f = field(column)
                return ConfigIssue(file: file, line: f?.line ?? row.line, column: f?.column, field: column, message: message)
            }
            var rowOK = true
            var contract: Contract?
            let tier = text("tier"), fromText = text("contract_from"), untilText = text("contract_until")
            if !(tier.isEmpty && fromText.isEmpty && untilText.isEmpty) {
                var from: CalendarDate?, until: CalendarDate?
                for (column, value) in [("tier", tier), ("contract_from", fromText), ("contract_until", untilText)] where value.isEmpty {
                    issues.append(issue(column, "empty, but the row has a contract: give tier, contract_from and contract_until, "
                        + "or none of them"))
                    rowOK = false
                }
                if !fromText.isEmpty {
                    from = CalendarDate(text: fromText)
                    if from == nil { issues.append(issue("contract_from", CalendarDate.problem(with: fromText))); rowOK = false }
                }
                if !untilText.isEmpty {
                    until = CalendarDate(text: untilText)
                    if until == nil { issues.append(issue("contract_until", CalendarDate.problem(with: untilText))); rowOK = false }
                }
                if let from, let until, !tier.isEmpty { contract = Contract(tier: tier, from: from, until: until) }
            }
            var accounts: [LinkedAccount] = []
            for word in text("accounts").split(whereSeparator: { $0 == " " || $0 == "|" }) {
                let parts = word.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    issues.append(issue("accounts", "\"\(word)\" is not network:account (separate several with spaces or |)"))
                    rowOK = false
                    continue
                }
                accounts.append(LinkedAccount(network: String(parts[0]), account: String(parts[1])))
            }
            guard rowOK else { continue }
            let pin = text("pin_hash")
            drafts.append(Draft(number: text("customer_number"), name: text("name"), contract: contract,
                                pinHash: pin.isEmpty ? nil : pin, accounts: accounts) { which in
                switch which {
                case .entry: ConfigIssue(file: file, line: row.line, message: "")
                case .number: issue("customer_number", "")
                case .name: issue("name", "")
                case .tier: issue("tier", "")
                case .from: issue("contract_from", "")
                case .until: issue("contract_until", "")
                case .pinHash: issue("pin_hash", "")
                case .account: issue("accounts", "")
                }
            })
        }
        return drafts
    }
}
