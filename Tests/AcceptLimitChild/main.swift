// The child process of the accept-recovery test (GatewayTests/HTTPRecoveryTests.swift).
//
// Usage: AcceptLimitChild NOFILE MAX_CONNECTIONS [REQUEST_TIMEOUT_SECONDS]
//
// Lowers its own RLIMIT_NOFILE (soft and hard) to NOFILE, starts the
// gateway's HTTP endpoint on 127.0.0.1 (port chosen by the kernel) with
// `/healthz`, allowing MAX_CONNECTIONS at once and a request deadline of
// REQUEST_TIMEOUT_SECONDS (default 600, so only the descriptor limit bites,
// not the server's own bounds; a smaller one serves measurements), prints `listening PORT` on standard output and serves until
// killed. Its log (logfmt, info and above) goes to standard error, where
// the test looks for the EMFILE warning and the recovery notice. A line
// `probe` on standard input makes it try to open a file and print
// `probe: ok` or `probe: failed (errno N)`.
import Core
import Foundation
import Gateway
import Glibc

let arguments = CommandLine.arguments
guard arguments.count == 3 || arguments.count == 4, let nofile = rlim_t(arguments[1]),
      let maxConnections = Int(arguments[2]), let timeout = Int(arguments.count == 4 ? arguments[3] : "600")
else {
    FileHandle.standardError.write(Data("usage: AcceptLimitChild NOFILE MAX_CONNECTIONS [REQUEST_TIMEOUT_SECONDS]\n".utf8))
    exit(2)
}
var limit = rlimit(rlim_cur: nofile, rlim_max: nofile)
guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
    FileHandle.standardError.write(Data("AcceptLimitChild: setrlimit: \(String(cString: strerror(errno)))\n".utf8))
    exit(1)
}
let logger = Logger(minimumLevel: .info)
let endpoint: HTTPEndpoint
do {
    let limits = HTTPServerLimits(maxConnections: maxConnections, requestTimeout: .seconds(timeout),
                                  idleTimeout: .seconds(timeout))
    endpoint = try HTTPEndpoint(host: "127.0.0.1", port: 0, limits: limits, logger: logger) { path in
        path == "/healthz" ? HTTPEndpoint.Response(body: "ok\n") : nil
    }
} catch {
    FileHandle.standardError.write(Data("AcceptLimitChild: \(error)\n".utf8))
    exit(1)
}
@Sendable func say(_ text: String) {
    _ = text.withCString { write(STDOUT_FILENO, $0, strlen($0)) }
}
// Each line `probe` on standard input: can this process still open a file?
// (A process left at its descriptor limit cannot, and the Swift runtime's
// thread pool crashes it when it tries.) Answers `probe: ok` or
// `probe: failed (errno N)`.
let prober = Thread {
    var pending: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 256)
    while true {
        let count = read(STDIN_FILENO, &buffer, buffer.count)
        if count <= 0 { return }
        pending += buffer[0..<count]
        while let newline = pending.firstIndex(of: 0x0A) {
            let command = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeSubrange(...newline)
            guard command == "probe" else { continue }
            let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
            if fd >= 0 {
                close(fd)
                say("probe: ok\n")
            } else {
                say("probe: failed (errno \(errno))\n")
            }
        }
    }
}
prober.start()
say("listening \(endpoint.port)\n")
await endpoint.run()
