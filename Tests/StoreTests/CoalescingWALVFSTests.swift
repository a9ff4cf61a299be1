import Desk
import Foundation
import StoreCore
import Testing

@testable import Store

/// Issue 12: a commit's WAL frames reach the file in one write
/// (`CoalescingWALVFS`) — and nothing else changes: every other connection
/// sees each commit as soon as it returns, whatever `synchronous` says, and
/// big transactions, rollbacks and spills leave the same database as before.
@Suite struct CoalescingWALVFSTests {
    /// A table whose rows span several pages, so each commit writes many frames.
    private func makeTable(_ db: SQLiteConnection, synchronous: String) throws {
        try db.execute("PRAGMA page_size = 1024")
        _ = try db.queryFirst("PRAGMA journal_mode = WAL") { try $0.text(0) }
        try db.execute(SQL(portable: "PRAGMA synchronous = " + synchronous))
        try db.execute("""
            CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, tag TEXT NOT NULL);
            CREATE INDEX notes_tag ON notes (tag, id);
            """)
    }

    private func body(_ index: Int, length: Int = 3000) -> String {
        String(repeating: "note \(index) ", count: length / 8)
    }

    /// With `synchronous = OFF` no sync ends a commit: the buffered frames
    /// must reach the file when the commit frame is complete, before other
    /// connections can learn of them from the shared index.
    @Test(arguments: ["FULL", "OFF"])
    func eachCommitIsOneWriteAndAnotherConnectionSeesItAtOnce(_ synchronous: String) throws {
        try withTemporaryDirectory { dir in
            let writer = try SQLiteConnection(path: dir.storePath)
            defer { writer.close() }
            try makeTable(writer, synchronous: synchronous)
            let reader = try SQLiteConnection(path: dir.storePath)
            defer { reader.close() }
            let before = try #require(writer.walWriteStatistics)
            for index in 1...40 {
                try writer.transaction {
                    try writer.run("INSERT INTO notes (body, tag) VALUES (?, ?)",
                                   [.text(body(index)), .text("t\(index % 7)")])
                }
                let seen = try reader.queryFirst("SELECT COUNT(*), MAX(id), SUM(length(body)) FROM notes") {
                    (try $0.int(0), try $0.int(1), try $0.int(2))
                }
                #expect(seen?.0 == index && seen?.1 == index)
                #expect(seen?.2 == (1...index).reduce(0) { $0 + body($1).utf8.count })
            }
            let after = try #require(writer.walWriteStatistics)
            let requested = after.requested - before.requested
            let written = after.written - before.written
            // Each commit changes ≥ 4 pages here (table leaf + overflow pages,
            // index): ≥ 8 writes asked for, one made.
            #expect(requested >= 40 * 8)
            #expect(written == 40)
            #expect(try reader.queryFirst("PRAGMA integrity_check") { try $0.text(0) } == "ok")
        }
    }

    /// A transaction bigger than the buffer and than the page cache spills
    /// frames before its commit and reads them back; rolled back, its frames
    /// are overwritten by the next transaction's. Both end as they would
    /// without the buffer.
    @Test func bigTransactionsSpillsAndRollbacksLeaveTheSameDatabase() throws {
        try withTemporaryDirectory { dir in
            let writer = try SQLiteConnection(path: dir.storePath)
            defer { writer.close() }
            try makeTable(writer, synchronous: "FULL")
            try writer.execute("PRAGMA cache_size = 16")
            struct Undo: Error {}
            #expect(throws: Undo.self) {
                try writer.transaction {
                    for index in 1...300 {
                        try writer.run("INSERT INTO notes (body, tag) VALUES (?, ?)",
                                       [.text(body(index)), .text("rolled back")])
                    }
                    throw Undo()
                }
            }
            try writer.transaction {
                for index in 1...300 {
                    try writer.run("INSERT INTO notes (body, tag) VALUES (?, ?)",
                                   [.text(body(index, length: 2000)), .text("t\(index % 5)")])
                }
                // Read back while the transaction's frames are partly in the WAL.
                let inside = try writer.queryFirst("SELECT COUNT(*) FROM notes WHERE tag = 't3'") { try $0.int(0) }
                #expect(inside == 60)
            }
            let statistics = try #require(writer.walWriteStatistics)
            #expect(statistics.written > 1 && statistics.written < statistics.requested / 4)
            writer.close()

            let reader = try SQLiteConnection(path: dir.storePath)
            defer { reader.close() }
            #expect(try reader.queryFirst("PRAGMA integrity_check") { try $0.text(0) } == "ok")
            let rows = try reader.queryFirst("SELECT COUNT(*), SUM(length(body)), COUNT(DISTINCT tag) FROM notes") {
                (try $0.int(0), try $0.int(1), try $0.int(2))
            }
            #expect(rows?.0 == 300)
            #expect(rows?.1 == (1...300).reduce(0) { $0 + body($1, length: 2000).utf8.count })
            #expect(rows?.2 == 5)
        }
    }

    /// The WAL's size in bytes.
    private func walSize(_ path: String) throws -> Int {
        try #require((try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? NSNumber)?.intValue)
    }

    /// Copies the database and its WAL while the writer is open (what a
    /// power cut leaves, without the shared-memory index) and opens the copy.
    private func copyAsAfterAPowerCut(_ dir: TemporaryDirectory) throws -> SQLiteConnection {
        let copy = dir.path("copy-\(UUID().uuidString).sqlite")
        try FileManager.default.copyItem(atPath: dir.storePath, toPath: copy)
        try FileManager.default.copyItem(atPath: dir.storePath + "-wal", toPath: copy + "-wal")
        return try SQLiteConnection(path: copy)
    }

    /// The WAL is kept a 1 MiB step of zeros ahead of its writer, and the
    /// zeros are written off the commit path: commits that cross the end of
    /// the file return while the zeros' thread is held (they do not wait
    /// for it), and the step follows once it goes on. A copy of the files
    /// (a power cut) recovers every commit and stops at the zeros.
    @Test func theWALGrowsAheadOfTheCommitsInStepsOfZerosAndRecoveryStopsAtThem() throws {
        try withTemporaryDirectory { dir in
            let writer = try SQLiteConnection(path: dir.storePath)
            defer { writer.close() }
            try makeTable(writer, synchronous: "FULL")
            try writer.execute("PRAGMA wal_autocheckpoint = 0")
            WALGrower.waitUntilIdle()
            let step = CoalescingWALVFS.extensionSize
            let before = try walSize(dir.storePath)
            let release = WALGrower.hold()
            var index = 0
            // Past the end of the file as it was: the commits alone made it grow.
            while try walSize(dir.storePath) <= before {
                index += 1
                try writer.transaction {
                    try writer.run("INSERT INTO notes (body, tag) VALUES (?, ?)",
                                   [.text(body(index, length: 20_000)), .text("t\(index % 7)")])
                }
            }
            let written = try walSize(dir.storePath)
            #expect(written % step != 0, "the commits wrote \(written) bytes, no zeros")
            release.signal()
            WALGrower.waitUntilIdle()
            let grown = try walSize(dir.storePath)
            #expect(grown % step == 0 && grown > written, "WAL of \(grown) bytes after \(written)")
            #expect(try #require(writer.walWriteStatistics).extensions >= 1)

            let recovered = try copyAsAfterAPowerCut(dir)
            defer { recovered.close() }
            #expect(try recovered.queryFirst("SELECT COUNT(*), SUM(length(body)) FROM notes") {
                (try $0.int(0), try $0.int(1))
            }.map { [$0.0, $0.1] } == [index, (1...index).reduce(0) { $0 + body($1, length: 20_000).utf8.count }])
            #expect(try recovered.queryFirst("PRAGMA integrity_check") { try $0.text(0) } == "ok")
        }
    }

    /// Zeros appended while big commits go on (several steps of the WAL,
    /// the zeros' thread racing the writer) never overwrite a frame: the
    /// writer's own reader and a copy of the files after a power cut both
    /// find every row.
    @Test func zerosWrittenWhileCommitsGoOnOverwriteNothing() throws {
        try withTemporaryDirectory { dir in
            let writer = try SQLiteConnection(path: dir.storePath)
            defer { writer.close() }
            try makeTable(writer, synchronous: "FULL")
            try writer.execute("PRAGMA wal_autocheckpoint = 0")
            let count = 80
            for index in 1...count {
                try writer.transaction {
                    try writer.run("INSERT INTO notes (body, tag) VALUES (?, ?)",
                                   [.text(body(index, length: 60_000)), .text("t\(index % 7)")])
                }
            }
            #expect(try walSize(dir.storePath) > 4 * CoalescingWALVFS.extensionSize)
            let expected = [count, (1...count).reduce(0) { $0 + body($1, length: 60_000).utf8.count }]
            let reader = try SQLiteConnection(path: dir.storePath)
            defer { reader.close() }
            #expect(try reader.queryFirst("SELECT COUNT(*), SUM(length(body)) FROM notes") {
                (try $0.int(0), try $0.int(1))
            }.map { [$0.0, $0.1] } == expected)
            WALGrower.waitUntilIdle()
            let recovered = try copyAsAfterAPowerCut(dir)
            defer { recovered.close() }
            #expect(try recovered.queryFirst("SELECT COUNT(*), SUM(length(body)) FROM notes") {
                (try $0.int(0), try $0.int(1))
            }.map { [$0.0, $0.1] } == expected)
            #expect(try recovered.queryFirst("PRAGMA integrity_check") { try $0.text(0) } == "ok")
        }
    }

    /// The store's own commits: a ticket (13 frames, ~26 writes asked for)
    /// is one write to the WAL, and reopening finds every ticket.
    @Test func aTicketCommitIsOneWALWrite() throws {
        try withTemporaryDirectory { dir in
            let db = try SQLiteConnection(path: dir.storePath)
            try db.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON")
            try Schema.migrate(db, now: monday, logger: .disabled)
            try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            // The first commit after a checkpoint also writes the WAL's header.
            _ = try db.transaction { try db.insertTicket(newTicket(0), claim: nil, makePages: { _ in firstPages() }) }
            let before = try #require(db.walWriteStatistics)
            var numbers: [TicketNumber] = []
            for index in 1...50 {
                numbers.append(try db.transaction {
                    try db.insertTicket(newTicket(index), claim: nil, makePages: { _ in firstPages() })
                }.number)
            }
            let after = try #require(db.walWriteStatistics)
            #expect(after.written - before.written == 50)
            #expect(after.requested - before.requested >= 50 * 10)
            db.close()
            let store = try openStore(dir.storePath)
            for (index, number) in numbers.enumerated() {
                #expect(try store.ticket(number)?.ticket.summary == "VPN down (\(index + 1))")
            }
            store.close()
        }
    }
}
