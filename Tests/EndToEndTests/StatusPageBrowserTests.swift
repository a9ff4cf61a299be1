import Foundation
import Glibc
import Testing
import TestSupport

/// The status page in a real browser (issue 13): Debian's Chromium, headless,
/// against the `switchboard` process on a real ngircd. The browser is
/// installed when missing, never skipped.
@Suite(.serialized) struct StatusPageBrowserTests {
    /// Walks a contract customer to a ticket of `severity`; returns its number.
    func openTicket(_ customer: IRCTestClient, number: String, pin: String, problem: String, severity: Int) async throws -> Int {
        customer.privmsg("switchboard", "Hello, customer number \(number). \(problem)")
        _ = try await customer.expectMessage(from: "switchboard", containing: "PIN")
        customer.privmsg("switchboard", pin)
        let question = try await customer.expect("KB suggestions or the severity question") {
            $0.nick == "switchboard" && ($0.text.contains("Does one of them solve") || $0.text.contains("How serious"))
        }
        if question.text.contains("Does one of them solve") {
            customer.privmsg("switchboard", "no")
            _ = try await customer.expectMessage(from: "switchboard", containing: "How serious")
        }
        customer.privmsg("switchboard", String(severity))
        let saved = try await customer.expectMessage(from: "switchboard", containing: "is saved")
        let match = try #require(saved.text.firstMatch(of: /#(\d+)/), "no ticket number in \(saved.text)")
        return try #require(Int(match.1))
    }

    /// The `<tr>` of ticket `number` in a dumped DOM.
    func row(_ number: Int, in dom: String) -> String? {
        guard let start = dom.range(of: "<tr data-ticket=\"\(number)\"") else { return nil }
        guard let end = dom.range(of: "</tr>", range: start.upperBound..<dom.endIndex) else { return nil }
        return String(dom[start.lowerBound..<end.upperBound])
    }

    @Test func aNewP1TicketAppearsWithItsSLACountdownAtTheNextRefreshAndHostileTextStaysText() async throws {
        try await NgircdServer.with { server in
            let gateway = try await GatewayProcess.start(network: .init(port: server.port))
            do {
                // The browser loads the page before the ticket exists; its
                // script's first refresh (10 s of the browser's virtual
                // time) is held by the proxy until the ticket is created.
                let proxy = try HoldingProxy(upstream: gateway.httpPort, hold: "/live")
                defer { proxy.close() }
                let browser = Task {
                    try await Chromium.dumpDOM("http://127.0.0.1:\(proxy.port)/", virtualTime: .seconds(12))
                }
                try await proxy.waitUntilHeld(timeout: .seconds(60))
                #expect(proxy.paths.prefix(1) == ["/"], "the page was loaded first: \(proxy.paths)")

                let customer = try await IRCTestClient(port: server.port, nick: "werft")
                let number = try await openTicket(customer, number: "20001", pin: "4711",
                                            problem: "Our VPN to the shipyard is down", severity: 1)
                proxy.release()
                let dom = try await browser.value
                #expect(dom.contains("data-refreshes=\"1\""), "the live part was swapped in by the script, once")
                let ticketRow = try #require(row(number, in: dom), "the refreshed page lists #\(number): \(dom.suffix(3000))")
                #expect(ticketRow.contains(">P1<"), "\(ticketRow)")
                #expect(ticketRow.contains("Kieler Werft AG"))
                #expect(ticketRow.firstMatch(of: /class="sla sla-ok"[^>]*>1[45]m left</) != nil,
                        "the SLA countdown of an enterprise P1 (15 minutes): \(ticketRow)")
                #expect(dom.contains("<strong>Anna Berg</strong>"), "who is on duty")
                #expect(dom.contains("<strong>e2e</strong>: connected"), "the running gateway's network")

                // A customer's description with markup: shown as text, nothing runs.
                let hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> "
                    + "<img src=y onerror=\"document.title='pwned'\">"
                let other = try await IRCTestClient(port: server.port, nick: "hafen")
                let evil = try await openTicket(other, number: "20002", pin: "2468", problem: "The portal shows " + hostile,
                                          severity: 2)
                for path in ["/", "/tickets/\(evil)"] {
                    let page = try await Chromium.dumpDOM("http://127.0.0.1:\(gateway.httpPort)\(path)",
                                                          virtualTime: .seconds(2))
                    #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"),
                            "\(path) shows the text: \(page.suffix(4000))")
                    #expect(page.components(separatedBy: "<script").count == 2, "\(path): only the page's own script")
                    #expect(!page.contains("<img"), "\(path): no image element from the text")
                    #expect(!page.contains("<title>pwned"), "\(path): no handler ran")
                }
                let screenshot = gateway.directory + "/status.png"
                try await Chromium.screenshot("http://127.0.0.1:\(gateway.httpPort)/", to: screenshot)
                let size = (try FileManager.default.attributesOfItem(atPath: screenshot)[.size] as? NSNumber)?.intValue ?? 0
                #expect(size > 10_000, "a screenshot of the page was taken (\(size) bytes)")
                await gateway.stop()
            } catch {
                print("--- gateway output ---\n\(gateway.output.suffix(6000))")
                await gateway.stop()
                throw error
            }
        }
    }

    /// Issue 13 item 4: the HTTP endpoint's bounds keep misbehaving web
    /// clients away from the chat side. 200 idle connections (32 are held,
    /// the rest refused with 503), a slow-loris client trickling a header
    /// line every 300 ms, and a 20 KB header, while a contract customer's
    /// ticket is created and paged: the page still reaches the agent within
    /// a second, and the status page answers again once the idle
    /// connections' request timeout (5 s) has cut them off.
    @Test func idleSlowAndOversizedHTTPClientsDoNotDelayAPage() async throws {
        try await NgircdServer.with { server in
            let gateway = try await GatewayProcess.start(network: .init(port: server.port))
            var idle: [Int32] = []
            defer { for fd in idle { close(fd) } }
            do {
                let port = gateway.httpPort
                let anna = try await IRCTestClient(port: server.port, nick: "anna")
                try await anna.join("#agents")

                // On a thread of its own: its pace must not depend on the test
                // process's cooperative pool, which other suites' work can
                // keep busy while the whole suite runs.
                let loris = Task.detached {
                    try await offload {
                        let fd = try LoopbackSocket.connect(port: port, timeout: 20)
                        defer { close(fd) }
                        try LoopbackSocket.write(fd, Array("GET / HTTP/1.1\r\nHost: x\r\n".utf8))
                        for index in 0..<40 {
                            usleep(300_000)
                            guard (try? LoopbackSocket.write(fd, Array("X-Slow-\(index): y\r\n".utf8))) != nil else {
                                return index  // the server closed it
                            }
                        }
                        return 40
                    }
                }
                try await Task.sleep(for: .milliseconds(200))  // the slow client holds a slot first
                let flooded = ContinuousClock.now
                // Connecting waits when the server's accept queue is full: not on the pool.
                idle = try await offload {
                    var opened: [Int32] = []
                    do {
                        for _ in 0..<200 { opened.append(try LoopbackSocket.connect(port: port, timeout: 20)) }
                    } catch {
                        for fd in opened { close(fd) }
                        throw error
                    }
                    return opened
                }
                // Beyond the 32 held connections, a new client is told at once.
                let refusedStart = ContinuousClock.now
                let refused = try await RawHTTPResponse.exchange(port: port, "GET", "/healthz")
                let refusedAfter = refusedStart.duration(to: .now)
                #expect(refused.status == 503, "\(refused.head)")

                let customer = try await IRCTestClient(port: server.port, nick: "werft")
                customer.privmsg("switchboard", "Hello, customer number 20001. Our VPN to the shipyard is down")
                _ = try await customer.expectMessage(from: "switchboard", containing: "PIN")
                customer.privmsg("switchboard", "4711")
                let question = try await customer.expect("question") {
                    $0.nick == "switchboard" && ($0.text.contains("Does one of them solve") || $0.text.contains("How serious"))
                }
                if question.text.contains("Does one of them solve") {
                    customer.privmsg("switchboard", "no")
                    _ = try await customer.expectMessage(from: "switchboard", containing: "How serious")
                }
                let sent = ContinuousClock.now
                customer.privmsg("switchboard", "1")
                let page = try await anna.expect("the page by private message") {
                    $0.command == "PRIVMSG" && $0.nick == "switchboard" && $0.params.first == "anna"
                }
                let pageLatency = sent.duration(to: page.receivedAt)
                #expect(pageLatency < .seconds(1), "the agent is paged within a second while the HTTP side is flooded")

                // The idle connections are cut at the request timeout; then the page answers.
                var status = 0
                var recovered = Duration.zero
                while flooded.duration(to: .now) < .seconds(20) {
                    status = (try? await RawHTTPResponse.exchange(port: port, "GET", "/live"))?.status ?? 0
                    if status == 200 {
                        recovered = flooded.duration(to: .now)
                        break
                    }
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(status == 200, "the status page answers again after the idle connections were cut")
                var big = RawHTTPResponse.placeholder(status: 503)
                for _ in 0..<50 where big.status == 503 {  // the last idle connections are being cut
                    big = try await RawHTTPResponse.exchange(port: port, "GET", "/",
                                                       headers: ["X-Filler: " + String(repeating: "a", count: 20_000)])
                    if big.status == 503 { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(big.status == 431, "\(big.head)")
                let lorisLines = try await loris.value
                #expect(lorisLines < 40, "the slow-loris client was cut off at the request timeout (after \(lorisLines) header lines)")
                #expect(lorisLines >= 10, "it was served until its deadline, not refused at once")
                print("HTTP abuse: 503 for the 201st connection after \(refusedAfter); page latency \(pageLatency); "
                      + "status page answering again \(recovered) after the flood; slow-loris cut after \(lorisLines) lines")
                await gateway.stop()
            } catch {
                print("--- gateway output ---\n\(gateway.output.suffix(6000))")
                await gateway.stop()
                throw error
            }
        }
    }

    @Test func withATokenAWrongOneGets401AndTheRightOneAnHttpOnlySession() async throws {
        try await NgircdServer.with { server in
            let token = "e2e-\(UUID().uuidString)"
            let gateway = try await GatewayProcess.start(network: .init(port: server.port), httpToken: token)
            do {
                let port = gateway.httpPort
                let csp = "default-src 'none'; script-src 'self'"
                let none = try await RawHTTPResponse.exchange(port: port, "GET", "/")
                #expect(none.status == 401 && none.body.contains("name=\"token\""), "the login form: \(none.head)")
                let wrong = try await RawHTTPResponse.exchange(port: port, "GET", "/", headers: ["Authorization: Bearer nope"])
                #expect(wrong.status == 401)
                #expect(try await RawHTTPResponse.exchange(port: port, "GET", "/metrics",
                                                     headers: ["Authorization: Bearer \(token)x"]).status == 401)
                let right = try await RawHTTPResponse.exchange(port: port, "GET", "/", headers: ["Authorization: Bearer \(token)"])
                #expect(right.status == 200 && right.body.contains("id=\"live\""))
                #expect(right.header("Content-Security-Policy")?.hasPrefix(csp) == true, "\(right.head)")
                #expect(right.header("X-Content-Type-Options") == "nosniff")
                #expect(!right.body.contains(token), "the token never appears")

                let failed = try await RawHTTPResponse.exchange(port: port, "POST", "/login",
                    headers: ["Content-Type: application/x-www-form-urlencoded"], body: "token=guess")
                #expect(failed.status == 401 && failed.header("Set-Cookie") == nil)
                let login = try await RawHTTPResponse.exchange(port: port, "POST", "/login",
                    headers: ["Content-Type: application/x-www-form-urlencoded"],
                    body: "token=" + (token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token))
                #expect(login.status == 303 && login.header("Location") == "/")
                let cookie = try #require(login.header("Set-Cookie"))
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "\(cookie)")
                #expect(!cookie.contains(token), "the cookie holds a session, not the token")
                let session = String(cookie.prefix { $0 != ";" })
                let withCookie = try await RawHTTPResponse.exchange(port: port, "GET", "/live", headers: ["Cookie: \(session)"])
                #expect(withCookie.status == 200 && withCookie.body.contains("No open tickets."))
                #expect(try await RawHTTPResponse.exchange(port: port, "GET", "/live",
                                                     headers: ["Cookie: switchboard_session=forged"]).status == 401)

                // The browser without a session sees the login form, and no data.
                let dom = try await Chromium.dumpDOM("http://127.0.0.1:\(port)/")
                #expect(dom.contains("<form method=\"post\" action=\"/login\"") && !dom.contains("id=\"live\""))
                await gateway.stop()
            } catch {
                print("--- gateway output ---\n\(gateway.output.suffix(6000))")
                await gateway.stop()
                throw error
            }
        }
    }
}
