import Foundation

/// Everything the desk is configured with — tiers, customers, agents, the
/// roster, business hours, escalation and SLA — as checked values.
///
/// The desk reads no files: `DeskFiles.load` (target `DeskFiles`) reads
/// `config/`, checks the files against each other and builds this value, or
/// reports every problem; the gateway swaps it in only when loading
/// succeeded.
///
/// ```swift
/// let desk = try DeskFiles.load(paths, verifier: PBKDF2PINVerifier())
/// desk.customers.activeContract(number: "10042", at: now)
/// desk.roster.onDuty(at: now)
/// desk.escalation.plan(for: ticket, stepsDone: done, now: now, roster: desk.roster,
///                      tiers: desk.tiers, calendar: desk.calendar)
/// desk.sla.status(of: ticket, at: now)
/// ```
public struct DeskConfiguration: Sendable {
    /// The desk's time zone (agents file, default Europe/Berlin): contract
    /// days, handovers, business hours and holidays are in it.
    public let zone: ZonedCalendar
    public let tiers: TierCatalog
    public let customers: CustomerDirectory
    public let agents: AgentDirectory
    /// The roster as configured (with the configured overrides). Overrides
    /// made at run time are added to a copy the gateway keeps.
    public let roster: Roster
    public let calendar: BusinessCalendar
    public let escalation: EscalationPolicy
    public let sla: SLAPolicy
    /// How long a non-contract customer waits before the bot offers to take
    /// a message (SPEC: default 3 minutes).
    public let messageOfferDelay: TimeInterval

    /// The default zone when the agents file names none.
    public static let defaultTimeZone = "Europe/Berlin"

    /// A configuration from values already checked (the `DeskFiles` target
    /// reads and cross-checks the files and calls this).
    public init(zone: ZonedCalendar, tiers: TierCatalog, customers: CustomerDirectory, agents: AgentDirectory,
                roster: Roster, calendar: BusinessCalendar, escalation: EscalationPolicy, sla: SLAPolicy,
                messageOfferDelay: TimeInterval) {
        self.zone = zone
        self.tiers = tiers
        self.customers = customers
        self.agents = agents
        self.roster = roster
        self.calendar = calendar
        self.escalation = escalation
        self.sla = sla
        self.messageOfferDelay = messageOfferDelay
    }

    /// One paragraph for `switchboard check-config`: what was loaded, and
    /// who is on duty at `now`.
    public func summary(at now: Date) -> String {
        let active = customers.all.filter { customers.activeContract(number: $0.number, at: now) != nil }.count
        var out = "\(tiers.all.count) tiers (\(tiers.all.map(\.id).joined(separator: ", "))), "
            + "\(customers.count) customers (\(active) with a contract valid today), "
            + "\(agents.all.count) agents, \(escalation.steps.count) escalation steps, time zone \(zone.timeZone.identifier)."
        let duty = roster.onDuty(at: now).agent ?? "no one"
        out += " On duty now: \(duty)"
        if let next = roster.next(after: now) {
            out += "; next: \(next.agent ?? "no one") from \(zone.format(next.at))"
        }
        return out + "."
    }
}

