import Foundation
import IRC
import Testing

@Suite("server-time")
struct ServerTimeTests {
    @Test("The spec's format parses to the right instant, with milliseconds")
    func parsing() {
        #expect(IRCServerTime.parse("2011-10-19T16:40:51.620Z") == Date(timeIntervalSince1970: 1_319_042_451.620))
        #expect(IRCServerTime.parse("1970-01-01T00:00:00.000Z") == Date(timeIntervalSince1970: 0))
        #expect(IRCServerTime.parse("2024-02-29T23:59:59Z") == Date(timeIntervalSince1970: 1_709_251_199))
        #expect(IRCServerTime.parse("2011-10-19T18:40:51.620+02:00") == Date(timeIntervalSince1970: 1_319_042_451.620))
    }

    @Test("Malformed timestamps give nil, not a wrong date")
    func malformed() {
        for text in ["", "2011-10-19", "2011-10-19T16:40:51.620", "2011-13-19T16:40:51.620Z", "2011-10-19 16:40:51Z",
                     "2011-10-19T16:40:51.Z", "2011-10-19T16:40:51.620Zjunk", "20x1-10-19T16:40:51.620Z"] {
            #expect(IRCServerTime.parse(text) == nil, "\(text)")
        }
    }

    @Test("Formatting and parsing agree, to the millisecond")
    func roundTrip() {
        let date = Date(timeIntervalSince1970: 1_740_832_496.789)
        #expect(IRCServerTime.format(date) == "2025-03-01T12:34:56.789Z")
        #expect(IRCServerTime.parse(IRCServerTime.format(date)) == date)
        #expect(IRCServerTime.format(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
    }
}
