// The child process of the store's crash test (StoreTests/CrashTests.swift).
//
// Usage: StoreCrashChild DATABASE [WRITERS]
//
// Opens the store at DATABASE — an SQLite file (`SQLiteDeskStore`), or a
// `postgresql://` URL (`PostgresDeskStore`), each on its own thread —
// and creates tickets in a loop from WRITERS concurrent tasks (default 1),
// each ticket with one or two pages; with several writers the store thread
// batches their creations into shared commits. After each commit it writes
// one line `NUMBER PAGES` to standard output with a single write(2), so a
// line is either whole in the pipe or not there at all. It never stops by
// itself: the test kills it with SIGKILL at a random moment and then checks
// that every number it printed is in the database.
import Core
import Desk
import Foundation
import Glibc
import PostgresStore
import Store

enum CrashChild {
    static func fail(_ error: any Error) -> Never {
        FileHandle.standardError.write(Data("StoreCrashChild: \(error)\n".utf8))
        exit(1)
    }

    /// Writes the whole line with one write(2): standard output is a pipe
    /// and a write of fewer than PIPE_BUF bytes is atomic.
    static func report(_ line: String) {
        var bytes = Array(line.utf8)
        let written = bytes.withUnsafeMutableBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        if written != bytes.count { exit(3) }
    }

    static func createForever(_ store: any DeskStore, writer: Int) async -> Never {
        var index = 0
        while true {
            index += 1
            let now = Date()
            let contact = ChatIdentity(network: "libera", nick: "crash\(writer)", account: "crash\(writer)")
            let ticket = NewTicket(
                createdAt: now, createdBy: .customer(contact.description), customerNumber: "10042",
                customerName: "Crash Test GmbH", contact: contact, group: .contract, tier: "enterprise",
                severity: .critical, summary: "crash test \(writer)/\(index)",
                description: "Ticket \(index) of writer \(writer), written until SIGKILL.", language: "en")
            var pages = [PageDraft(step: 0, network: "libera", target: "oncall", targetKind: .direct,
                                   text: "P1 crash test", createdAt: now)]
            if index % 2 == 0 {
                pages.append(PageDraft(step: 0, network: "libera", target: "#agents", targetKind: .room,
                                       text: "oncall: P1 crash test", createdAt: now))
            }
            do {
                let commit = try await store.createTicket(ticket, pages: pages)
                report("\(commit.number.rawValue) \(commit.pages.count)\n")
            } catch {
                fail(error)
            }
        }
    }
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: StoreCrashChild DATABASE [WRITERS]\n".utf8))
    exit(2)
}
let writers = arguments.count >= 3 ? max(1, Int(arguments[2]) ?? 1) : 1
let store: any DeskStore
do {
    let database = arguments[1]
    if database.hasPrefix("postgresql://") || database.hasPrefix("postgres://") {
        store = try PostgresDeskStore(url: database, logger: .disabled)
    } else {
        store = try SQLiteDeskStore(path: database, logger: .disabled)
    }
} catch {
    CrashChild.fail(error)
}
await withTaskGroup(of: Void.self) { group in
    for writer in 0..<writers {
        group.addTask { await CrashChild.createForever(store, writer: writer) }
    }
}
