import Desk
import Foundation
import Testing

@Suite struct RosterTests {
    static let agents = AgentDirectory(["anna", "ben", "chris", "dana", "emil"].map {
        Agent(id: $0, name: $0.capitalized, nick: $0, accounts: ["demo": $0])
    })

    /// Weekly, Monday 09:00 Berlin, from Monday 2026-01-05: anna, ben, chris, dana.
    static func roster(order: [String?] = ["anna", "ben", "chris", "dana"], backup: String? = "emil",
                       start: String = "2026-01-05", time: String = "09:00") -> Roster {
        Roster(zone: berlin, agents: agents,
               rotation: Rotation(start: CalendarDate(text: start)!, time: LocalTime(text: time)!, order: order),
               backup: backup)
    }

    @Test func handoverIsExactOnTheMondayAfterDaylightSavingStarts() {
        // Clocks go forward on Sunday 2026-03-29; Monday 2026-03-30 09:00 CEST is 07:00 UTC,
        // where a week ago 09:00 CET was 08:00 UTC. Week 12 (from 03-30) is anna's again (12 % 4 = 0).
        let roster = Self.roster()
        #expect(roster.handover(week: 11) == utc("2026-03-23T08:00:00Z"))
        #expect(roster.handover(week: 12) == utc("2026-03-30T07:00:00Z"))
        #expect(roster.onDuty(at: utc("2026-03-30T06:59:59Z")).agent == "dana")
        #expect(roster.onDuty(at: utc("2026-03-30T07:00:00Z")).agent == "anna")
        #expect(roster.onDuty(at: utc("2026-03-30T07:00:01Z")).agent == "anna")
        // A naive "+ 7 × 24 h" would hand over at 10:00 local time.
        #expect(roster.onDuty(at: at("2026-03-30 09:30")).agent == "anna")
        let next = roster.next(after: at("2026-03-27 12:00"))
        #expect(next == DutyChange(agent: "anna", at: utc("2026-03-30T07:00:00Z"), source: .rotation(week: 12)))
    }

    @Test func aRosterAskedInAnyOrderAnswersLikeAFreshOne() {
        // One roster remembers the week it last worked out; asked in a
        // shuffled order (every 5 hours through 2026 and a second either side
        // of every handover, both daylight-saving changes included), it must
        // answer as a roster that never saw another instant.
        let shared = Self.roster()
        var instants: [Date] = stride(from: 0, to: 365 * 24, by: 5).map {
            utc("2026-01-01T00:00:00Z").addingTimeInterval(Double($0) * 3600)
        }
        for week in -1...53 {
            let handover = shared.handover(week: week)
            instants += [handover.addingTimeInterval(-1), handover, handover.addingTimeInterval(1)]
        }
        var random = SystemRandomNumberGenerator()
        for instant in instants.shuffled(using: &random) {
            #expect(shared.rotationWeek(at: instant) == Self.roster().rotationWeek(at: instant), "\(instant)")
        }
    }

    @Test func handoverIsExactOnTheMondayAfterDaylightSavingEnds() {
        // Clocks go back on Sunday 2026-10-25; Monday 2026-10-26 09:00 CET is 08:00 UTC.
        let roster = Self.roster()
        let week = roster.rotationWeek(at: at("2026-10-26 09:00"))
        #expect(week == 42)
        #expect(roster.handover(week: 42) == utc("2026-10-26T08:00:00Z"))
        #expect(roster.onDuty(at: utc("2026-10-26T07:59:59Z")).agent == "ben")  // week 41: 41 % 4 = 1
        #expect(roster.onDuty(at: utc("2026-10-26T08:00:00Z")).agent == "chris")
        #expect(roster.next(after: utc("2026-10-26T07:59:59Z"))?.at == utc("2026-10-26T08:00:00Z"))
        #expect(roster.next(after: utc("2026-10-26T08:00:00Z"))
            == DutyChange(agent: "dana", at: utc("2026-11-02T08:00:00Z"), source: .rotation(week: 43)))
    }

    @Test func aNightAcrossTheSpringSwitchIsSevenHoursLong() throws {
        // Sat 22:00 CET → Sun 06:00 CEST is 7 real hours; ben covers it for anna.
        var roster = Self.roster()
        let from = at("2026-03-28 22:00"), until = at("2026-03-29 06:00")
        #expect(until.timeIntervalSince(from) == 7 * 3600)
        try roster.addOverride(agent: "ben", from: from, until: until, reason: "night swap", createdBy: "anna")
        #expect(roster.onDuty(at: from.addingTimeInterval(-1)).agent == "dana")  // week 11: 11 % 4 = 3
        #expect(roster.onDuty(at: from).agent == "ben")
        #expect(roster.onDuty(at: utc("2026-03-29T00:59:59Z")).agent == "ben")  // 01:59:59 CET
        #expect(roster.onDuty(at: utc("2026-03-29T01:00:00Z")).agent == "ben")  // 03:00:00 CEST
        #expect(roster.onDuty(at: until.addingTimeInterval(-1)).agent == "ben")
        #expect(roster.onDuty(at: until).agent == "dana")
        #expect(roster.next(after: at("2026-03-28 21:00"))?.at == from)
        #expect(roster.next(after: from) == DutyChange(agent: "dana", at: until, source: .rotation(week: 11)))
        // The autumn night is nine hours long.
        #expect(at("2026-10-25 06:00").timeIntervalSince(at("2026-10-24 22:00")) == 9 * 3600)
    }

    @Test func aHandoverInTheSkippedHourHappensWhenTheClockResumes() {
        // A Sunday rotation at 02:30: on 2026-03-29 02:30 does not exist; the handover is at 03:30 CEST.
        let roster = Self.roster(start: "2026-03-01", time: "02:30")
        #expect(roster.handover(week: 4) == utc("2026-03-29T01:30:00Z"))
        #expect(roster.onDuty(at: utc("2026-03-29T01:29:59Z")).agent == "dana")
        #expect(roster.onDuty(at: utc("2026-03-29T01:30:00Z")).agent == "anna")
        // In the repeated hour of autumn, the first 02:30 counts.
        #expect(roster.handover(week: 34) == utc("2026-10-25T00:30:00Z"))
    }

    @Test func anEmptySlotIsAValidAnswer() throws {
        var roster = Self.roster(order: ["anna", nil])
        #expect(roster.onDuty(at: at("2026-01-07 12:00")).agent == "anna")
        #expect(roster.onDuty(at: at("2026-01-14 12:00")).agent == nil)
        #expect(roster.onDutyAgent(at: at("2026-01-14 12:00")) == nil)
        #expect(roster.next(after: at("2026-01-07 12:00"))?.agent == nil)
        #expect(roster.next(after: at("2026-01-07 12:00"))?.at == at("2026-01-12 09:00"))
        // An override can also say "no one".
        try roster.addOverride(agent: nil, from: at("2026-01-07 13:00"), until: at("2026-01-07 14:00"), reason: "offsite",
                               createdBy: "anna")
        #expect(roster.onDuty(at: at("2026-01-07 13:30")).agent == nil)
    }

    @Test func theLatestOverrideWinsAndOverridesCanBeRemoved() throws {
        var roster = Self.roster()
        let long = try roster.addOverride(agent: "emil", from: at("2026-02-02 09:00"), until: at("2026-02-09 09:00"),
                                          reason: "anna on leave", createdBy: nil)
        let short = try roster.addOverride(agent: "chris", from: at("2026-02-04 12:00"), until: at("2026-02-04 18:00"),
                                           reason: "emil at the dentist", createdBy: "emil")
        #expect(roster.onDuty(at: at("2026-02-03 10:00")) == DutySlot(agent: "emil", source: .override(long.id)))
        #expect(roster.onDuty(at: at("2026-02-04 12:00")) == DutySlot(agent: "chris", source: .override(short.id)))
        #expect(roster.onDuty(at: at("2026-02-04 18:00")).agent == "emil")
        #expect(roster.next(after: at("2026-02-04 10:00")) == DutyChange(agent: "chris", at: at("2026-02-04 12:00"),
                                                                          source: .override(short.id)))
        #expect(roster.removeOverride(id: short.id) == short)
        #expect(roster.removeOverride(id: short.id) == nil)
        #expect(roster.onDuty(at: at("2026-02-04 12:00")).agent == "emil")
        roster.removeOverrides(endedBy: at("2026-02-09 09:00"))
        #expect(roster.overrides.isEmpty)
    }

    @Test func runtimeOverridesSurviveAReload() throws {
        var old = Self.roster()
        let made = try old.addOverride(agent: "chris", from: at("2026-02-02 09:00"), until: at("2026-02-02 18:00"),
                                       reason: "swap", createdBy: "anna")
        // The reloaded configuration has its own override with id 1, and no agent 'chris'.
        let smaller = AgentDirectory(Self.agents.all.filter { $0.id != "chris" })
        var reloaded = Roster(zone: berlin, agents: smaller, rotation: old.rotation, backup: "emil",
                              overrides: [RosterOverride(id: 1, agent: "emil", from: at("2026-12-24 09:00"),
                                                         until: at("2026-12-27 09:00"), reason: "Christmas")])
        #expect(old.runtimeOverrides == [made])
        #expect(throws: RosterError.unknownAgent("chris")) { try reloaded.restoreOverride(made) }
        var kept = made
        kept.agent = "dana"
        let restored = try reloaded.restoreOverride(kept)
        #expect(restored.id == 2 && reloaded.onDuty(at: at("2026-02-02 12:00")).agent == "dana")
    }

    @Test func refusedOverrides() {
        var roster = Self.roster()
        #expect(throws: RosterError.unknownAgent("zoe")) {
            try roster.addOverride(agent: "zoe", from: at("2026-02-02 09:00"), until: at("2026-02-02 10:00"), reason: "", createdBy: nil)
        }
        #expect(throws: RosterError.endsBeforeStart(from: at("2026-02-02 09:00"), until: at("2026-02-02 09:00"))) {
            try roster.addOverride(agent: "ben", from: at("2026-02-02 09:00"), until: at("2026-02-02 09:00"), reason: "", createdBy: nil)
        }
        #expect(throws: RosterError.tooLong(maximumDays: 31)) {
            try roster.addOverride(agent: "ben", from: at("2026-02-02 09:00"), until: at("2026-04-02 09:00"), reason: "", createdBy: nil)
        }
    }

    @Test func aRotationOfOneNeverChangesByItself() {
        let roster = Self.roster(order: ["anna"])
        #expect(roster.next(after: at("2026-05-05 12:00")) == nil)
        #expect(roster.onDuty(at: at("2025-05-05 12:00")).agent == "anna")  // also before the start date
    }
}

@Suite struct UntilParserTests {
    let parser = UntilParser(zone: berlin)
    let now = at("2026-03-28 19:30")  // a Saturday evening, the night the clocks go forward

    func parse(_ text: String, now: Date? = nil) -> String {
        do {
            return berlin.format(try parser.parse(text, now: now ?? self.now))
        } catch {
            return "error: \(error.reason)"
        }
    }

    @Test func timesOfDayDaysAndDates() {
        #expect(parse("22:00") == "2026-03-28 22:00")
        #expect(parse("18:00") == "2026-03-29 18:00")  // passed today → tomorrow
        #expect(parse("9:00") == "2026-03-29 09:00")
        #expect(parse("tomorrow 09:00") == "2026-03-29 09:00")
        #expect(parse("Morgen 09:00") == "2026-03-29 09:00")
        #expect(parse("today 23:59") == "2026-03-28 23:59")
        #expect(parse("monday 09:00") == "2026-03-30 09:00")
        #expect(parse("Mo 09:00") == "2026-03-30 09:00")
        #expect(parse("saturday 20:00") == "2026-03-28 20:00")  // today, still ahead
        #expect(parse("saturday 19:00") == "2026-04-04 19:00")  // today, passed → next week
        #expect(parse("2026-12-24 12:00") == "2026-12-24 12:00")
        #expect(parse("2026-12-24T12:00") == "2026-12-24 12:00")
        #expect(parse("24.12.2026 12:00") == "2026-12-24 12:00")
    }

    @Test func tomorrowMorningAcrossTheSwitchIsOnTheWallClock() throws {
        // 09:00 on Sunday is CEST: 07:00 UTC, 12½ real hours after 19:30 CET — not 13½.
        let until = try parser.parse("tomorrow 09:00", now: now)
        #expect(until == utc("2026-03-29T07:00:00Z"))
        #expect(until.timeIntervalSince(now) == 12.5 * 3600)
        // A time in the skipped hour moves forward with the clock.
        #expect(try parser.parse("tomorrow 02:30", now: now) == utc("2026-03-29T01:30:00Z"))
    }

    @Test func durations() {
        #expect(parse("4h") == "2026-03-28 23:30")
        #expect(parse("+90m") == "2026-03-28 21:00")
        #expect(parse("in 1h30m") == "2026-03-28 21:00")
        // Real time: 8 hours from 19:30 CET across the switch is 04:30 CEST.
        #expect(parse("8h") == "2026-03-29 04:30")
    }

    @Test func refusals() {
        #expect(parse("today 18:00") == "error: that time has already passed (it is 2026-03-28 19:30 now)")
        #expect(parse("2026-01-01 10:00") == "error: that time has already passed (it is 2026-03-28 19:30 now)")
        #expect(parse("tomorrow") == "error: give a time of day too, e.g. \"tomorrow 18:00\"")
        #expect(parse("2026-12-24") == "error: give a time of day too, e.g. \"2026-12-24 18:00\"")
        #expect(parse("25:00") == "error: write e.g. 18:00, tomorrow 09:00, monday 09:00, 2026-12-24 12:00 or 4h")
        #expect(parse("tomorrow 25:00")
            == "error: '25:00' is not a time of day (write e.g. 18:00, tomorrow 09:00, monday 09:00, 2026-12-24 12:00 or 4h)")
        #expect(parse("soon") == "error: write e.g. 18:00, tomorrow 09:00, monday 09:00, 2026-12-24 12:00 or 4h")
        #expect(parse("") == "error: write e.g. 18:00, tomorrow 09:00, monday 09:00, 2026-12-24 12:00 or 4h")
    }

    @Test func theRosterParsesInItsZone() throws {
        let roster = RosterTests.roster()
        #expect(try roster.parseUntil("18:00", now: at("2026-07-01 10:00")) == utc("2026-07-01T16:00:00Z"))
    }
}
