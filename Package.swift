// swift-tools-version: 6.1
//
// Switchboard — a chat-bot support gateway. No Swift package dependencies:
// only the toolchain and Debian's C libraries through system-library targets.
// Each box of STYLE.md's diagram is one target; a dependency below is the
// only import allowed between them.
import PackageDescription

/// One settings list for every Swift target.
let settings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    // Each function in its own section, so the linker can place the
    // gateway's start-up and message code together (see the switchboard
    // target's link settings).
    .unsafeFlags(["-Xfrontend", "-function-sections"], .when(configuration: .release)),
]

let package = Package(
    name: "Switchboard",
    products: [
        .executable(name: "switchboard", targets: ["switchboard"]),
    ],
    targets: [
        // C libraries from Debian (libssl-dev, libsqlite3-dev).
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        // OpenSSL (libssl-dev for the headers): loaded on first use, not linked (see its shim.h).
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL",
                       providers: [.apt(["libssl-dev"])]),
        // libpq, PostgreSQL's client library (libpq-dev): the PostgreSQL store.
        .systemLibrary(name: "CPostgres", path: "Sources/CPostgres",
                       providers: [.apt(["libpq-dev"])]),
        // Linux interfaces Swift's Glibc module lacks (epoll, accept4).
        .systemLibrary(name: "CLinux", path: "Sources/CLinux"),

        // Clocks and logging: used by all.
        .target(name: "Core", dependencies: ["CLinux"], swiftSettings: settings),
        // Strict JSON5 configuration decoding (unknown keys are errors, every
        // error names file:line:col and the field): used by every loader.
        .target(name: "Config", swiftSettings: settings),
        // IRC wire protocol: pure, no I/O.
        .target(name: "IRC", swiftSettings: settings),
        // Sockets, readiness, TLS.
        .target(name: "Transport", dependencies: ["Core", "COpenSSL", "CLinux"], swiftSettings: settings),
        // HTTP/1.1 client (keep-alive pool, chunked bodies, limits, TLS via
        // Transport) for the Matrix adapter.
        .target(name: "HTTPClient", dependencies: ["Core", "Transport"], swiftSettings: settings),
        // IRC session state machine, send queue, and the client that drives it.
        .target(name: "IRCClient", dependencies: ["Core", "IRC", "Transport"], swiftSettings: settings),
        // Support desk domain: customers, contracts, tickets, queue, roster,
        // escalation, SLA. Pure (takes `now`), no chat protocol, no SQL, no
        // files, no crypto (a `PINVerifier` is injected).
        .target(name: "Desk", dependencies: ["Config"], swiftSettings: settings),
        // The desk's configuration files (JSON5 and CRM CSV): read, checked
        // against each other, turned into a `DeskConfiguration`.
        .target(name: "DeskFiles", dependencies: ["Config", "Desk"], swiftSettings: settings),
        // PBKDF2-HMAC-SHA256 PIN hashing on OpenSSL: the production `PINVerifier`.
        .target(name: "PINHashing", dependencies: ["Desk", "COpenSSL"], swiftSettings: settings),
        // Knowledge base: articles, de/en normalisation, ranking.
        // Optimised in debug builds too: each index build reads the 25 MB
        // dictionary (bots/kb.json5 names it), which unoptimised code takes
        // seconds for; the tests start debug gateways that must be up in
        // a few seconds.
        .target(name: "KB", dependencies: ["Core", "Config"],
                swiftSettings: settings + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Durable store: SQLite, migrations, outbox of pages.
        // What the SQLite and PostgreSQL stores share: the worker thread, row
        // decoders, the operations whose SQL is the same, the store façade.
        .target(name: "StoreCore", dependencies: ["Core", "Desk"], swiftSettings: settings),
        .target(name: "Store", dependencies: ["Core", "Desk", "StoreCore", "CSQLite"], swiftSettings: settings),
        // The same store on PostgreSQL through libpq (several gateway instances, one database).
        .target(name: "PostgresStore", dependencies: ["Core", "Desk", "StoreCore", "CPostgres"], swiftSettings: settings),
        // Conversation engine, support/agent/KB bots; speaks to `ChatNetwork`.
        .target(name: "Bots", dependencies: ["Core", "Config", "Desk", "KB"], swiftSettings: settings),
        // The IRC network as a `ChatNetwork`: principals, case folding, agent
        // masks (the `IRCMask` the mask-match vectors test), /me as actions.
        .target(name: "IRCAdapter", dependencies: ["Core", "IRC", "IRCClient", "Transport", "Desk", "Bots"],
                swiftSettings: settings),
        // The status page's HTML and SVG: pure (desk values in, text out).
        .target(name: "StatusPage", dependencies: ["Core", "Desk"], swiftSettings: settings),
        // Matrix client-server API: types, session (login, /sync, sends,
        // rooms), rate limits and backoff; HTTP comes through a protocol.
        .target(name: "Matrix", dependencies: ["Core"], swiftSettings: settings),
        // The Matrix network as a `ChatNetwork`: user ids as principals,
        // direct rooms, notices, mentions, encrypted rooms explained.
        .target(name: "MatrixAdapter", dependencies: ["Core", "Matrix", "HTTPClient", "Transport", "Desk", "Bots"], swiftSettings: settings),
        // Configuration, the one network factory, the console adapter, metrics.
        .target(name: "Gateway",
                dependencies: ["Core", "Config", "IRC", "IRCClient", "IRCAdapter", "Transport", "Desk", "DeskFiles",
                               "PINHashing", "KB", "Store", "PostgresStore", "Bots", "StatusPage", "Matrix",
                               "MatrixAdapter", "CLinux"],
                swiftSettings: settings),
        // The command line, nothing else.
        // Linked by lld (release): the functions start-up and customer lines
        // run first, in the order of switchboard.order (regenerate with
        // Benchmarks/RSSBench/order-functions), after the unnamed helpers
        // (switchboard.ld), so they share few pages instead of touching most
        // of the binary; relative relocations packed. The Swift runtime and
        // Foundation are linked in statically (`-static-stdlib` and the
        // archives Foundation's own libraries would have brought): only the
        // pages the gateway runs are mapped, and their relocations are not
        // applied in every shared library at start (issue 12: idle RSS
        // 31.7 -> 21.7 MiB with their functions in the order too; the
        // yardstick linked the same way: 24.8 -> 20.0 MiB).
        .executableTarget(name: "switchboard", dependencies: ["Gateway", "CLinux"],
                          exclude: ["switchboard.order", "switchboard.ld"], swiftSettings: settings,
                          linkerSettings: [.unsafeFlags(["-static-stdlib", "-lCoreFoundation", "-l_FoundationICU",
                                                         "-l_FoundationCollections", "-l_FoundationCShims",
                                                         "-lBlocksRuntime", "-lstdc++", "-lm",
                                                         "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
                                                         "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Sources/switchboard/switchboard.order",
                                                         "-Xlinker", "--no-warn-symbol-ordering",
                                                         "-Xlinker", "-T", "-Xlinker", "\(Context.packageDirectory)/Sources/switchboard/switchboard.ld"],
                                                        .when(configuration: .release))]),

        // Shared by the test targets: fixtures for real servers, helpers.
        .target(name: "TestSupport", dependencies: ["Core", "Matrix", "MatrixAdapter"], path: "Tests/TestSupport",
                exclude: ["Fixtures"], swiftSettings: settings),

        .testTarget(name: "CoreTests", dependencies: ["Core", "TestSupport"], swiftSettings: settings),
        .testTarget(name: "ConfigTests", dependencies: ["Config"], swiftSettings: settings),
        .testTarget(name: "IRCTests", dependencies: ["IRC", "Core"], exclude: ["Vectors"], swiftSettings: settings),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "TestSupport"], swiftSettings: settings),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient", "Transport", "Core", "TestSupport"],
                    swiftSettings: settings),
        .testTarget(name: "IRCClientTests", dependencies: ["IRCClient", "IRC", "Transport", "Core", "TestSupport"],
                    swiftSettings: settings),
        .testTarget(name: "DeskTests", dependencies: ["Desk", "TestSupport"], swiftSettings: settings),
        .testTarget(name: "DeskFilesTests", dependencies: ["DeskFiles", "Desk", "Config", "PINHashing", "TestSupport"],
                    swiftSettings: settings),
        .testTarget(name: "PINHashingTests", dependencies: ["PINHashing", "Desk"], swiftSettings: settings),
        .testTarget(name: "KBTests", dependencies: ["KB", "TestSupport"], exclude: ["Evaluation", "Snowball"], swiftSettings: settings),
        .testTarget(name: "StoreTests", dependencies: ["Store", "StoreCore", "PostgresStore", "Desk", "TestSupport"], swiftSettings: settings),
        // The child process of the store's crash test: creates tickets in a
        // loop and prints each number; the test kills it with SIGKILL.
        .executableTarget(name: "StoreCrashChild", dependencies: ["Store", "PostgresStore", "Desk"], path: "Tests/StoreCrashChild",
                          swiftSettings: settings),
        // The child process of the HTTP endpoint's accept-recovery test: serves
        // /healthz under a lowered RLIMIT_NOFILE until the test kills it.
        .executableTarget(name: "AcceptLimitChild", dependencies: ["Gateway", "Core"], path: "Tests/AcceptLimitChild",
                          swiftSettings: settings),
        .testTarget(name: "BotsTests", dependencies: ["Bots", "Config", "Desk", "DeskFiles", "PINHashing", "KB", "Store",
                                                     "TestSupport"], swiftSettings: settings),
        .testTarget(name: "IRCAdapterTests", dependencies: ["IRCAdapter", "IRC", "IRCClient", "Bots", "Desk", "DeskFiles", "PINHashing", "Core", "TestSupport"],
                    swiftSettings: settings),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "Config", "Transport", "Bots", "Desk", "DeskFiles", "PINHashing",
                                                        "Store", "PostgresStore", "TestSupport"], swiftSettings: settings),
        .testTarget(name: "StatusPageTests", dependencies: ["StatusPage", "Desk", "TestSupport"], swiftSettings: settings),
        .testTarget(name: "MatrixTests", dependencies: ["Matrix", "MatrixAdapter", "Bots", "Desk", "Core", "TestSupport",
                                                    "Store", "DeskFiles", "PINHashing", "KB"],
                    swiftSettings: settings),
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport", "Matrix"], swiftSettings: settings),

        // Benchmarks: release-built executables (`swift run -c release <Name>`).
        .executableTarget(name: "IRCBench", dependencies: ["IRC", "Core"], path: "Benchmarks/IRCBench",
                          swiftSettings: settings),
        .executableTarget(name: "DeskBench", dependencies: ["Desk", "Core"], path: "Benchmarks/DeskBench",
                          swiftSettings: settings),
        .executableTarget(name: "StoreBench", dependencies: ["Store", "Desk", "Transport"], path: "Benchmarks/StoreBench",
                          swiftSettings: settings),
        .executableTarget(name: "GatewayBench", dependencies: ["Gateway", "KB", "Core", "Store", "TestSupport", "IRCClient"],
                          path: "Benchmarks/GatewayBench", swiftSettings: settings),
        .executableTarget(name: "KBBench", dependencies: ["KB", "Core"], path: "Benchmarks/KBBench",
                          swiftSettings: settings),
        .executableTarget(name: "SendQueueBench", dependencies: ["IRCClient", "IRC", "Core"],
                          path: "Benchmarks/SendQueueBench", swiftSettings: settings),
        .executableTarget(name: "PINBench", dependencies: ["COpenSSL"], path: "Benchmarks/PINBench",
                          swiftSettings: settings),
        .executableTarget(name: "AbuseBench", dependencies: ["Gateway", "Core", "Desk", "PINHashing", "Store", "TestSupport"],
                          path: "Benchmarks/AbuseBench", swiftSettings: settings),
        .executableTarget(name: "FairSendBench", dependencies: ["Gateway", "Core", "TestSupport"],
                          path: "Benchmarks/FairSendBench", swiftSettings: settings),
        .executableTarget(name: "PGBench", dependencies: ["PostgresStore", "CPostgres", "Desk", "Core", "TestSupport"],
                          path: "Benchmarks/PGBench", swiftSettings: settings),
        .executableTarget(name: "MatrixBench", dependencies: ["Matrix", "MatrixAdapter", "Bots", "Core", "TestSupport"],
                          path: "Benchmarks/MatrixBench", swiftSettings: settings),
        .executableTarget(name: "TransportBench", dependencies: ["Transport", "Core"], path: "Benchmarks/TransportBench",
                          swiftSettings: settings),
        .executableTarget(name: "HTTPClientBench", dependencies: ["HTTPClient", "Transport", "Core"],
                          path: "Benchmarks/HTTPClientBench", swiftSettings: settings),
    ]
)
