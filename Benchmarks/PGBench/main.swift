// PGBench: durable ticket creation on PostgreSQL next to PostgreSQL's own
// single-row insert-and-commit rate, on the same server in the same run.
//
//     swift run -c release PGBench [--url URL] [--runs N] [--commits N] [--callers N] [--phases abcde]
//
// Without --url it starts its own cluster (TestSupport's `PostgresServer`,
// fsync and full_page_writes on: commits wait for the disk) in a temporary
// folder and stops it at the end; with --url it uses that database (tables
// `pgbench_raw` and the store's are created in it).
//
// (a) the raw reference: one libpq connection, `INSERT INTO pgbench_raw
//     VALUES ($1, $2)` as a prepared statement, autocommit — one row, one
//     commit, one round trip each, straight on libpq;
// (b) durable ticket creation through `PostgresDeskStore.createTicket`: a
//     ticket, its `created` event and one page per transaction (3 rows),
//     one caller awaiting each;
// (c) the same from --callers concurrent callers (the store thread's group
//     commit shares one commit among the writes queued together);
// (d) the active instance's page path: createTicket with the first pages
//     claimed under the lease in the same statement (one commit), next to
// (e) createTicket followed by `claimPages` (the claim's own commit, as
//     before issue 12's folding).
// (a), (b), (d) and (e) alternate in slices of 50 within each run. Each
// rate is the median of --runs runs of --commits commits (3 × 2,000).
// --phases runs only the phases named (e.g. `ab` to profile the ticket
// path with perf); the others print as skipped.
//
// Per commit of (a), (b) and (d), summed over all runs, it prints where the
// time goes: round trips to the server (counted by the clients), this
// process's CPU (CLOCK_PROCESS_CPUTIME_ID: libpq, the store thread, the
// hop to it and back), the serving backend's CPU (`/proc/<pid>/stat`
// utime + stime, and the exact `/proc/<pid>/schedstat` run time; the pid
// from `pg_backend_pid()` and `pg_stat_activity`), every server process's
// CPU (WAL writer, checkpointer, ...) and the WAL bytes written
// (`pg_current_wal_insert_lsn()` before and after).
import CPostgres
import Core
import Desk
import Foundation
import PostgresStore
import TestSupport

struct Options {
    var url: String?
    var runs = 3
    var commits = 2000
    var callers = 16
    var phases: Set<Character> = Set("abcde")

    init(arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            let value = iterator.next()
            switch (argument, value, value.flatMap { Int($0) }) {
            case ("--url", let v?, _): url = v
            case ("--runs", _, let v?) where v > 0: runs = v
            case ("--commits", _, let v?) where v > 0: commits = v
            case ("--callers", _, let v?) where v > 0: callers = v
            case ("--phases", let v?, _) where !v.isEmpty && v.allSatisfy({ "abcde".contains($0) }): phases = Set(v)
            default:
                FileHandle.standardError.write(Data(
                    "usage: PGBench [--url URL] [--runs N] [--commits N] [--callers N] [--phases abcde]\n".utf8))
                exit(2)
            }
        }
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("PGBench: \(message)\n".utf8))
    exit(1)
}

/// (a): one libpq connection with the raw table and its prepared insert;
/// it also reads the server's WAL position and process ids for ``Probe``.
final class RawReference {
    let connection: OpaquePointer
    private var next = 0
    /// Requests sent by ``insert(_:)`` (one per row).
    private(set) var roundTrips = 0

    init(url: String) {
        guard let connection = PQconnectdb(url), PQstatus(connection) == CONNECTION_OK else {
            fail("cannot connect for the raw reference")
        }
        self.connection = connection
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        check(PQexec(connection, "DROP TABLE IF EXISTS pgbench_raw"), "drop")
        check(PQexec(connection, "CREATE TABLE pgbench_raw (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            + "at double precision NOT NULL, payload text NOT NULL)"), "create")
        check(PQprepare(connection, "raw", "INSERT INTO pgbench_raw (at, payload) VALUES ($1, $2)", 2, nil),
              "prepare")
    }

    deinit { PQfinish(connection) }

    private func check(_ result: OpaquePointer?, _ what: String) {
        let status = PQresultStatus(result)
        if status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK {
            fail("\(what): \(String(cString: PQerrorMessage(connection)))")
        }
        PQclear(result)
    }

    /// `count` single-row autocommit inserts; how long they took.
    func insert(_ count: Int) -> Duration {
        let clock = ContinuousClock()
        let started = clock.now
        for _ in 0..<count {
            next += 1
            let at = strdup(String(Date().timeIntervalSinceReferenceDate))
            let payload = strdup("raw row \(next): the VPN tunnel to the Hamburg office is down")
            var values: [UnsafePointer<CChar>?] = [UnsafePointer(at), UnsafePointer(payload)]
            roundTrips += 1
            check(PQexecPrepared(connection, "raw", 2, &values, nil, nil, 0), "insert")
            free(at)
            free(payload)
        }
        return clock.now - started
    }

    /// The first column of every row of `sql` (no parameters).
    func column(_ sql: String) -> [String] {
        guard let result = PQexec(connection, sql), PQresultStatus(result) == PGRES_TUPLES_OK else {
            fail("\(sql): \(String(cString: PQerrorMessage(connection)))")
        }
        defer { PQclear(result) }
        return (0..<PQntuples(result)).map { String(cString: PQgetvalue(result, $0, 0)) }
    }
}

/// What one phase cost, summed over its slices: wall time, this process's
/// CPU, the serving backend's CPU, every server process's CPU, WAL bytes
/// and round trips.
struct Cost {
    var commits = 0
    var wall = Duration.zero
    var clientCPU = 0.0
    var backendTicks = 0.0
    var backendRun = 0.0
    var serverRun = 0.0
    var wal = 0.0
    var roundTrips = 0

    func perCommit(_ value: Double) -> Double { commits == 0 ? .nan : value / Double(commits) }

    static func += (total: inout Cost, part: Cost) {
        total.commits += part.commits
        total.wall += part.wall
        total.clientCPU += part.clientCPU
        total.backendTicks += part.backendTicks
        total.backendRun += part.backendRun
        total.serverRun += part.serverRun
        total.wal += part.wal
        total.roundTrips += part.roundTrips
    }
}

/// Reads the server's side of a phase: the CPU of its processes from
/// `/proc/<pid>/stat` (utime + stime, in clock ticks of 10 ms) and
/// `/proc/<pid>/schedstat` (run time in ns, exact), and the WAL insert
/// position. The server runs on this machine (its own cluster, or a
/// --url on localhost); otherwise the CPU columns read zero.
struct Probe {
    let reference: RawReference
    let rawBackend: Int32
    let storeBackend: Int32
    let serverProcesses: [Int32]
    let microsecondsPerTick = 1e6 / Double(sysconf(Int32(_SC_CLK_TCK)))

    init(reference: RawReference) {
        self.reference = reference
        rawBackend = Int32(reference.column("SELECT pg_backend_pid()").first ?? "") ?? 0
        // The store names its connection "switchboard" (PGConnection).
        let store = reference.column("SELECT pid FROM pg_stat_activity WHERE application_name = 'switchboard' "
            + "AND datname = current_database()")
        if store.count != 1 { fail("expected one store connection in pg_stat_activity, found \(store.count)") }
        storeBackend = Int32(store[0]) ?? 0
        // Every process of the server that pg_stat_activity lists (backends,
        // WAL writer, checkpointer, background writer, ...).
        serverProcesses = reference.column("SELECT pid FROM pg_stat_activity").compactMap { Int32($0) }
    }

    /// utime + stime of `pid` in µs (10 ms steps), 0 when unreadable.
    func ticks(_ pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        // Fields after the command name: state is field 3, utime 14, stime 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) * microsecondsPerTick
    }

    /// Time `pid` ran on a CPU, in µs (exact), 0 when unreadable.
    func runTime(_ pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/schedstat", encoding: .utf8),
              let first = text.split(separator: " ").first, let nanoseconds = Double(first) else { return 0 }
        return nanoseconds / 1e3
    }

    /// The WAL insert position in bytes.
    func walPosition() -> Double {
        let text = reference.column("SELECT pg_current_wal_insert_lsn()::text").first ?? "0/0"
        let parts = text.split(separator: "/").map { UInt64($0, radix: 16) ?? 0 }
        return parts.count == 2 ? Double(parts[0] << 32 | parts[1]) : 0
    }

    struct Sample {
        var wall: ContinuousClock.Instant
        var clientCPU, backendTicks, backendRun, serverRun, wal: Double
        var roundTrips: Int
    }

    /// The server's readings and the round trips; the client's CPU is read
    /// by ``measure`` right next to the body, so reading `/proc` (tens of
    /// µs per slice) is not counted as the client's.
    func sample(backend: Int32, roundTrips: Int) -> Sample {
        Sample(wall: .now, clientCPU: 0, backendTicks: ticks(backend),
               backendRun: runTime(backend), serverRun: serverProcesses.reduce(0) { $0 + runTime($1) },
               wal: 0, roundTrips: roundTrips)
    }

    /// Runs `body` (`commits` commits on the connection served by
    /// `backend`, returning their wall time) and says what it cost. The
    /// WAL position is read outside the CPU readings, so the reading's
    /// query is not counted.
    func measure(commits: Int, backend: Int32, roundTrips: () -> Int, _ body: () async -> Duration) async -> Cost {
        let walBefore = walPosition()
        var before = sample(backend: backend, roundTrips: roundTrips())
        before.clientCPU = processCPUMicroseconds()
        let wall = await body()
        let clientAfter = processCPUMicroseconds()
        var after = sample(backend: backend, roundTrips: roundTrips())
        after.clientCPU = clientAfter
        let walAfter = walPosition()
        return Cost(commits: commits, wall: wall, clientCPU: after.clientCPU - before.clientCPU,
                    backendTicks: after.backendTicks - before.backendTicks,
                    backendRun: after.backendRun - before.backendRun, serverRun: after.serverRun - before.serverRun,
                    wal: walAfter - walBefore, roundTrips: after.roundTrips - before.roundTrips)
    }
}

func ticket(_ index: Int) -> (NewTicket, [PageDraft]) {
    let now = Date()
    let contact = ChatIdentity(network: "libera", nick: "bench\(index % 50)", account: "bench\(index % 50)")
    let ticket = NewTicket(
        createdAt: now, createdBy: .customer(contact.description), customerNumber: "10042",
        customerName: "Elbe Logistik GmbH", contact: contact, group: .contract, tier: "premium", severity: .major,
        summary: "VPN down (\(index))", description: "The VPN tunnel to the Hamburg office is down since this morning.",
        language: "de")
    let pages = [PageDraft(step: 0, network: "libera", target: "bob", targetKind: .direct,
                           text: "P2 new ticket: VPN down (\(index))", createdAt: now)]
    return (ticket, pages)
}

/// How a page path claims the new ticket's pages: not at all (b, c), in
/// the creation (d), or in a second transaction (e).
enum ClaimMode {
    case none
    case folded(LeaseClaim)
    case separate(LeaseClaim)
}

/// (b)–(e): `commits` ticket creations from `callers` concurrent callers; how long they took.
func createTickets(_ store: PostgresDeskStore, commits: Int, callers: Int, first: Int,
                   claim: ClaimMode = .none) async -> Duration {
    let clock = ContinuousClock()
    let started = clock.now
    await withTaskGroup(of: Void.self) { group in
        for caller in 0..<callers {
            group.addTask {
                var index = caller
                while index < commits {
                    let (new, pages) = ticket(first + index)
                    do {
                        switch claim {
                        case .none:
                            _ = try await store.createTicket(new, pages: pages)
                        case .folded(let lease):
                            let commit = try await store.createTicket(new, claimingPagesFor: lease,
                                                                      makePages: { _ in pages })
                            if commit.pageClaim != .claimed { fail("the folded claim was refused") }
                        case .separate(let lease):
                            let commit = try await store.createTicket(new, pages: pages)
                            let claims = try await store.claimPages(commit.pages.map(\.id), lease: lease.lease,
                                                                    token: lease.token, now: Date())
                            if claims.values.contains(where: { $0 != .claimed }) { fail("the claim was refused") }
                        }
                    } catch {
                        fail("createTicket: \(error)")
                    }
                    index += callers
                }
            }
        }
    }
    return clock.now - started
}

/// CPU time of this process so far (every thread, user + kernel), in µs:
/// the client's share of a commit (libpq, the store thread and the hop to
/// it and back); the server's own CPU is not in it.
func processCPUMicroseconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) * 1e6 + Double(time.tv_nsec) / 1e3
}

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
        .joined(separator: " ") ?? "unknown"
}

let options = Options(arguments: CommandLine.arguments)
var server: PostgresServer?
let url: String
if let given = options.url {
    url = given
} else {
    do {
        let started = try await PostgresServer.start(durable: true)
        server = started
        url = try await started.createDatabase("pgbench")
    } catch {
        fail("cannot start a PostgreSQL server: \(error)")
    }
}

let store: PostgresDeskStore
do {
    store = try PostgresDeskStore(url: url, logger: .disabled)
} catch {
    fail("\(error)")
}
let loadBefore = loadAverage()
let reference = RawReference(url: url)
let lease: LeaseClaim
do {
    guard let grant = try await store.acquireLease("pgbench", holder: "bench", ttl: 3600, now: Date()) else {
        fail("the benchmark's lease is held by someone else")
    }
    lease = LeaseClaim(lease: grant.name, token: grant.token)
} catch {
    fail("acquiring the lease: \(error)")
}
let probe = Probe(reference: reference)
var raw: [Double] = []
var sequential: [Double] = []
var concurrent: [Double] = []
var folded: [Double] = []
var separate: [Double] = []
var created = 0
var rawCost = Cost()
var ticketCost = Cost()
var foldedCost = Cost()
// (a), (b), (d) and (e) alternate in slices of 50 commits, so a burst of
// load from elsewhere (other builds on this machine) hits them alike.
let slice = 50
let phases = options.phases
for _ in 0..<options.runs {
    var rawTime = Duration.zero
    var ticketTime = Duration.zero
    var foldedTime = Duration.zero
    var separateTime = Duration.zero
    var done = 0
    while done < options.commits {
        let count = min(slice, options.commits - done)
        if phases.contains("a") {
            let rawSlice = await probe.measure(commits: count, backend: probe.rawBackend,
                                               roundTrips: { reference.roundTrips }) { reference.insert(count) }
            rawCost += rawSlice
            rawTime += rawSlice.wall
        }
        if phases.contains("b") {
            let first = created
            let ticketSlice = await probe.measure(commits: count, backend: probe.storeBackend,
                                                  roundTrips: { PostgresDeskStore.roundTrips }) {
                await createTickets(store, commits: count, callers: 1, first: first)
            }
            ticketCost += ticketSlice
            ticketTime += ticketSlice.wall
            created += count
        }
        if phases.contains("d") {
            let firstFolded = created
            let foldedSlice = await probe.measure(commits: count, backend: probe.storeBackend,
                                                  roundTrips: { PostgresDeskStore.roundTrips }) {
                await createTickets(store, commits: count, callers: 1, first: firstFolded, claim: .folded(lease))
            }
            foldedCost += foldedSlice
            foldedTime += foldedSlice.wall
            created += count
        }
        if phases.contains("e") {
            separateTime += await createTickets(store, commits: count, callers: 1, first: created,
                                                claim: .separate(lease))
            created += count
        }
        done += count
    }
    for (phase, time) in [("a", rawTime), ("b", ticketTime), ("d", foldedTime), ("e", separateTime)]
    where phases.contains(Character(phase)) {
        let rate = Double(options.commits) / time.timeInterval
        switch phase {
        case "a": raw.append(rate)
        case "b": sequential.append(rate)
        case "d": folded.append(rate)
        default: separate.append(rate)
        }
    }
    if phases.contains("c") {
        let concurrentTime = await createTickets(store, commits: options.commits, callers: options.callers,
                                                 first: created)
        created += options.commits
        concurrent.append(Double(options.commits) / concurrentTime.timeInterval)
    }
}
let statistics = store.statistics
await store.close()
let loadAfter = loadAverage()
await server?.stop()

let rawRate = median(raw)
func line(_ name: String, _ rate: Double, _ how: String) {
    guard rate.isFinite else {
        print(name.padding(toLength: 44, withPad: " ", startingAt: 0) + "  skipped (--phases)")
        return
    }
    let ratio = rate / rawRate
    print(name.padding(toLength: 44, withPad: " ", startingAt: 0)
        + String(format: "%9.0f /s  %5.2f×  ", rate, ratio) + how)
}
print("PGBench: PostgreSQL \(server == nil ? "at --url" : "cluster of its own (fsync on)"), "
    + "median of \(options.runs) runs × \(options.commits) commits; load average \(loadBefore) → \(loadAfter)")
line("(a) raw single-row INSERT + COMMIT", rawRate, "libpq, prepared, autocommit, one connection")
line("(b) createTicket, 1 caller", median(sequential), "ticket + event + page per commit")
line("(c) createTicket, \(options.callers) callers", median(concurrent),
     "group commit: \(statistics.writes) writes in \(statistics.transactions) transactions overall")
line("(d) createTicket, claim folded, 1 caller", median(folded), "the active instance's page path: one commit")
line("(e) createTicket + claimPages, 1 caller", median(separate), "the claim in a transaction of its own")
print("target: (b) ≥ 0.8× (a); runs (a) \(raw.map { Int($0) }), (b) \(sequential.map { Int($0) }), "
    + "(c) \(concurrent.map { Int($0) }), (d) \(folded.map { Int($0) }), (e) \(separate.map { Int($0) })")
print("per commit, over all runs (\(rawCost.commits) each):       (a) raw    (b) ticket  (d) folded")
let costs = [rawCost, ticketCost, foldedCost]
func costLine(_ name: String, _ format: String, _ value: (Cost) -> Double) {
    print(name.padding(toLength: 46, withPad: " ", startingAt: 0)
        + costs.map { String(format: format, $0.perCommit(value($0))) }
        .joined(separator: " "))
}
costLine("  wall time, µs", "%9.1f", { $0.wall.timeInterval * 1e6 })
costLine("  round trips", "%9.2f", { Double($0.roundTrips) })
costLine("  client CPU (process, user + kernel), µs", "%9.1f", { $0.clientCPU })
costLine("  server backend CPU (utime + stime), µs", "%9.1f", { $0.backendTicks })
costLine("  server backend CPU (schedstat run time), µs", "%9.1f", { $0.backendRun })
costLine("  all server processes (schedstat), µs", "%9.1f", { $0.serverRun })
costLine("  WAL bytes", "%9.0f", { $0.wal })
