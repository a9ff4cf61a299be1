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
// the test looks for the EMFILE warning and the recovery notice.
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
let line = "listening \(endpoint.port)\n"
_ = line.withCString { write(STDOUT_FILENO, $0, strlen($0)) }
await endpoint.run()
