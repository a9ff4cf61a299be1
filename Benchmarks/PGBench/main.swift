// PGBench: durable ticket creation on PostgreSQL next to PostgreSQL's own
// single-row insert-and-commit rate, on the same server in the same run.
//
//     swift run -c release PGBench [--url URL] [--runs N] [--commits N] [--callers N]
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
// rate is the median of --runs runs of --commits commits.
import CPostgres
import Core
import Desk
import Foundation
import PostgresStore
import TestSupport

struct Options {
    var url: String?
    var runs = 3
    var commits = 1000
    var callers = 16

    init(arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            let value = iterator.next()
            switch (argument, value, value.flatMap { Int($0) }) {
            case ("--url", let v?, _): url = v
            case ("--runs", _, let v?) where v > 0: runs = v
            case ("--commits", _, let v?) where v > 0: commits = v
            case ("--callers", _, let v?) where v > 0: callers = v
            default:
                FileHandle.standardError.write(Data(
                    "usage: PGBench [--url URL] [--runs N] [--commits N] [--callers N]\n".utf8))
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

/// (a): one libpq connection with the raw table and its prepared insert.
final class RawReference {
    let connection: OpaquePointer
    private var next = 0

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
            check(PQexecPrepared(connection, "raw", 2, &values, nil, nil, 0), "insert")
            free(at)
            free(payload)
        }
        return clock.now - started
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
var raw: [Double] = []
var sequential: [Double] = []
var concurrent: [Double] = []
var folded: [Double] = []
var separate: [Double] = []
var created = 0
var rawCPU = 0.0
var ticketCPU = 0.0
// (a) and (b) alternate in slices of 50 commits, so a burst of load from
// elsewhere (other builds on this machine) hits both alike.
let slice = 50
for _ in 0..<options.runs {
    var rawTime = Duration.zero
    var ticketTime = Duration.zero
    var foldedTime = Duration.zero
    var separateTime = Duration.zero
    var done = 0
    while done < options.commits {
        let count = min(slice, options.commits - done)
        var cpu = processCPUMicroseconds()
        rawTime += reference.insert(count)
        rawCPU += processCPUMicroseconds() - cpu
        cpu = processCPUMicroseconds()
        ticketTime += await createTickets(store, commits: count, callers: 1, first: created)
        ticketCPU += processCPUMicroseconds() - cpu
        created += count
        foldedTime += await createTickets(store, commits: count, callers: 1, first: created, claim: .folded(lease))
        created += count
        separateTime += await createTickets(store, commits: count, callers: 1, first: created, claim: .separate(lease))
        created += count
        done += count
    }
    raw.append(Double(options.commits) / rawTime.timeInterval)
    sequential.append(Double(options.commits) / ticketTime.timeInterval)
    folded.append(Double(options.commits) / foldedTime.timeInterval)
    separate.append(Double(options.commits) / separateTime.timeInterval)
    let concurrentTime = await createTickets(store, commits: options.commits, callers: options.callers, first: created)
    created += options.commits
    concurrent.append(Double(options.commits) / concurrentTime.timeInterval)
}
let statistics = store.statistics
await store.close()
let loadAfter = loadAverage()
await server?.stop()

let rawRate = median(raw)
func line(_ name: String, _ rate: Double, _ how: String) {
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
let measured = Double(options.runs * options.commits)
print(String(format: "    client CPU per commit: (a) %.1f µs, (b) %.1f µs (process CPU time, user + kernel; "
    + "the server's not included)", rawCPU / measured, ticketCPU / measured))
line("(d) createTicket, claim folded, 1 caller", median(folded), "the active instance's page path: one commit")
line("(e) createTicket + claimPages, 1 caller", median(separate), "the claim in a transaction of its own")
print("target: (b) ≥ 0.8× (a); runs (a) \(raw.map { Int($0) }), (b) \(sequential.map { Int($0) }), "
    + "(c) \(concurrent.map { Int($0) }), (d) \(folded.map { Int($0) }), (e) \(separate.map { Int($0) })")
