import Foundation

/// Decides when the agents' channel is warned that someone is guessing a
/// customer's PIN (issue 14, item 2): once per attack per customer number,
/// with the number, how many wrong PINs and from which senders — never the
/// PINs tried (they are not even given to it).
///
/// An attack on a number begins when `threshold` wrong PINs for it fall
/// within `window`, from any mix of senders (many nicks, one number: a
/// distributed guess). That moment yields one ``Warning``; later wrong PINs
/// are counted into the same attack and warn no more. The attack is over
/// once the number has been quiet (no wrong PIN) for `quietPeriod`; the next
/// wrong PINs start afresh and can warn again. A single customer who mistypes
/// the PIN three times stays below the default threshold.
///
/// Pure: the caller passes `now` (from its clock), so tests run on a
/// `ManualClock` without sleeping. Memory stays bounded: quiet numbers are
/// forgotten, and at most ``Settings/maximumSendersKept`` senders are kept
/// per attack (the count goes on).
public struct PINAttackMonitor: Sendable {
    /// When an attack begins and ends.
    public struct Settings: Sendable, Hashable {
        /// Wrong PINs for one number within `window` that make an attack.
        public var threshold: Int
        public var window: Duration
        /// An attack ends after this long without a wrong PIN for its number.
        public var quietPeriod: Duration
        /// Senders remembered per attack (the warning names at most these).
        public var maximumSendersKept: Int

        /// Defaults: 5 wrong PINs within 15 minutes (more than one customer's
        /// three tries), over after 30 quiet minutes.
        public init(threshold: Int = 5, window: Duration = .seconds(15 * 60), quietPeriod: Duration = .seconds(30 * 60),
                    maximumSendersKept: Int = 100) {
            precondition(threshold > 0 && maximumSendersKept > 0, "threshold and senders kept must be positive")
            self.threshold = threshold
            self.window = window
            self.quietPeriod = quietPeriod
            self.maximumSendersKept = maximumSendersKept
        }
    }

    /// What the agents' channel is told about an attack (text key
    /// `AgentText.pinAttack`).
    public struct Warning: Sendable, Hashable {
        public var number: String
        /// Wrong PINs for the number in this attack so far.
        public var count: Int
        /// Distinct senders in the order they first tried (at most
        /// ``Settings/maximumSendersKept``).
        public var senders: [String]
        /// Distinct senders in all (may exceed `senders.count`).
        public var senderCount: Int
        /// The time the count was taken over.
        public var window: Duration

        /// The senders for a chat line: the first `limit`, then "…" when
        /// there are more (the count says how many).
        public func sendersText(limit: Int = 10) -> String {
            let shown = senders.prefix(limit).joined(separator: ", ")
            return senderCount > min(limit, senders.count) ? shown + ", …" : shown
        }

        /// The values of the `pinAttack` text's placeholders.
        public var textValues: [String: String] {
            ["number": number, "count": String(count), "minutes": String(Int(window.timeInterval / 60)),
             "senderCount": String(senderCount), "senders": sendersText()]
        }
    }

    /// What is known of one number's wrong PINs.
    private struct Track: Sendable {
        /// Before the warning: the wrong PINs within the window, with their senders.
        var recent: [(at: Date, sender: String)] = []
        /// After the warning: the attack's count and senders so far.
        var count = 0
        var senders: [String] = []
        var senderSet: Set<String> = []
        var senderCount = 0
        var warned = false
        var last: Date

        mutating func add(_ sender: String, keeping limit: Int) {
            count += 1
            guard !senderSet.contains(sender) else { return }
            senderCount += 1
            // Past the limit a sender is counted but not kept (memory stays
            // bounded; one repeated later may be counted twice).
            if senders.count < limit {
                senders.append(sender)
                senderSet.insert(sender)
            }
        }
    }

    public let settings: Settings
    private var tracks: [String: Track] = [:]

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Notes a wrong PIN for `number` from `sender` at `now` (a locked
    /// number's refused attempt counts too) and returns the warning to send,
    /// if this is the moment an attack begins.
    public mutating func wrongPIN(number: String, sender: String, at now: Date) -> Warning? {
        forgetQuiet(at: now)
        var track = tracks[number] ?? Track(last: now)
        track.last = now
        var warning: Warning?
        if track.warned {
            track.add(sender, keeping: settings.maximumSendersKept)
        } else {
            let since = now.addingTimeInterval(-settings.window.timeInterval)
            track.recent.removeAll { $0.at <= since }
            track.recent.append((now, sender))
            if track.recent.count >= settings.threshold {
                track.warned = true
                for attempt in track.recent { track.add(attempt.sender, keeping: settings.maximumSendersKept) }
                track.recent = []
                warning = Warning(number: number, count: track.count, senders: track.senders,
                                  senderCount: track.senderCount, window: settings.window)
            }
        }
        tracks[number] = track
        return warning
    }

    /// Whether an attack on `number` is under way at `now` (warned and not
    /// yet quiet for ``Settings/quietPeriod``).
    public func isUnderAttack(number: String, at now: Date) -> Bool {
        guard let track = tracks[number], track.warned else { return false }
        return now.timeIntervalSince(track.last) < settings.quietPeriod.timeInterval
    }

    /// The attack on `number` as it stands (for `!show` or a summary), nil
    /// when there is none.
    public func attack(on number: String, at now: Date) -> Warning? {
        guard isUnderAttack(number: number, at: now), let track = tracks[number] else { return nil }
        return Warning(number: number, count: track.count, senders: track.senders, senderCount: track.senderCount,
                       window: settings.window)
    }

    /// Numbers with wrong PINs remembered (tests, metrics).
    public var trackedNumbers: Int { tracks.count }

    /// Forgets numbers whose attack is over, and unwarned counts that fell
    /// out of the window.
    public mutating func forgetQuiet(at now: Date) {
        let quiet = settings.quietPeriod.timeInterval
        let window = settings.window.timeInterval
        tracks = tracks.filter { _, track in
            now.timeIntervalSince(track.last) < (track.warned ? quiet : window)
        }
    }
}
