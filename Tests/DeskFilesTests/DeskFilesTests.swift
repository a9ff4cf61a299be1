import Config
import Desk
import DeskFiles
import Foundation
import PINHashing
import Testing

/// A small valid configuration; each test breaks one thing.
private let hash = try! PBKDF2PINVerifier().hash(pin: "4711", iterations: PINHash.minimumIterations).encoded

private let validFiles: [String: String] = [
    "tiers.json5": """
    {
      tiers: [
        {
          id: "basic", name: "Basic",
          severities: {
            "1": { response: "4h", coverage: "business-hours" },
            "2": { response: "8h", coverage: "business-hours" },
            "3": { response: "16h", coverage: "business-hours" },
            "4": { response: "40h", coverage: "business-hours" },
          },
        },
      ],
    }
    """,
    "customers.json5": """
    {
      customers: [
        {
          number: "10001",
          name: "Bäckerei Hansen GmbH",
          contract: { tier: "basic", from: "2026-01-01", until: "2026-12-31" },
          pinHash: "\(hash)",
        },
        {
          number: "10002",
          name: "Alster Architekten GmbH",
          contract: { tier: "basic", from: "2026-01-01", until: "2026-12-31" },
          accounts: [{ network: "libera", account: "alster" }],
        },
      ],
    }
    """,
    "agents.json5": """
    {
      timeZone: "Europe/Berlin",
      agents: [
        { id: "anna", name: "Anna Berg", nick: "anna", accounts: { demo: "anna" } },
        { id: "ben", name: "Ben Schröder", nick: "ben", accounts: { demo: "ben" } },
      ],
      backup: "ben",
      rotation: { start: "2026-01-05", handover: { weekday: "monday", time: "09:00" }, order: ["anna", "ben"] },
      businessHours: { monday: ["08:00-12:00", "13:00-18:00"], friday: ["08:00-16:00"] },
      holidays: [{ date: "2026-12-25", name: "1. Weihnachtstag" }],
    }
    """,
    "escalation.json5": """
    {
      steps: [
        { after: "0m", page: ["on-duty"] },
        { after: "5m", page: ["on-duty", "backup"] },
        { after: "15m", page: ["channel"] },
      ],
    }
    """,
]

/// Loads `validFiles` with `changes` applied (a value of nil removes a file);
/// returns the error messages, or [] if it loaded.
private func loadErrors(_ changes: [String: String?], replacing: [(file: String, old: String, new: String)] = []) throws -> [String] {
    var files = validFiles
    for (name, text) in changes { files[name] = text }
    for change in replacing {
        let text = try #require(files[change.file])
        #expect(text.contains(change.old), "fixture \(change.file) lacks \(change.old)")
        files[change.file] = text.replacingOccurrences(of: change.old, with: change.new)
    }
    let directory = try temporaryConfig(files.compactMapValues { $0 })
    defer { try? FileManager.default.removeItem(atPath: directory) }
    do {
        _ = try loadDesk(directory, customers: ["customers.json5"] + (files["customers.csv"] != nil ? ["customers.csv"] : []))
        return []
    } catch {
        // Messages name the file; drop the temporary directory for comparison.
        return error.issues.map { $0.description.replacingOccurrences(of: directory + "/", with: "") }
    }
}

/// Loads the desk files in `directory` with the customer files named.
func loadDesk(_ directory: String, customers: [String] = ["customers.json5"]) throws(ConfigError) -> DeskConfiguration {
    try DeskFiles.load(DeskFiles.Paths(directory: directory, customers: customers), verifier: PBKDF2PINVerifier())
}

private func errors(in file: String, replace old: String, with new: String) throws -> [String] {
    try loadErrors([:], replacing: [(file, old, new)])
}

@Suite struct DeskConfigurationTests {
    @Test func theFixtureLoads() throws {
        #expect(try loadErrors([:]) == [])
        let directory = try temporaryConfig(validFiles)
        let desk = try loadDesk(directory)
        #expect(desk.calendar.hours[.monday]?.count == 2 && desk.calendar.hours[.tuesday] == [])
        #expect(desk.sla.warningFraction == 0.8 && desk.messageOfferDelay == 180)
        #expect(desk.customers.customer(network: "libera", account: "ALSTER", normalize: { $0.lowercased() })?.number == "10002")
    }

    @Test func aWrongTypeSaysWhatWasExpected() throws {
        #expect(try errors(in: "customers.json5", replace: "until: \"2026-12-31\" },\n      pinHash",
                           with: "until: \"31.12.2026\" },\n      pinHash")
            == ["customers.json5:6:61: customers[0].contract.until: expected a date like 2026-12-31, found \"31.12.2026\""])
        #expect(try errors(in: "customers.json5", replace: "number: \"10001\"", with: "number: 10001")
            == ["customers.json5:4:15: customers[0].number: expected a customer number in quotes, like \"10042\", found the number 10001"])
        #expect(try errors(in: "escalation.json5", replace: "after: \"5m\"", with: "after: 300")
            == ["escalation.json5:4:14: steps[1].after: expected a duration like 30s, 5m, 4h or 1h30m, found the number 300 — add a unit, e.g. \"300s\" or \"300m\""])
        #expect(try errors(in: "tiers.json5", replace: "coverage: \"business-hours\" },\n        \"2\"",
                           with: "coverage: \"office\" },\n        \"2\"")
            == ["tiers.json5:6:42: tiers[0].severities[\"1\"].coverage: expected \"24/7\" or \"business-hours\", found \"office\""])
        #expect(try errors(in: "customers.json5", replace: "until: \"2026-12-31\" },\n      pinHash",
                           with: "until: \"2026-02-30\" },\n      pinHash")
            == ["customers.json5:6:61: customers[0].contract.until: \"2026-02-30\" is not a day of the calendar (2026-02 has 28 days, not 30)"])
    }

    @Test func aMissingFieldIsNamed() throws {
        #expect(try errors(in: "customers.json5", replace: "name: \"Bäckerei Hansen GmbH\",", with: "")
            == ["customers.json5:3:5: customers[0].name: missing field 'name'"])
        #expect(try errors(in: "agents.json5", replace: "  backup: \"ben\",\n", with: "") == [])  // optional
        #expect(try errors(in: "agents.json5", replace: "  businessHours: { monday: [\"08:00-12:00\", \"13:00-18:00\"], friday: [\"08:00-16:00\"] },\n", with: "")
            == ["agents.json5:1:1: businessHours: missing field 'businessHours'"])
    }

    @Test func anUnknownKeyIsAnError() throws {
        #expect(try errors(in: "agents.json5", replace: "backup: \"ben\"", with: "backup: \"ben\", bakup: \"anna\"")
            == ["agents.json5:7:18: bakup: unknown key 'bakup' — did you mean 'backup'?"])
        #expect(try errors(in: "tiers.json5", replace: "id: \"basic\", name: \"Basic\",", with: "id: \"basic\", name: \"Basic\", colour: \"green\",")
            == ["tiers.json5:4:35: tiers[0].colour: unknown key 'colour' (known here: id, name, severities)"])
    }

    @Test func aCustomerWithAnUnknownTier() throws {
        #expect(try errors(in: "customers.json5", replace: "contract: { tier: \"basic\", from: \"2026-01-01\", until: \"2026-12-31\" },\n      accounts",
                           with: "contract: { tier: \"basci\", from: \"2026-01-01\", until: \"2026-12-31\" },\n      accounts")
            == ["customers.json5:12:25: customers[1].contract.tier: unknown tier 'basci' — did you mean 'basic'?"])
        #expect(try errors(in: "customers.json5", replace: "contract: { tier: \"basic\", from: \"2026-01-01\", until: \"2026-12-31\" },\n      accounts",
                           with: "contract: { tier: \"gold\", from: \"2026-01-01\", until: \"2026-12-31\" },\n      accounts")
            == ["customers.json5:12:25: customers[1].contract.tier: unknown tier 'gold' (tiers: basic)"])
    }

    @Test func duplicateCustomerNumbersAlsoAcrossJSONAndCSV() throws {
        #expect(try errors(in: "customers.json5", replace: "number: \"10002\"", with: "number: \"10001\"")
            == ["customers.json5:10:15: customers[1].number: the customer number 10001 is used twice (also at customers.json5:4)"])
        let csv = "customer_number;name;tier;contract_from;contract_until;pin_hash;accounts\r\n"
            + "10002;\"Alster; Zweitname\";;;;;\r\n"
        #expect(try loadErrors(["customers.csv": csv])
            == ["customers.csv:2:1: customer_number: the customer number 10002 is used twice (also at customers.json5:10)"])
    }

    @Test func aPINInClearIsRefusedWithHowToMakeAHash() throws {
        #expect(try errors(in: "customers.json5", replace: "pinHash: \"\(hash)\"", with: "pin: \"4711\"")
            == ["customers.json5:7:12: customers[0].pin: a PIN is never stored in clear: run `switchboard hash-pin`, type the PIN, and put the line it prints into `pinHash` instead"])
        #expect(try errors(in: "customers.json5", replace: "pinHash: \"\(hash)\"", with: "pinHash: \"4711\"")
            == ["customers.json5:7:16: customers[0].pinHash: this looks like a PIN in clear; a PIN is never stored in clear — store its hash instead: run `switchboard hash-pin`, type the PIN, and paste the line it prints (pbkdf2-sha256$…)"])
        let csv = "customer_number,name,tier,contract_from,contract_until,pin_hash\n10003,Café Süß,basic,2026-01-01,2026-12-31,0815\n"
        #expect(try loadErrors(["customers.csv": csv])
            == ["customers.csv:2:44: pin_hash: this looks like a PIN in clear; a PIN is never stored in clear — store its hash instead: run `switchboard hash-pin`, type the PIN, and paste the line it prints (pbkdf2-sha256$…)"])
    }

    @Test func aContractNobodyCouldProve() throws {
        #expect(try errors(in: "customers.json5", replace: "      pinHash: \"\(hash)\",\n", with: "")
            == ["customers.json5:3:5: customers[0]: customer 10001 has a contract but neither a pinHash nor a linked account: no one could prove to be this customer (run `switchboard hash-pin` to make a PIN hash)"])
    }

    @Test func anAccountLinkedToTwoCustomers() throws {
        #expect(try errors(in: "customers.json5", replace: "      pinHash: \"\(hash)\",\n",
                           with: "      pinHash: \"\(hash)\",\n      accounts: [{ network: \"libera\", account: \"Alster\" }],\n")
            == ["customers.json5:14:18: customers[1].accounts[0]: the account libera:alster is linked to customers 10001 and 10002 (also at customers.json5:8): a linked account must name one customer"])
    }

    @Test func anAgentInTheRotationWhoIsNotDefined() throws {
        #expect(try errors(in: "agents.json5", replace: "order: [\"anna\", \"ben\"]", with: "order: [\"anna\", \"ben\", \"chris\"]")
            == ["agents.json5:8:107: rotation.order[2]: the agent 'chris' in the rotation is not defined (agents: anna, ben)"])
        #expect(try errors(in: "agents.json5", replace: "backup: \"ben\"", with: "backup: \"bne\"")
            == ["agents.json5:7:11: backup: the agent 'bne' named as backup is not defined — did you mean 'ben'?"])
    }

    @Test func aTimeZoneThatDoesNotExist() throws {
        #expect(try errors(in: "agents.json5", replace: "timeZone: \"Europe/Berlin\"", with: "timeZone: \"Europe/Berln\"")
            == ["agents.json5:2:13: timeZone: unknown time zone 'Europe/Berln' — did you mean 'Europe/Berlin'?"])
        #expect(try errors(in: "agents.json5", replace: "timeZone: \"Europe/Berlin\"", with: "timeZone: \"Mars/Olympus\"")
            == ["agents.json5:2:13: timeZone: unknown time zone 'Mars/Olympus' (use an IANA name like \"Europe/Berlin\")"])
    }

    @Test func overlappingOrOddBusinessHours() throws {
        #expect(try errors(in: "agents.json5", replace: "\"13:00-18:00\"", with: "\"11:30-18:00\"")
            == ["agents.json5:9:28: businessHours.monday: 08:00-12:00 and 11:30-18:00 overlap"])
        #expect(try errors(in: "agents.json5", replace: "\"08:00-16:00\"", with: "\"16:00-08:00\"")
            == ["agents.json5:9:69: businessHours.friday[0]: \"16:00-08:00\" ends before it starts: the end must be later the same day (for hours past midnight write two ranges, e.g. \"22:00-24:00\" and \"00:00-06:00\" on the next day)"])
        #expect(try errors(in: "agents.json5", replace: "\"08:00-16:00\"", with: "\"8 to 4\"")
            == ["agents.json5:9:69: businessHours.friday[0]: expected a range of times like \"08:00-18:00\", found \"8 to 4\""])
        #expect(try errors(in: "agents.json5", replace: "monday: [\"08:00-12:00\", \"13:00-18:00\"], friday: [\"08:00-16:00\"]", with: "monday: []")
            == ["agents.json5:9:18: businessHours: no business hours on any day: tickets of a business-hours tier would never be served"])
        #expect(try errors(in: "agents.json5", replace: "monday: [", with: "monady: [")
            == ["agents.json5:9:20: businessHours.monady: unknown key 'monady' — did you mean 'monday'?"])
    }

    @Test func rosterMistakes() throws {
        #expect(try errors(in: "agents.json5", replace: "start: \"2026-01-05\"", with: "start: \"2026-01-06\"")
            == ["agents.json5:8:22: rotation.start: 2026-01-06 is a tuesday, but the handover is on monday: start the rotation on a handover day"])
        #expect(try errors(in: "agents.json5", replace: "holidays: [{ date: \"2026-12-25\", name: \"1. Weihnachtstag\" }]",
                           with: "holidays: [{ date: \"2026-12-25\", name: \"a\" }, { date: \"2026-12-25\", name: \"b\" }]")
            == ["agents.json5:10:57: holidays[1].date: 2026-12-25 is listed twice (also holidays[0])"])
        // What a mask means is the network's: Desk refuses only empty ones and white space
        // (GatewayTests: the IRC rule, with file, line and field).
        #expect(try errors(in: "agents.json5", replace: "accounts: { demo: \"ben\" }", with: "masks: [\"ben !*@*\"]")
            == ["agents.json5:5:61: agents[1].masks[0]: \"ben !*@*\" is empty or contains white space"])
        #expect(try errors(in: "agents.json5", replace: ", accounts: { demo: \"ben\" }", with: "")
            == ["agents.json5:5:5: agents[1]: agent 'ben' has neither accounts nor masks: no one could ever be recognised as this agent (a nick alone proves nothing)"])
        #expect(try errors(in: "agents.json5", replace: "accounts: { demo: \"ben\" }", with: "accounts: { demo: \"Anna\" }")
            == ["agents.json5:5:71: agents[1].accounts.demo: the account demo:Anna is also agents[0]'s: an account proves one person"])
        #expect(try errors(in: "agents.json5", replace: "  backup: \"ben\",\n",
                           with: "  backup: \"ben\",\n  overrides: [{ agent: \"ben\", from: \"2026-12-24 09:00\", until: \"2026-12-23 09:00\", reason: \"x\" }],\n")
            == ["agents.json5:8:64: overrides[0].until: the override ends (2026-12-23 09:00) before it starts (2026-12-24 09:00)"])
        #expect(try errors(in: "agents.json5", replace: "  backup: \"ben\",\n",
                           with: "  backup: \"ben\",\n  overrides: [{ from: \"2026-12-24 09:00\", until: \"2026-12-25 09:00\", reason: \"x\" }],\n")
            == ["agents.json5:8:15: overrides[0].agent: missing field 'agent'"])
    }

    @Test func escalationMistakes() throws {
        #expect(try errors(in: "escalation.json5", replace: "after: \"0m\"", with: "after: \"1m\"")
            == ["escalation.json5:3:14: steps[0].after: the first step must page at once (after: \"0m\"): a contract ticket pages the on-duty agent immediately"])
        #expect(try errors(in: "escalation.json5", replace: "after: \"15m\"", with: "after: \"5m\"")
            == ["escalation.json5:5:14: steps[2].after: steps must come in order of time: 5m is not after the previous step's 5m"])
        #expect(try errors(in: "escalation.json5", replace: "page: [\"channel\"]", with: "page: [\"everyone\"]")
            == ["escalation.json5:5:28: steps[2].page[0]: expected \"on-duty\", \"backup\" or \"channel\", found \"everyone\""])
    }

    @Test func tierMistakes() throws {
        #expect(try errors(in: "tiers.json5", replace: "        \"4\": { response: \"40h\", coverage: \"business-hours\" },\n", with: "")
            == ["tiers.json5:5:19: tiers[0].severities: missing terms for severity 4: every tier sets a response time and coverage for each of \"1\" … \"4\""])
        #expect(try errors(in: "tiers.json5", replace: "\"4\": { response: \"40h\"", with: "\"5\": { response: \"40h\"")
            == ["tiers.json5:9:14: tiers[0].severities[\"5\"]: unknown severity '5': severities are \"1\" (system down) … \"4\" (question)",
                "tiers.json5:5:19: tiers[0].severities: missing terms for severity 4: every tier sets a response time and coverage for each of \"1\" … \"4\""])
    }

    @Test func csvCustomerMistakesNameLineAndColumn() throws {
        let csv = "customer_number;name;tier;contract_from;contract_until;pin_hash;accounts\r\n"
            + "10003;Café Süß;basic;31.12.2025;2026-12-31;\(hash);\r\n"
            + "10004;\"Kiel; Werft\";basic;2026-01-01;;\(hash);\r\n"
            + "10005;Nordwind;;;;;libera\r\n"
        #expect(try loadErrors(["customers.csv": csv]) == [
            "customers.csv:2:22: contract_from: expected a date like 2026-12-31, found \"31.12.2025\"",
            "customers.csv:3:38: contract_until: empty, but the row has a contract: give tier, contract_from and contract_until, or none of them",
            "customers.csv:4:20: accounts: \"libera\" is not network:account (separate several with spaces or |)",
        ])
        #expect(try loadErrors(["customers.csv": "customer_number,name,email\n1,A,a@b.example\n"])
            == ["customers.csv:1:22: email: unknown column 'email' (columns: customer_number, name, tier, contract_from, contract_until, pin_hash, accounts)"])
    }

    @Test func problemsInSeveralFilesAreReportedTogether() throws {
        let found = try loadErrors([:], replacing: [
            ("tiers.json5", "response: \"4h\"", "response: \"4 hours\""),
            ("agents.json5", "timeZone: \"Europe/Berlin\"", "timeZone: \"Berlin\""),
            ("escalation.json5", "after: \"0m\"", "after: \"2m\""),
        ])
        #expect(found.count == 3)
        #expect(found.map { $0.split(separator: ":")[0] } == ["tiers.json5", "agents.json5", "escalation.json5"])
    }

    @Test func aMissingFileSaysSo() throws {
        #expect(try loadErrors(["escalation.json5": nil]) == ["escalation.json5: cannot open: No such file or directory"])
        #expect(try loadErrors(["customers.json5": nil]) == ["customers.json5: cannot open: No such file or directory"])
    }

    /// Issue 15: a deleted customer file once passed the check with fewer
    /// customers. Every customer file is named, and a named file that is
    /// missing stops the load.
    @Test func aNamedCustomerFileThatIsMissingIsAnError() throws {
        let directory = try temporaryConfig(validFiles)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try loadDesk(directory).customers.count == 2)
        do {
            _ = try loadDesk(directory, customers: ["customers.json5", "customers.csv"])
            Issue.record("a missing customers.csv loaded")
        } catch {
            #expect(error.issues.map(\.description) == [directory + "/customers.csv: cannot open: No such file or directory"])
        }
        #expect(throws: ConfigError.self) { try loadDesk(directory, customers: []) }
    }

    @Test func reloadingGivesANewValueOrErrorsNeverHalf() throws {
        let directory = try temporaryConfig(validFiles)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try loadDesk(directory)
        // A broken edit: the load fails and the old value is untouched.
        try Data(validFiles["escalation.json5"]!.replacingOccurrences(of: "\"5m\"", with: "\"5 min\"").utf8)
            .write(to: URL(fileURLWithPath: directory + "/escalation.json5"))
        #expect(throws: ConfigError.self) { try loadDesk(directory) }
        #expect(first.escalation.steps.count == 3)
        // A good edit gives a new value.
        try Data(validFiles["escalation.json5"]!.replacingOccurrences(of: "\"5m\"", with: "\"10m\"").utf8)
            .write(to: URL(fileURLWithPath: directory + "/escalation.json5"))
        let second = try loadDesk(directory)
        #expect(second.escalation.steps[1].after == 600 && first.escalation.steps[1].after == 300)
    }
}
