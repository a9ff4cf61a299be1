import Foundation
import Glibc
import Testing
import TestSupport

/// The status page in a real browser (issue 13): Debian's Chromium, headless,
/// against the `switchboard` process on a real ngircd. The browser is
/// installed when missing, never skipped.
@Suite(.serialized) struct StatusPageBrowserTests {
    /// Walks a contract customer to a ticket of `severity`; returns its number.
    func openTicket(_ customer: IRCTestClient, number: String, pin: String, problem: String, severity: Int) throws -> Int {
        customer.privmsg("switchboard", "Hello, customer number \(number). \(problem)")
        _ = try customer.expectMessage(from: "switchboard", containing: "PIN")
        customer.privmsg("switchboard", pin)
        let question = try customer.expect("KB suggestions or the severity question") {
            $0.nick == "switchboard" && ($0.text.contains("Does one of them solve") || $0.text.contains("How serious"))
        }
        if question.text.contains("Does one of them solve") {
            customer.privmsg("switchboard", "no")
            _ = try customer.expectMessage(from: "switchboard", containing: "How serious")
        }
        customer.privmsg("switchboard", String(severity))
        let saved = try customer.expectMessage(from: "switchboard", containing: "is saved")
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

                let customer = try IRCTestClient(port: server.port, nick: "werft")
                let number = try openTicket(customer, number: "20001", pin: "4711",
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

                // A customer's description with markup: shown as text, nothing runs.
                let hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> "
                    + "<img src=y onerror=\"document.title='pwned'\">"
                let other = try IRCTestClient(port: server.port, nick: "hafen")
                let evil = try openTicket(other, number: "20002", pin: "2468", problem: "The portal shows " + hostile,
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

    @Test func withATokenAWrongOneGets401AndTheRightOneAnHttpOnlySession() async throws {
        try await NgircdServer.with { server in
            let token = "e2e-\(UUID().uuidString)"
            let gateway = try await GatewayProcess.start(network: .init(port: server.port), httpToken: token)
            do {
                let port = gateway.httpPort
                let csp = "default-src 'none'; script-src 'self'"
                let none = try RawHTTPResponse.exchange(port: port, "GET", "/")
                #expect(none.status == 401 && none.body.contains("name=\"token\""), "the login form: \(none.head)")
                let wrong = try RawHTTPResponse.exchange(port: port, "GET", "/", headers: ["Authorization: Bearer nope"])
                #expect(wrong.status == 401)
                #expect(try RawHTTPResponse.exchange(port: port, "GET", "/metrics",
                                                     headers: ["Authorization: Bearer \(token)x"]).status == 401)
                let right = try RawHTTPResponse.exchange(port: port, "GET", "/", headers: ["Authorization: Bearer \(token)"])
                #expect(right.status == 200 && right.body.contains("id=\"live\""))
                #expect(right.header("Content-Security-Policy")?.hasPrefix(csp) == true, "\(right.head)")
                #expect(right.header("X-Content-Type-Options") == "nosniff")
                #expect(!right.body.contains(token), "the token never appears")

                let failed = try RawHTTPResponse.exchange(port: port, "POST", "/login",
                    headers: ["Content-Type: application/x-www-form-urlencoded"], body: "token=guess")
                #expect(failed.status == 401 && failed.header("Set-Cookie") == nil)
                let login = try RawHTTPResponse.exchange(port: port, "POST", "/login",
                    headers: ["Content-Type: application/x-www-form-urlencoded"],
                    body: "token=" + (token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token))
                #expect(login.status == 303 && login.header("Location") == "/")
                let cookie = try #require(login.header("Set-Cookie"))
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "\(cookie)")
                #expect(!cookie.contains(token), "the cookie holds a session, not the token")
                let session = String(cookie.prefix { $0 != ";" })
                let withCookie = try RawHTTPResponse.exchange(port: port, "GET", "/live", headers: ["Cookie: \(session)"])
                #expect(withCookie.status == 200 && withCookie.body.contains("No open tickets."))
                #expect(try RawHTTPResponse.exchange(port: port, "GET", "/live",
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
