import Core
import Desk
import Dispatch
import Foundation
import Glibc
import PostgresStore
import Store
import TestSupport
import Testing

/// SIGKILL at random moments: every ticket number the store handed out
/// survives, with its `created` event and its pending pages — on SQLite and
/// on PostgreSQL (the child is killed, the server keeps running).
///
/// The child is the `StoreCrashChild` executable of this package. `swift
/// test` (and `swift build --build-tests`) builds every target of the
/// package, executables included, into the same directory as the test
/// runner, which is where this test looks for it.
@Suite struct CrashTests {
    static let kills = 24

    /// The stores the child can write to: the SQLite file in the test's
    /// folder, or a fresh database on the shared PostgreSQL test server.
    enum Kind: String, CaseIterable, Sendable {
        case sqlite = "SQLite"
        case postgres = "PostgreSQL"

        /// What the child is given (a file path or a `postgresql://` URL).
        func database(in dir: TemporaryDirectory) async throws -> String {
            switch self {
            case .sqlite: dir.storePath
            case .postgres:
                try await PostgresServer.shared().createDatabase(StoreContract.databaseName(for: dir.url.path))
            }
        }

        func open(_ database: String) throws -> any DeskStore {
            switch self {
            case .sqlite: try SQLiteDeskStore(path: database, logger: .disabled)
            case .postgres: try PostgresDeskStore(url: database, logger: .disabled)
            }
        }
    }

    @Test(arguments: Kind.allCases)
    func everyPrintedNumberSurvivesSIGKILL(_ kind: Kind) async throws {
        let child = URL(fileURLWithPath: try BuiltProducts.executable(named: "StoreCrashChild"))
        var random = SeededRandom(seed: UInt64.random(in: 0...UInt64.max))
        let seed = random.seed
        try await withTemporaryDirectory { dir in
            let database = try await kind.database(in: dir)
            var previousMaximum: Int64 = 0
            var allNumbers = Set<Int64>()
            var checked = 0
            for kill in 1...Self.kills {
                // Alternate one writer and four concurrent writers (batched commits).
                let threads = kill % 2 == 0 ? 4 : 1
                let target = Int(random.next() % 291) + 10
                let run = try Self.runChild(child, database: database, errorFile: dir.path("child-stderr"),
                                            threads: threads, killAfterLines: target)
                let context = Comment(rawValue: "\(kind.rawValue) kill \(kill) (seed \(seed)): \(run.diagnostics)")
                try #require(run.lines.count >= target, context)
                #expect(run.killedBySignal, context)

                let store = try kind.open(database)
                let printed = run.lines.map(\.number)
                #expect(Set(printed).count == printed.count, "a number was handed out twice; \(context)")
                #expect(allNumbers.isDisjoint(with: printed), "a number repeated across kills; \(context)")
                #expect(printed.min()! > previousMaximum, "numbers went backwards after a kill; \(context)")
                for line in run.lines {
                    let number = TicketNumber(line.number)
                    let stored = try await store.ticket(number)
                    #expect(stored?.ticket.state == .new && stored?.version == 1, "\(number) missing; \(context)")
                    let events = try await store.events(of: number)
                    #expect(events.first?.kind == .created && events.count == 1, "\(number) events; \(context)")
                    let pages = try await store.pages(of: number)
                    #expect(pages.count == line.pages && pages.allSatisfy(\.isPending) && line.pages >= 1,
                            "\(number) pages; \(context)")
                    checked += 1
                }
                // Every ticket in the store has its event and pages too,
                // printed or not (a commit may land just before the kill).
                let maximum = try #require(try await store.recentTickets(limit: 1).first?.number.rawValue)
                #expect(maximum >= printed.max()!)
                allNumbers.formUnion(printed)
                previousMaximum = maximum
                await store.close()
            }
            #expect(checked >= Self.kills * 10)
            print("crash test (\(kind.rawValue)): \(Self.kills) SIGKILLs, \(checked) printed numbers checked, "
                + "highest number \(previousMaximum), seed \(seed)")
            let store = try kind.open(database)
            let open = try await store.openTickets()
            #expect(Set(open.map(\.number.rawValue)).isSuperset(of: allNumbers))
            #expect(try await store.pendingPages(dueBy: .distantFuture, limit: Int.max).count >= allNumbers.count)
            await store.close()
        }
    }

    struct ChildRun {
        var lines: [(number: Int64, pages: Int)]
        var killedBySignal: Bool
        var diagnostics: String
    }

    /// Starts the child, reads its lines until `killAfterLines` arrived,
    /// sends SIGKILL, and reads what was still in the pipe.
    static func runChild(_ executable: URL, database: String, errorFile: String, threads: Int,
                         killAfterLines: Int) throws -> ChildRun {
        let process = Process()
        process.executableURL = executable
        process.arguments = [database, String(threads)]
        let output = Pipe()
        process.standardOutput = output
        guard FileManager.default.createFile(atPath: errorFile, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: errorFile])
        }
        let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: errorFile))
        process.standardError = errors
        try process.run()
        let pid = process.processIdentifier
        // A safety net, not a timer under test: a child that hangs is
        // killed so the test fails instead of waiting forever.
        let watchdog = DispatchWorkItem { _ = Glibc.kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 20, execute: watchdog)

        var buffer: [UInt8] = []
        var lines: [(Int64, Int)] = []
        var killed = false
        let descriptor = output.fileHandleForReading.fileDescriptor
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            if !killed && lines.count >= killAfterLines {
                _ = Glibc.kill(pid, SIGKILL)
                killed = true
            }
            // read(2) returns what the pipe holds now (at least one byte),
            // so the kill comes right after the chosen line.
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            buffer.append(contentsOf: chunk[..<count])
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                let fields = line.split(separator: " ")
                if fields.count == 2, let number = Int64(fields[0]), let pages = Int(fields[1]) {
                    lines.append((number, pages))
                }
            }
        }
        process.waitUntilExit()
        watchdog.cancel()
        try errors.close()
        let stderr = (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: errorFile)
        let bySignal = process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
        return ChildRun(lines: lines, killedBySignal: bySignal,
                        diagnostics: "threads \(threads), \(lines.count) lines (kill after \(killAfterLines)), "
                            + "exit \(process.terminationReason == .exit ? "status" : "signal") "
                            + "\(process.terminationStatus), stderr: \(stderr)")
    }
}

