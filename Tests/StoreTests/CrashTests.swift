import Core
import Desk
import Dispatch
import Foundation
import Glibc
import Store
import TestSupport
import Testing

/// SIGKILL at random moments: every ticket number the store handed out
/// survives, with its `created` event and its pending pages.
///
/// The child is the `StoreCrashChild` executable of this package. `swift
/// test` (and `swift build --build-tests`) builds every target of the
/// package, executables included, into the same directory as the test
/// runner, which is where this test looks for it.
@Suite struct CrashTests {
    static let kills = 24

    @Test func everyPrintedNumberSurvivesSIGKILL() throws {
        let child = URL(fileURLWithPath: try BuiltProducts.executable(named: "StoreCrashChild"))
        var random = SeededRandom(seed: UInt64.random(in: 0...UInt64.max))
        let seed = random.seed
        try withTemporaryDirectory { dir in
            var previousMaximum: Int64 = 0
            var allNumbers = Set<Int64>()
            var checked = 0
            for kill in 1...Self.kills {
                // Alternate one writer and four concurrent writers (batched commits).
                let threads = kill % 2 == 0 ? 4 : 1
                let target = Int(random.next() % 291) + 10
                let run = try Self.runChild(child, database: dir.storePath, threads: threads, killAfterLines: target)
                let context = Comment(rawValue: "kill \(kill) (seed \(seed)): \(run.diagnostics)")
                try #require(run.lines.count >= target, context)
                #expect(run.killedBySignal, context)

                let store = try openStore(dir.storePath)
                defer { store.close() }
                let printed = run.lines.map(\.number)
                #expect(Set(printed).count == printed.count, "a number was handed out twice; \(context)")
                #expect(allNumbers.isDisjoint(with: printed), "a number repeated across kills; \(context)")
                #expect(printed.min()! > previousMaximum, "numbers went backwards after a kill; \(context)")
                for line in run.lines {
                    let number = TicketNumber(line.number)
                    let stored = try store.ticket(number)
                    #expect(stored?.ticket.state == .new && stored?.version == 1, "\(number) missing; \(context)")
                    let events = try store.events(of: number)
                    #expect(events.first?.kind == .created && events.count == 1, "\(number) events; \(context)")
                    let pages = try store.pages(of: number)
                    #expect(pages.count == line.pages && pages.allSatisfy(\.isPending) && line.pages >= 1,
                            "\(number) pages; \(context)")
                    checked += 1
                }
                // Every ticket in the file has its event and pages too,
                // printed or not (a commit may land just before the kill).
                let maximum = try #require(try store.recentTickets(limit: 1).first?.number.rawValue)
                #expect(maximum >= printed.max()!)
                allNumbers.formUnion(printed)
                previousMaximum = maximum
            }
            #expect(checked >= Self.kills * 10)
            print("crash test: \(Self.kills) SIGKILLs, \(checked) printed numbers checked, "
                + "numbers 1...\(previousMaximum) in the file, seed \(seed)")
            let store = try openStore(dir.storePath)
            defer { store.close() }
            let open = try store.openTickets()
            #expect(Set(open.map(\.number.rawValue)).isSuperset(of: allNumbers))
            #expect(try store.pendingPages(dueBy: .distantFuture, limit: Int.max).count >= allNumbers.count)
        }
    }

    struct ChildRun {
        var lines: [(number: Int64, pages: Int)]
        var killedBySignal: Bool
        var diagnostics: String
    }

    /// Starts the child, reads its lines until `killAfterLines` arrived,
    /// sends SIGKILL, and reads what was still in the pipe.
    static func runChild(_ executable: URL, database: String, threads: Int, killAfterLines: Int) throws -> ChildRun {
        let process = Process()
        process.executableURL = executable
        process.arguments = [database, String(threads)]
        let output = Pipe()
        process.standardOutput = output
        let errorFile = database + ".child-stderr"
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

