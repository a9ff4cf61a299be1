// The yardstick for the gateway's idle memory (issue 12): a minimal
// Foundation program that decodes JSON with JSONDecoder and formats a date
// with a DateFormatter in Europe/Berlin, then waits. scripts/bench-rss
// compiles it with `swiftc -O` (it is not a package target: it must not link
// anything of Switchboard) and compares its resident memory with
// `switchboard run`'s.
import Foundation

struct Settings: Decodable {
    let name: String
    let port: Int
    let channels: [String]
}

let json = Data(##"{"name": "demo", "port": 6667, "channels": ["#support", "#agents"]}"##.utf8)
let settings = try JSONDecoder().decode(Settings.self, from: json)
let formatter = DateFormatter()
formatter.locale = Locale(identifier: "de_DE")
formatter.timeZone = TimeZone(identifier: "Europe/Berlin")
formatter.dateFormat = "yyyy-MM-dd HH:mm:ss zzz"
print("\(settings.name) \(settings.port) \(settings.channels.count) \(formatter.string(from: Date()))")
fflush(stdout)
// Idle until a signal ends the process, as the gateway idles between lines.
while true { pause() }
