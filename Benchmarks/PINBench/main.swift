// PINBench: what one PIN check costs at several PBKDF2-HMAC-SHA256 iteration
// counts on this machine, and what that buys against whom.
//
//   swift run -c release PINBench [--repeats N] [--iterations 10000,100000,600000]
//
// Calls OpenSSL's PKCS5_PBKDF2_HMAC directly (as `Desk.PINHash` does), one
// thread, a 4-digit PIN, a 16-byte salt and a 32-byte key; reports the
// median of N runs per count and derives from it:
// - the gateway's CPU per check, and checks per second per core: the lever an
//   attacker pulls by sending wrong PINs (each one costs the gateway a hash);
// - how long trying all 10,000 four-digit PINs takes one core of this kind
//   for someone who stole the customers file (offline brute force). A GPU
//   does PBKDF2-SHA256 some 100–1000 times faster than one CPU core.
import COpenSSL
import Foundation

var repeats = 5
var counts = [10_000, 50_000, 100_000, 210_000, 600_000]
var argumentsLeft = Array(CommandLine.arguments.dropFirst())
while let word = argumentsLeft.first {
    argumentsLeft.removeFirst()
    switch word {
    case "--repeats": repeats = Int(argumentsLeft.removeFirst()) ?? repeats
    case "--iterations":
        counts = argumentsLeft.removeFirst().split(separator: ",").compactMap { Int($0) }
    default:
        print("usage: PINBench [--repeats N] [--iterations A,B,C]")
        exit(64)
    }
}

func derive(pin: String, salt: [UInt8], iterations: Int) -> [UInt8] {
    let secret = Array(pin.utf8).map { CChar(bitPattern: $0) }
    var out = [UInt8](repeating: 0, count: 32)
    let ok = PKCS5_PBKDF2_HMAC(secret, Int32(secret.count), salt, Int32(salt.count), Int32(iterations),
                               EVP_sha256(), Int32(out.count), &out)
    precondition(ok == 1, "PKCS5_PBKDF2_HMAC failed")
    return out
}

var salt = [UInt8](repeating: 0, count: 16)
precondition(RAND_bytes(&salt, 16) == 1)
func seconds(_ d: Duration) -> Double {
    let (s, atto) = d.components
    return Double(s) + Double(atto) / 1e18
}
func human(_ s: Double) -> String {
    switch s {
    case ..<1: String(format: "%.0f ms", s * 1000)
    case ..<120: String(format: "%.1f s", s)
    case ..<7200: String(format: "%.1f min", s / 60)
    case ..<172_800: String(format: "%.1f h", s / 3600)
    default: String(format: "%.1f days", s / 86400)
    }
}

print("PINBench — PBKDF2-HMAC-SHA256 (OpenSSL \(String(cString: OpenSSL_version(OPENSSL_VERSION)))), one thread, median of \(repeats)")
print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, load \(String((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.prefix(14) ?? "?"))")
print("")
print("  iterations   per check   checks/s/core   all 10,000 PINs, 1 core   same, GPU ×300")
_ = derive(pin: "0000", salt: salt, iterations: 1000)  // warm up
for iterations in counts {
    var times: [Double] = []
    for attempt in 0..<repeats {
        let start = ContinuousClock.now
        let key = derive(pin: String(format: "%04d", attempt), salt: salt, iterations: iterations)
        times.append(seconds(start.duration(to: .now)))
        precondition(key.count == 32)
    }
    let median = times.sorted()[times.count / 2]
    func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
    print(String(format: "  %10d   %9.1f ms   %13.1f", iterations, median * 1000, 1 / median)
        + "   " + pad(human(median * 10_000), 23) + "   " + pad(human(median * 10_000 / 300), 14))
}
print("""

  Online guessing is stopped by the attempt limits, not by the hash: at 5 wrong PINs per number per
  15 minutes, trying half of 10,000 PINs takes 10,000 × 15 min / 2 / 5 ≈ 10 days at any iteration count.
  Offline (stolen customers file) a 4-digit PIN falls within the last column at any count.
""")
