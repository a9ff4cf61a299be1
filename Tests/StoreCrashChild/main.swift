// The child process of the store's crash test (StoreTests/CrashTests.swift).
//
// Usage: StoreCrashChild DATABASE [THREADS]
//
// Opens the store at DATABASE and creates tickets in a loop on THREADS
// threads (default 1), each with one or two pages. After each commit it
// writes one line `NUMBER PAGES` to standard output with a single write(2),
// so a line is either whole in the pipe or not there at all. It never
// stops by itself: the test kills it with SIGKILL at a random moment and
// then checks that every number it printed is in the database.
import Core
import Desk
import Foundation
import Glibc
import Store

enum CrashChild {
    static func main() -> Never {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2 else {
            FileHandle.standardError.write(Data("usage: StoreCrashChild DATABASE [THREADS]\n".utf8))
            exit(2)
        }
        let threadCount = arguments.count >= 3 ? max(1, Int(arguments[2]) ?? 1) : 1
        let store: SQLiteStore
        do {
            store = try SQLiteStore(path: arguments[1], logger: .disabled)
        } catch {
            fail(error)
        }
        for thread in 1..<threadCount {
            Thread { createForever(store, thread: thread) }.start()
        }
        createForever(store, thread: 0)
    }

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

    static func createForever(_ store: SQLiteStore, thread: Int) -> Never {
        var index = 0
        while true {
            index += 1
            let now = Date()
            let contact = ChatIdentity(network: "libera", nick: "crash\(thread)", account: "crash\(thread)")
            let ticket = NewTicket(
                createdAt: now, createdBy: .customer(contact.description), customerNumber: "10042",
                customerName: "Crash Test GmbH", contact: contact, group: .contract, tier: "enterprise",
                severity: .critical, summary: "crash test \(thread)/\(index)",
                description: "Ticket \(index) of thread \(thread), written until SIGKILL.", language: "en")
            var pages = [PageDraft(step: 0, network: "libera", target: "oncall", text: "P1 crash test",
                                   createdAt: now)]
            if index % 2 == 0 {
                pages.append(PageDraft(step: 0, network: "libera", target: "#agents",
                                       text: "oncall: P1 crash test", createdAt: now))
            }
            do {
                let commit = try store.createTicket(ticket, pages: pages)
                report("\(commit.number.rawValue) \(commit.pages.count)\n")
            } catch {
                fail(error)
            }
        }
    }
}

CrashChild.main()
