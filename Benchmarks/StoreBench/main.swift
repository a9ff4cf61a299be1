// StoreBench: how fast the durable store is on this machine.
//
//     swift run -c release StoreBench [--runs N] [--commits N] [--big N] [--paired-only | --cpu-only]
//
// (a) the machine's raw SQLite reference: WAL, synchronous=FULL, one
//     single-row INSERT per transaction, straight on the C API;
// (b) durable ticket creation: one ticket (its `created` event in its row) + one page per
//     transaction, through `SQLiteDeskStore.createTicket` (the store thread),
//     one caller awaiting each — the gateway's case: its bot runtime (an
//     actor on the event loop's thread, in a task that prefers the loop as
//     its executor, as the caller here) handles one input
//     at a time, so it never creates two tickets at once; "(b, pool)" is the
//     same from an actor on the cooperative pool (the runtime before issue 12);
// (b') the same statements on the caller's thread (no store thread), so
//     (b) − (b') is what the hop to the store thread costs;
//     (b) also prints (unless `--paired-only`) the update rate and a
//     customer's ticket with its conversation's snapshot saved in the
//     creation's transaction against the same with the snapshot's own
//     commit after it (what issue 12's page-path change saves per ticket);
// (c) the same from several concurrent callers, with the store thread's
//     write batching on (writes queued together share one commit) and off
//     (`maxBatchedWrites: 1`), to show what batching buys;
// (d) reopening a store with 10^6 tickets: open (+ migration check) and
//     `openTickets()`. The file is generated once by 10,000 concurrent
//     creations at a time (batched by the store thread), then 99.5 % of the
//     tickets are closed with one UPDATE.
// (e) what one ticket writes and costs apart from the commit: WAL frames
//     (pages) per commit of (a) and (b') — measured with checkpoints off, from
//     the WAL's size — and the CPU of the statements alone: N tickets (or raw
//     rows) in ONE transaction on the caller's thread, thread CPU time per
//     ticket (the measure behind issue 12's "30 µs against 0.9 µs" and its
//     10 µs target; it leaves out the commit, fdatasync and the thread hop).
// `--paired-only` runs (a), (b), (b'), (b, pool) and (e) only (for A/B comparisons);
// `--cpu-only` runs (e) only (no fdatasync: for A/B runs of the statements' CPU).
// Every file lives in a fresh temporary directory that is deleted at the end.
// Each number is the median of the runs; the table says how it was measured.
import CSQLite
import Core
import Desk
import Foundation
import Store
import Transport

struct Options {
    var runs = 5
    var commits = 2000
    var big = 1_000_000
    var pairedOnly = false
    var cpuOnly = false

    init(arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            if argument == "--paired-only" || argument == "--cpu-only" {
                pairedOnly = true
                cpuOnly = argument == "--cpu-only"
                continue
            }
            let value = iterator.next().flatMap { Int($0) }
            switch (argument, value) {
            case ("--runs", let v?) where v > 0: runs = v
            case ("--commits", let v?) where v > 0: commits = v
            case ("--big", let v?) where v > 0: big = v
            default:
                FileHandle.standardError.write(Data("usage: StoreBench [--runs N] [--commits N] [--big N] [--paired-only | --cpu-only]\n".utf8))
                exit(2)
            }
        }
    }
}

struct Row {
    var name: String
    var value: String
    var how: String
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

func seconds(_ duration: Duration) -> Double { duration.timeInterval }

/// The value below which `fraction` of `values` lie (nearest rank).
func percentile(_ values: [Double], _ fraction: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
}

/// "median / p99 / p99.9 / max" of seconds, in ms.
func latencySummary(_ values: [Double]) -> String {
    "\(format(median(values) * 1000, 3)) / \(format(percentile(values, 0.99) * 1000, 3)) / "
        + "\(format(percentile(values, 0.999) * 1000, 3)) / \(format((values.max() ?? .nan) * 1000, 3)) ms"
}

/// The process's CPU time so far (every thread): the exact total from the
/// scheduler (CLOCK_PROCESS_CPUTIME_ID) and getrusage's user and kernel
/// times (their split is the kernel's tick-sampled ratio, close over
/// thousands of commits).
struct CPUSample {
    var total: Double
    var user: Double
    var system: Double
    /// Context switches of every thread: voluntary (a thread blocked: waiting
    /// for a wake-up, the disk, a lock) and involuntary (preempted).
    var voluntary: Double = 0
    var involuntary: Double = 0

    static func now() -> CPUSample {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return CPUSample(total: Double(time.tv_sec) + Double(time.tv_nsec) / 1e9,
                         user: Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6,
                         system: Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6,
                         voluntary: Double(usage.ru_nvcsw), involuntary: Double(usage.ru_nivcsw))
    }

    static func - (lhs: CPUSample, rhs: CPUSample) -> CPUSample {
        CPUSample(total: lhs.total - rhs.total, user: lhs.user - rhs.user, system: lhs.system - rhs.system,
                  voluntary: lhs.voluntary - rhs.voluntary, involuntary: lhs.involuntary - rhs.involuntary)
    }

    static func + (lhs: CPUSample, rhs: CPUSample) -> CPUSample {
        CPUSample(total: lhs.total + rhs.total, user: lhs.user + rhs.user, system: lhs.system + rhs.system,
                  voluntary: lhs.voluntary + rhs.voluntary, involuntary: lhs.involuntary + rhs.involuntary)
    }
}

/// One side of the paired comparison of (a) and (b): runs chunks of commits
/// and adds up their wall time and CPU, so both sides are timed by the same code.
@MainActor final class PairedSide {
    private let body: @MainActor (Int) async -> Double
    private(set) var seconds = 0.0
    private(set) var commits = 0
    /// CPU per commit of each chunk, µs (for the median).
    private(set) var chunkCPU: [Double] = []
    private(set) var cpu = CPUSample(total: 0, user: 0, system: 0)

    init(_ body: @escaping @MainActor (Int) async -> Double) { self.body = body }

    /// Runs `count` commits; returns their wall time in seconds.
    func chunk(_ count: Int) async -> Double {
        let before = CPUSample.now()
        let elapsed = await body(count)
        let used = CPUSample.now() - before
        seconds += elapsed
        commits += count
        cpu = cpu + used
        chunkCPU.append(used.total / Double(count) * 1e6)
        return elapsed
    }

}

/// CPU time of the calling thread so far, seconds.
func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

func format(_ value: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", value) }

/// Fails loudly: a benchmark that cannot run must not print numbers.
func check(_ rc: Int32, _ db: OpaquePointer?, _ what: String) {
    guard rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW else {
        fail("\(what): " + (db.map { String(cString: sqlite3_errmsg($0)) } ?? "code \(rc)"))
    }
}

/// Where every file of this run lives; removed at the end and on failure.
enum Bench {
    static let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("switchboard-storebench-\(UUID().uuidString)", isDirectory: true)
}

/// Removes the files and exits with status 1.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("StoreBench: \(message)\n".utf8))
    try? FileManager.default.removeItem(at: Bench.directory)
    exit(1)
}

nonisolated(unsafe) let sqliteTransient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// (a) The plain loop: one single-row INSERT per transaction, on its own file.
final class RawInserter {
    private var db: OpaquePointer?
    private var insert: OpaquePointer?
    private var index = 0
    /// Seconds each commit took, in order.
    private(set) var latencies: [Double] = []
    private let payload = "Customer 10042: the VPN tunnel to the Hamburg office is down since this morning."

    init(path: String) {
        check(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil), db, "open")
        check(sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
            + "CREATE TABLE t (id INTEGER PRIMARY KEY, created_at REAL NOT NULL, payload TEXT NOT NULL)",
            nil, nil, nil), db, "schema")
        check(sqlite3_prepare_v2(db, "INSERT INTO t (created_at, payload) VALUES (?, ?)", -1, &insert, nil), db,
              "prepare")
    }

    /// Inserts `rows` rows, one transaction each; returns the seconds taken.
    func run(_ rows: Int) -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        var last = start
        for _ in 0..<rows {
            index += 1
            check(sqlite3_exec(db, "BEGIN IMMEDIATE", nil, nil, nil), db, "begin")
            sqlite3_bind_double(insert, 1, Double(index))
            sqlite3_bind_text(insert, 2, payload, -1, sqliteTransient)
            check(sqlite3_step(insert), db, "insert")
            sqlite3_reset(insert)
            check(sqlite3_exec(db, "COMMIT", nil, nil, nil), db, "commit")
            let now = clock.now
            latencies.append(seconds(now - last))
            last = now
        }
        return seconds(last - start)
    }

    /// Runs SQL without parameters on the raw file (pragmas, checkpoints).
    func execute(_ sql: String) {
        check(sqlite3_exec(db, sql, nil, nil, nil), db, sql)
    }

    /// Inserts `rows` rows in ONE transaction; returns the thread CPU
    /// seconds the inserts took (BEGIN and COMMIT left out).
    func insertInOneTransaction(_ rows: Int) -> Double {
        check(sqlite3_exec(db, "BEGIN IMMEDIATE", nil, nil, nil), db, "begin")
        let start = threadCPUSeconds()
        for _ in 0..<rows {
            index += 1
            sqlite3_bind_double(insert, 1, Double(index))
            sqlite3_bind_text(insert, 2, payload, -1, sqliteTransient)
            check(sqlite3_step(insert), db, "insert")
            sqlite3_reset(insert)
        }
        let used = threadCPUSeconds() - start
        check(sqlite3_exec(db, "COMMIT", nil, nil, nil), db, "commit")
        return used
    }

    func close() {
        sqlite3_finalize(insert)
        sqlite3_close_v2(db)
    }
}

/// The one timed loop of (b), its pool variant and (b'): creates tickets one
/// after the other with the caller's `create`, timing each. It runs on its
/// caller's executor (`nonisolated(nonsending)`), so the callers differ only
/// in where they run and how they reach the statements, not in what is timed.
final class CreationLoop {
    private var index = 0
    /// Seconds each ticket took (building it and its commit), in order.
    private(set) var latencies: [Double] = []

    /// Creates `tickets` tickets; returns the seconds taken.
    nonisolated(nonsending) func run(_ tickets: Int,
                                     _ create: (NewTicket, [PageDraft]) async throws -> Void) async -> Double {
        let now = Date()
        let clock = ContinuousClock()
        let start = clock.now
        var last = start
        for _ in 0..<tickets {
            index += 1
            let (ticket, pages) = sampleTicket(index, at: now)
            do { try await create(ticket, pages) } catch { fail("\(error)") }
            let now = clock.now
            latencies.append(seconds(now - last))
            last = now
        }
        return seconds(last - start)
    }
}

/// (b'): creates tickets (ticket + event + one page each, one
/// transaction each, one after the other) with `create`, on the main actor.
@MainActor final class TicketCreator {
    private let create: @MainActor (NewTicket, [PageDraft]) async throws -> Void
    private let loop = CreationLoop()
    var latencies: [Double] { loop.latencies }

    init(_ create: @escaping @MainActor (NewTicket, [PageDraft]) async throws -> Void) { self.create = create }

    /// Creates `tickets` tickets; returns the seconds taken.
    func run(_ tickets: Int) async -> Double { await loop.run(tickets, create) }
}

/// (b) The caller of `createTicket`: an actor on the event loop's thread
/// (`EventLoop.shared`), in a task that prefers the loop as its executor,
/// as the gateway's bot runtime is since issue 12 (it runs in the IRC
/// client's read task, `Task(executorPreference: loop.taskExecutor)`) —
/// so the store façade's nonisolated code runs on the loop too and the
/// store's commit is the one hand-off, to the store's thread and back.
/// Without the preference the façade ran on the cooperative pool: two
/// more hops per ticket (loop → pool → store thread → pool → loop), which
/// the gateway does not make.
actor LoopStoreCaller {
    private let store: SQLiteDeskStore
    private let loop = CreationLoop()
    var latencies: [Double] { loop.latencies }

    nonisolated var unownedExecutor: UnownedSerialExecutor { EventLoop.shared.asUnownedSerialExecutor() }

    init(_ store: SQLiteDeskStore) { self.store = store }

    /// Creates `tickets` tickets one after the other, in a task that
    /// prefers the loop; returns the seconds taken.
    nonisolated func run(_ tickets: Int) async -> Double {
        await Task(executorPreference: EventLoop.shared.taskExecutor) { await self.create(tickets) }.value
    }

    private func create(_ tickets: Int) async -> Double {
        await loop.run(tickets) { ticket, pages in _ = try await self.store.createTicket(ticket, pages: pages) }
    }
}

/// (b, pool) The same caller as a default actor on Swift's cooperative pool,
/// as the bot runtime was before issue 12 (a labelled extra row: what the
/// event loop changed for the store's hop).
actor PoolStoreCaller {
    private let store: SQLiteDeskStore
    private let loop = CreationLoop()
    var latencies: [Double] { loop.latencies }

    init(_ store: SQLiteDeskStore) { self.store = store }

    /// Creates `tickets` tickets one after the other; returns the seconds taken.
    func run(_ tickets: Int) async -> Double {
        await loop.run(tickets) { ticket, pages in _ = try await self.store.createTicket(ticket, pages: pages) }
    }
}

/// (b') A connection to a fresh store file (same schema and pragmas as the
/// store's), used on the caller's thread: (b)'s statements without the hop
/// to the store thread and back.
func directConnection(_ path: String) async -> SQLiteConnection {
    await openStore(path).close()  // creates and migrates the file
    do {
        let db = try SQLiteConnection(path: path)
        try db.execute("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON")
        return db
    } catch {
        fail("\(error)")
    }
}

func loadAverage() -> String {
    ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?")
        .split(separator: " ").prefix(3).joined(separator: " ")
}

func sampleTicket(_ index: Int, at date: Date, customers: Int = 50_000) -> (NewTicket, [PageDraft]) {
    let customer = index % customers
    let contact = ChatIdentity(network: "libera", nick: "customer\(customer)", account: "customer\(customer)")
    let ticket = NewTicket(
        createdAt: date, createdBy: .customer(contact.description), customerNumber: String(10_000 + customer),
        customerName: "Customer \(customer) GmbH", contact: contact,
        group: index % 3 == 0 ? .noContract : .contract, tier: index % 3 == 0 ? nil : "premium",
        severity: Severity(rawValue: index % 4 + 1) ?? .minor, summary: "VPN tunnel down (\(index))",
        description: "The VPN tunnel to the Hamburg office is down since this morning; NordBox M firmware 4.1.",
        language: index % 2 == 0 ? "de" : "en")
    let page = PageDraft(step: 0, network: "libera", target: "#support-agents",
                         text: "bob: P2 #? Customer \(customer) GmbH — VPN tunnel down", createdAt: date)
    return (ticket, [page])
}

func openStore(_ path: String, maxBatchedWrites: Int = SQLiteDeskStore.defaultMaxBatchedWrites) -> SQLiteDeskStore {
    do {
        return try SQLiteDeskStore(path: path, logger: .disabled, maxBatchedWrites: maxBatchedWrites)
    } catch {
        fail("\(error)")
    }
}

/// Creates the tickets `indices` names, all at once from concurrent tasks
/// (the store thread batches them); fails the benchmark on any error.
func createConcurrently(_ store: SQLiteDeskStore, _ indices: Range<Int>, at now: Date) async -> [TicketCommit] {
    await withTaskGroup(of: TicketCommit?.self) { group in
        for index in indices {
            group.addTask {
                let (ticket, pages) = sampleTicket(index, at: now)
                return try? await store.createTicket(ticket, pages: pages)
            }
        }
        var commits: [TicketCommit] = []
        for await commit in group {
            guard let commit else { fail("a concurrent creation failed") }
            commits.append(commit)
        }
        return commits
    }
}

/// Durable updates (an agent acknowledging: state, event, cancelled pages)
/// per second, one thread, on tickets made first.
func updateRate(path: String, tickets: Int) async -> Double {
    let store = openStore(path)
    let now = Date()
    let created = await createConcurrently(store, 0..<tickets, at: now)
    let clock = ContinuousClock()
    let start = clock.now
    for commit in created {
        var ticket = commit.ticket
        ticket.state = .acknowledged
        ticket.assignee = "bob"
        ticket.respondedAt = now
        let event = TicketEvent(ticket: ticket.number, at: now, actor: .agent("bob"), kind: .acknowledged)
        do {
            _ = try await store.updateTicket(ticket, expectedVersion: commit.version, events: [event], pages: [],
                                             cancelUnsentPages: true)
        } catch {
            fail("\(error)")
        }
    }
    let rate = Double(tickets) / seconds(clock.now - start)
    await store.close()
    return rate
}

/// A customer's ticket with the conversation it comes from (a follow-up's
/// snapshot, about 600 bytes) per second, one thread, on a fresh file:
/// `together`, the conversation saved in the creation's transaction (as the
/// gateway does since issue 12's page-path change); otherwise its own commit
/// after the creation (as before).
func creationWithConversationRate(path: String, tickets: Int, together: Bool) async -> Double {
    let store = openStore(path)
    let now = Date()
    let state = Data(String(repeating: "x", count: 600).utf8)
    let clock = ContinuousClock()
    let start = clock.now
    for index in 0..<tickets {
        let (ticket, pages) = sampleTicket(index + 1, at: now)
        let snapshot = ConversationSnapshot(key: ConversationKey(network: "libera", key: "nick:c\(index)"),
                                            formatVersion: 1, state: state, updatedAt: now,
                                            expiresAt: now.addingTimeInterval(3600))
        do {
            if together {
                _ = try await store.createTicket(ticket, claimingPagesFor: nil, makePages: { _ in pages },
                                                 conversation: { _ in snapshot })
            } else {
                _ = try await store.createTicket(ticket, pages: pages)
                try await store.saveConversation(snapshot)
            }
        } catch {
            fail("\(error)")
        }
    }
    let rate = Double(tickets) / seconds(clock.now - start)
    await store.close()
    return rate
}

/// (c) Creations per second with `callers` concurrent tasks, each creating
/// its share one after the other, on a fresh file; and the average number
/// of writes per commit.
func concurrentCreateRate(path: String, tickets: Int, callers: Int, maxBatchedWrites: Int) async
    -> (rate: Double, batch: Double) {
    let store = openStore(path, maxBatchedWrites: maxBatchedWrites)
    let now = Date()
    let perCaller = tickets / callers
    let clock = ContinuousClock()
    let start = clock.now
    let failed = await withTaskGroup(of: Int.self) { group in
        for caller in 0..<callers {
            group.addTask {
                var failed = 0
                for index in 0..<perCaller {
                    let (ticket, pages) = sampleTicket(caller * perCaller + index, at: now)
                    if (try? await store.createTicket(ticket, pages: pages)) == nil { failed += 1 }
                }
                return failed
            }
        }
        return await group.reduce(0, +)
    }
    let elapsed = seconds(clock.now - start)
    let statistics = store.batchStatistics
    await store.close()
    if failed > 0 { fail("\(failed) creations failed") }
    return (Double(perCaller * callers) / elapsed, Double(statistics.writes) / Double(max(1, statistics.transactions)))
}

/// (d) Generates `count` tickets (0.5 % left open) and returns the time it took.
func generateBigStore(path: String, count: Int) async -> (seconds: Double, open: Int) {
    let store = openStore(path)
    let now = Date()
    let clock = ContinuousClock()
    let start = clock.now
    var index = 0
    while index < count {
        let end = min(count, index + 10_000)
        _ = await createConcurrently(store, index..<end, at: now)
        index = end
    }
    await store.close()
    do {
        let db = try SQLiteConnection(path: path)
        try db.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -262144")
        try db.transaction {
            try db.run("UPDATE tickets SET state = 'closed', version = 2 WHERE number % 200 <> 0")
            try db.run("""
                UPDATE pages SET sent_at = created_at, attempts = 1
                WHERE ticket IN (SELECT number FROM tickets WHERE state = 'closed')
                """)
        }
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let open = try db.queryFirst("SELECT COUNT(*) FROM tickets WHERE state NOT IN ('resolved', 'closed', 'cancelled')") {
            try $0.int(0)
        } ?? 0
        db.close()
        return (seconds(clock.now - start), open)
    } catch {
        fail("\(error)")
    }
}

let options = Options(arguments: CommandLine.arguments)
// The raw reference opens SQLite first: the store's process-wide settings
// apply to both sides.
SQLiteConnection.configureProcess()
let directory = Bench.directory
do {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
} catch {
    fail("cannot create \(directory.path): \(error)")
}
func freshPath() -> String {
    directory.appendingPathComponent("bench-\(UUID().uuidString).sqlite").path
}
func removeDatabase(_ path: String) {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}

print("StoreBench: SQLite \(String(cString: sqlite3_libversion())), \(ProcessInfo.processInfo.activeProcessorCount) cores, "
    + "files in \(directory.path)")
print("runs: \(options.runs), commits per run: \(options.commits), big store: \(options.big) tickets, "
    + "load average at start: \(loadAverage())")
var rows: [Row] = []

// (a), (b) and (b') side by side: each run opens a raw file, a store and a
// connection, and rotates chunks of `chunk` commits between them, so all see
// the same machine load (other builds on a shared machine make fsync times swing).
let chunk = 100
var raw: [Double] = []
var create: [Double] = []
var pairedRatios: [Double] = []
var update: [Double] = []
var withConversation: (together: [Double], apart: [Double]) = ([], [])
var rawSides: [PairedSide] = []
var createSides: [PairedSide] = []
var directSides: [PairedSide] = []
var directRatios: [Double] = []
var poolSides: [PairedSide] = []
var poolRatios: [Double] = []
/// Seconds per commit of every run: (a), (b), (b'), (b, pool).
var latencies = (raw: [Double](), create: [Double](), direct: [Double](), pool: [Double]())
var checkpoints = (background: 0, inline: 0, longestWAL: 0)
for _ in 0..<(options.cpuOnly ? 0 : options.runs) {
    let rawPath = freshPath()
    let storePath = freshPath()
    let directPath = freshPath()
    let inserter = RawInserter(path: rawPath)
    let poolPath = freshPath()
    let store = openStore(storePath)
    let poolStore = openStore(poolPath)
    let db = await directConnection(directPath)
    let creator = LoopStoreCaller(store)
    let poolCreator = PoolStoreCaller(poolStore)
    let direct = TicketCreator { ticket, pages in
        _ = try db.transaction { try db.insertTicket(ticket, claim: nil, makePages: { _ in pages }) }
    }
    let rawSide = PairedSide { inserter.run($0) }
    let createSide = PairedSide { await creator.run($0) }
    let directSide = PairedSide { await direct.run($0) }
    let poolSide = PairedSide { await poolCreator.run($0) }
    for round in 0..<max(1, options.commits / chunk) {
        // Each side goes first, second, third and fourth in turn.
        let sides = [rawSide, createSide, directSide, poolSide]
        let order = sides.indices.map { sides[($0 + round) % sides.count] }
        var elapsed: [ObjectIdentifier: Double] = [:]
        for side in order { elapsed[ObjectIdentifier(side)] = await side.chunk(chunk) }
        pairedRatios.append(elapsed[ObjectIdentifier(rawSide)]! / elapsed[ObjectIdentifier(createSide)]!)
        directRatios.append(elapsed[ObjectIdentifier(rawSide)]! / elapsed[ObjectIdentifier(directSide)]!)
        poolRatios.append(elapsed[ObjectIdentifier(rawSide)]! / elapsed[ObjectIdentifier(poolSide)]!)
    }
    directSides.append(directSide)
    poolSides.append(poolSide)
    latencies.pool += await poolCreator.latencies
    await poolStore.close()
    removeDatabase(poolPath)
    latencies.raw += inserter.latencies
    latencies.create += await creator.latencies
    latencies.direct += direct.latencies
    db.close()
    removeDatabase(directPath)
    raw.append(Double(rawSide.commits) / rawSide.seconds)
    create.append(Double(createSide.commits) / createSide.seconds)
    rawSides.append(rawSide)
    createSides.append(createSide)
    inserter.close()
    checkpoints.background += store.checkpointStatistics.background
    checkpoints.inline += store.checkpointStatistics.inline
    checkpoints.longestWAL = max(checkpoints.longestWAL, store.checkpointStatistics.longestWAL)
    await store.close()
    removeDatabase(rawPath)
    removeDatabase(storePath)
    if !options.pairedOnly {
        let path = freshPath()
        update.append(await updateRate(path: path, tickets: options.commits))
        removeDatabase(path)
        for together in [true, false] {
            let path = freshPath()
            let rate = await creationWithConversationRate(path: path, tickets: options.commits, together: together)
            if together { withConversation.together.append(rate) } else { withConversation.apart.append(rate) }
            removeDatabase(path)
        }
    }
}
let rawRate = median(raw)
let createMedian = median(create)
if !options.cpuOnly {
    rows.append(Row(name: "(a) raw SQLite INSERT, 1 row/transaction",
                    value: "\(format(rawRate)) rows/s (\(format(1000 / rawRate, 3)) ms/commit)",
                    how: "C API, WAL + synchronous=FULL, \(options.commits) commits a run, median of \(options.runs) runs "
                        + "(min \(format(raw.min() ?? 0)), max \(format(raw.max() ?? 0)))"))
    rows.append(Row(name: "(b) createTicket, 1 thread",
                    value: "\(format(createMedian)) tickets/s = \(format(median(pairedRatios), 2))x raw",
                    how: "ticket (created event in its row) + 1 page per transaction, \(options.commits) a run, median of "
                        + "\(options.runs) runs (min \(format(create.min() ?? 0)), max \(format(create.max() ?? 0))); "
                        + "ratio: median of \(pairedRatios.count) paired \(chunk)-commit chunks"))
    /// Every chunk of one side, all runs together: CPU per commit (median of
    /// the chunks' totals; user and kernel over all of them).
    @MainActor func cpuSummary(_ sides: [PairedSide]) -> (median: Double, all: CPUSample, commits: Int) {
        let commits = sides.reduce(0) { $0 + $1.commits }
        let cpu = sides.reduce(CPUSample(total: 0, user: 0, system: 0)) { $0 + $1.cpu }
        let n = Double(max(1, commits)) / 1e6
        return (median(sides.flatMap { $0.chunkCPU }),
                CPUSample(total: cpu.total / n, user: cpu.user / n, system: cpu.system / n,
                          voluntary: cpu.voluntary / Double(max(1, commits)),
                          involuntary: cpu.involuntary / Double(max(1, commits))),
                commits)
    }
    let ticketCPU = cpuSummary(createSides)
    let rawCPU = cpuSummary(rawSides)
    rows.append(Row(name: "    CPU per durable ticket",
                    value: "\(format(ticketCPU.all.total, 1)) µs (user \(format(ticketCPU.all.user, 1)), kernel "
                        + "\(format(ticketCPU.all.system, 1))) = raw commit + \(format(ticketCPU.all.total - rawCPU.all.total, 1)) µs",
                    how: "process CPU (all threads; CLOCK_PROCESS_CPUTIME_ID total, getrusage user/kernel split) over all "
                        + "\(ticketCPU.commits) tickets of (b), fdatasync and the hop to the store thread included; "
                        + "median of \(chunk)-commit chunks \(format(ticketCPU.median, 1)) µs"))
    let perThousand = 1000 / Double(max(1, ticketCPU.commits))
    rows.append(Row(name: "    WAL checkpoints per 1,000 tickets",
                    value: "\(format(Double(checkpoints.background) * perThousand, 1)) in the background, "
                        + "\(format(Double(checkpoints.inline) * perThousand, 1)) in the commit path; WAL at most "
                        + "\(checkpoints.longestWAL) pages",
                    how: "the store's own (WALCheckpointer: background connection every 1,000 WAL pages, the committing "
                        + "connection at 4,000), over all tickets of (b)"))
    /// A row for (b) made another way: its ratio to raw and its CPU per ticket.
    @MainActor func variantRow(_ name: String, ratios: [Double], cpu: (median: Double, all: CPUSample, commits: Int),
                               how: String) -> Row {
        Row(name: name,
            value: "\(format(median(ratios), 2))x raw; CPU \(format(cpu.all.total, 1)) µs (user "
                + "\(format(cpu.all.user, 1)), kernel \(format(cpu.all.system, 1)))",
            how: how + "; ratio and CPU as for (b), over \(cpu.commits) tickets")
    }
    let directCPU = cpuSummary(directSides), poolCPU = cpuSummary(poolSides)
    rows.append(variantRow("(b') the same on the caller's thread", ratios: directRatios, cpu: directCPU,
                           how: "(b)'s statements in one transaction each straight on a connection, no store thread: "
                               + "(b) minus (b') is the hop's cost"))
    rows.append(variantRow("(b, pool) (b) from the cooperative pool", ratios: poolRatios, cpu: poolCPU,
                           how: "(b) with its caller a default actor on Swift's cooperative pool instead of the event "
                               + "loop (the bot runtime before issue 12), own file"))
    rows.append(Row(name: "    CPU per raw row commit",
                    value: "\(format(rawCPU.all.total, 1)) µs (user \(format(rawCPU.all.user, 1)), kernel "
                        + "\(format(rawCPU.all.system, 1)))",
                    how: "the same over all \(rawCPU.commits) commits of (a), in the same chunks' alternation; "
                        + "median of chunks \(format(rawCPU.median, 1)) µs"))
    @MainActor func switches(_ cpu: CPUSample) -> String {
        "\(format(cpu.voluntary, 2)) + \(format(cpu.involuntary, 2))"
    }
    rows.append(Row(name: "    context switches per commit",
                    value: "(a) \(switches(rawCPU.all)), (b) \(switches(ticketCPU.all)), (b') \(switches(directCPU.all)), "
                        + "(b, pool) \(switches(poolCPU.all))",
                    how: "voluntary (a thread waited: a wake-up, the disk) + involuntary (preempted), every thread of "
                        + "the process (getrusage), per commit; (b) − (b') is the hop's wake-ups"))
    rows.append(Row(name: "    time per commit",
                    value: "(a) \(latencySummary(latencies.raw)); (b) \(latencySummary(latencies.create)); "
                        + "(b') \(latencySummary(latencies.direct)); (b, pool) \(latencySummary(latencies.pool))",
                    how: "median / p99 / p99.9 / max of every commit of the runs (ticket: building it, the call and its commit, as "
                        + "the caller waits)"))
    if !options.pairedOnly {
        rows.append(Row(name: "    updateTicket (ack), 1 thread",
                        value: "\(format(median(update))) updates/s",
                        how: "version check + state + event + cancel pages, \(options.commits) updates, median of "
                            + "\(options.runs)"))
        let together = median(withConversation.together), apart = median(withConversation.apart)
        rows.append(Row(name: "    createTicket + conversation, 1 thread",
                        value: "\(format(together)) tickets/s in one transaction = \(format(together / apart, 2))x "
                            + "\(format(apart)) with its own commit",
                        how: "ticket + 1 page + a 600-byte conversation snapshot, \(options.commits) a run, median of "
                            + "\(options.runs) runs each, alternating"))
    }
}

// (e) WAL frames per commit (checkpoints off, so the WAL holds every frame
// written; its length in frames is what a checkpoint reports — the file's
// size is not, since the store's VFS grows it in 1 MiB steps of zeros),
// after a warm-up so the B-trees are past their first pages.
func walFrames(_ path: String) -> (frames: Double, pageSize: Int) {
    var db: OpaquePointer?
    check(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil), db, "open")
    func integer(_ sql: String, column: Int32) -> Int {
        var statement: OpaquePointer?
        check(sqlite3_prepare_v2(db, sql, -1, &statement, nil), db, sql)
        check(sqlite3_step(statement), db, sql)
        defer { sqlite3_finalize(statement) }
        return Int(sqlite3_column_int64(statement, column))
    }
    let pageSize = integer("PRAGMA page_size", column: 0)
    // (busy, frames in the WAL, frames copied): the frames before it copies anything.
    let frames = integer("PRAGMA wal_checkpoint(PASSIVE)", column: 1)
    sqlite3_close_v2(db)
    return (Double(frames), pageSize)
}
/// Which B-tree each WAL frame of `path` belongs to: reads the first
/// `frames` frames of the WAL (SQLite's format: a 32-byte header, then
/// frames of a 24-byte header whose first field is the page number, and the
/// page) and names each page by `dbstat` ("sqlite_schema" is page 1, the
/// file's header: written whenever the file grows). Returns frames per
/// B-tree, most first, and the number of commit frames.
func framesByBTree(_ path: String, frames: Int, pageSize: Int) -> (byName: [(String, Int)], commits: Int) {
    guard let wal = FileManager.default.contents(atPath: path + "-wal"), wal.count >= 32 else { fail("no WAL at \(path)") }
    let bytes = [UInt8](wal)
    func word(_ offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
    let salts = (word(16), word(20))
    var pageFrames: [UInt32: Int] = [:]
    var commits = 0
    var offset = 32
    for _ in 0..<frames {
        guard offset + 24 + pageSize <= bytes.count, (word(offset + 8), word(offset + 12)) == salts else { break }
        pageFrames[word(offset), default: 0] += 1
        if word(offset + 4) != 0 { commits += 1 }
        offset += 24 + pageSize
    }
    var names: [UInt32: String] = [:]
    var db: OpaquePointer?
    check(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil), db, "open")
    var statement: OpaquePointer?
    check(sqlite3_prepare_v2(db, "SELECT pageno, name FROM dbstat", -1, &statement, nil), db, "dbstat")
    while sqlite3_step(statement) == SQLITE_ROW {
        names[UInt32(sqlite3_column_int64(statement, 0))] = String(cString: sqlite3_column_text(statement, 1))
    }
    sqlite3_finalize(statement)
    sqlite3_close_v2(db)
    var byName: [String: Int] = [:]
    for (page, count) in pageFrames { byName[names[page] ?? "free or new", default: 0] += count }
    return (byName.sorted { $0.value > $1.value }, commits)
}
let frameCommits = 500
var rawFrames = 0.0
var ticketFrames = 0.0
var ticketPageSize = 0
var ticketFramesByBTree = ""
var rawStatementCPU: [Double] = []
var ticketStatementCPU: [Double] = []
do {
    let rawPath = freshPath()
    let inserter = RawInserter(path: rawPath)
    inserter.execute("PRAGMA wal_autocheckpoint = 0")
    _ = inserter.run(1000)
    inserter.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    _ = inserter.run(frameCommits)
    rawFrames = walFrames(rawPath).frames / Double(frameCommits)
    for _ in 0..<options.runs { rawStatementCPU.append(inserter.insertInOneTransaction(options.commits) / Double(options.commits) * 1e6) }
    inserter.close()
    removeDatabase(rawPath)

    let directPath = freshPath()
    let db = await directConnection(directPath)
    let now = Date()
    var index = 0
    func create(_ count: Int) {
        for _ in 0..<count {
            index += 1
            let (ticket, pages) = sampleTicket(index, at: now)
            do { _ = try db.transaction { try db.insertTicket(ticket, claim: nil, makePages: { _ in pages }) } } catch { fail("\(error)") }
        }
    }
    do { try db.execute("PRAGMA wal_autocheckpoint = 0") } catch { fail("\(error)") }
    create(1000)
    do { try db.execute("PRAGMA wal_checkpoint(TRUNCATE)") } catch { fail("\(error)") }
    create(frameCommits)
    let measured = walFrames(directPath)
    ticketFrames = measured.frames / Double(frameCommits)
    ticketPageSize = measured.pageSize
    let breakdown = framesByBTree(directPath, frames: Int(measured.frames), pageSize: measured.pageSize)
    ticketFramesByBTree = breakdown.byName.map { "\($0.0) \(format(Double($0.1) / Double(breakdown.commits), 2))" }
        .joined(separator: ", ")
    for _ in 0..<options.runs {
        let batch = (0..<options.commits).map { offset in sampleTicket(index + offset + 1, at: now) }
        index += options.commits
        let used: Double
        do {
            used = try db.transaction {
                let start = threadCPUSeconds()
                for (ticket, pages) in batch { _ = try db.insertTicket(ticket, claim: nil, makePages: { _ in pages }) }
                return threadCPUSeconds() - start
            }
        } catch {
            fail("\(error)")
        }
        ticketStatementCPU.append(used / Double(options.commits) * 1e6)
    }
    db.close()
    removeDatabase(directPath)
}
rows.append(Row(name: "(e) WAL frames per commit",
                value: "ticket \(format(ticketFrames, 2)) (page size \(ticketPageSize)), raw row \(format(rawFrames, 2))",
                how: "\(frameCommits) commits after 1,000 warm-up ones, checkpoints off: the WAL's frames as a checkpoint reports them"))
rows.append(Row(name: "    ticket's frames by B-tree",
                value: ticketFramesByBTree,
                how: "frames per commit of each table or index (dbstat's names; sqlite_schema is page 1, written when the file "
                    + "grows); bytes synced per commit: \(format(ticketFrames * Double(24 + ticketPageSize))) (ticket), "
                    + "\(format(rawFrames * (24 + 4096))) (raw row, page size 4096)"))
rows.append(Row(name: "    statements' CPU, no commit",
                value: "\(format(median(ticketStatementCPU), 1)) µs per ticket, \(format(median(rawStatementCPU), 2)) µs per raw row",
                how: "\(options.commits) tickets (createTicket's statements, caller's thread) or rows in ONE transaction, "
                    + "thread CPU, median of \(options.runs); no commit, fdatasync or thread hop — issue 12's 10 µs target"))

// (c) concurrent callers, with and without the store thread's write batching.
for callers in options.pairedOnly ? [] : [4, 16, 64] {
    for maxBatchedWrites in [SQLiteDeskStore.defaultMaxBatchedWrites, 1] {
        var rates: [Double] = []
        var batches: [Double] = []
        for _ in 0..<options.runs {
            let path = freshPath()
            let result = await concurrentCreateRate(path: path, tickets: options.commits, callers: callers,
                                                    maxBatchedWrites: maxBatchedWrites)
            rates.append(result.rate)
            batches.append(result.batch)
            removeDatabase(path)
        }
        let rate = median(rates)
        let batching = maxBatchedWrites == 1 ? "batching off" : "batching on"
        rows.append(Row(name: "(c) createTicket, \(callers) callers, \(batching)",
                        value: "\(format(rate)) tickets/s = \(format(rate / rawRate, 2))x raw",
                        how: "median \(format(median(batches), 1)) writes/commit, \(options.commits) tickets, "
                            + "median of \(options.runs) (min \(format(rates.min() ?? 0)), max \(format(rates.max() ?? 0)))"))
    }
}

// (d) reopening a big store.
if !options.pairedOnly {
    let bigPath = freshPath()
    let generated = await generateBigStore(path: bigPath, count: options.big)
    let size = ((try? FileManager.default.attributesOfItem(atPath: bigPath)[.size]) as? NSNumber)?.int64Value ?? 0
    var openTimes: [Double] = []
    var loadTimes: [Double] = []
    var loaded = 0
    for _ in 0..<options.runs {
        let clock = ContinuousClock()
        let start = clock.now
        let store = openStore(bigPath)
        let opened = clock.now
        let open = (try? await store.openTickets()) ?? []
        let done = clock.now
        await store.close()
        loaded = open.count
        openTimes.append(seconds(opened - start) * 1000)
        loadTimes.append(seconds(done - opened) * 1000)
    }
    removeDatabase(bigPath)
    rows.append(Row(name: "(d) open store with \(options.big) tickets",
                    value: "\(format(median(openTimes), 2)) ms",
                    how: "SQLiteDeskStore.init (identify, pragmas, schema version check), file \(size / 1_000_000) MB, warm OS cache, "
                        + "median of \(options.runs)"))
    rows.append(Row(name: "    openTickets() on it",
                    value: "\(format(median(loadTimes), 2)) ms for \(loaded) open tickets",
                    how: "partial index tickets_open, median of \(options.runs); generated in "
                        + "\(format(generated.seconds, 1)) s (10,000 concurrent creations at a time, batched)"))
    if loaded != generated.open {
        fail("openTickets() returned \(loaded), expected \(generated.open)")
    }
}
try? FileManager.default.removeItem(at: directory)

print("load average at the end: \(loadAverage())")
let nameWidth = rows.map(\.name.count).max() ?? 0
let valueWidth = rows.map(\.value.count).max() ?? 0
print("")
print("measurement".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + " | "
    + "result".padding(toLength: valueWidth, withPad: " ", startingAt: 0) + " | how")
print(String(repeating: "-", count: nameWidth + valueWidth + 60))
for row in rows {
    print(row.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + " | "
        + row.value.padding(toLength: valueWidth, withPad: " ", startingAt: 0) + " | " + row.how)
}
