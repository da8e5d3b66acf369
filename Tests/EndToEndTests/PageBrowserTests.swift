import Foundation
import RillTestSupport
import Testing

/// The admin password of every browser test's box.
let pageTestPassword = "correct horse battery"

/// Runs the browser scenario `Tests/browser/<script>` (Selenium driving Debian's chromium through
/// chromedriver) with the browser venv's Python, inside the box's network namespace, against the
/// box's page; returns the JSON object the script prints as its last line (empty when it failed,
/// after recording the failure with the script's own message).
func browserScenario(
    _ script: String, box: APIBox, arguments: [String] = [], timeout: Double = 240
) throws -> [String: Any] {
    let root = packageRoot()
    let python = "\(root)/.build/browser-venv/bin/python"
    if !FileManager.default.isExecutableFile(atPath: python) {
        let setup = try runProcess(["\(root)/Tests/browser/setup.sh"], timeout: 300)
        guard setup.status == 0 else { throw TestEnvironmentError("Tests/browser/setup.sh: \(setup.stderr)") }
    }
    let command = [
        python, "\(root)/Tests/browser/\(script)", "--base", "http://127.0.0.1:\(box.port)", "--password",
        pageTestPassword,
    ]
    let r = try runProcess((box.namespace?.command([]) ?? []) + command + arguments, timeout: timeout)
    let last = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
    let json = (try? JSONSerialization.jsonObject(with: Data(last.utf8))) as? [String: Any]
    #expect(
        r.status == 0 && json != nil,
        "\(script) exited \(r.status)\(r.timedOut ? " (timed out)" : ""): \(r.stderr.suffix(1500)) \(r.stdout.suffix(500))"
    )
    return json ?? [:]
}

/// An output's (state, packets) from the status endpoint, with the box's bearer token.
func outputState(_ box: APIBox, _ id: String) -> (state: String?, packets: Int) {
    let s = try? box.json("GET", "/api/v1/status")
    let o = (s?["outputs"] as? [[String: Any]])?.first { $0["id"] as? String == id }
    return (o?["state"] as? String, o?["packets"] as? Int ?? 0)
}

/// Issue 11's acceptance in a real browser: each test starts a box with an admin password in a
/// network namespace of its own, drives its page with a Python Selenium scenario
/// (`Tests/browser/*.py`) and checks the scenario's observations and the wire with Debian's tools.
@Suite("The box's page in chromium (Selenium)", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct PageBrowserTests {
    @Test(
        "security: no session ⇒ 401 on every page call; a forged cross-origin form and fetch are refused and change nothing; logout ends the cookie; CSP without inline script; 20 wrong passwords are throttled; no console errors"
    )
    func security() throws {
        let ns = try NetworkNamespace("pagesec")
        defer { ns.close() }
        let box = try APIBox(
            label: "pagesec", port: 18301, outputs: #"{ "id": "a", "url": "udp://127.0.0.1:5301" }"#, namespace: ns,
            adminPassword: pageTestPassword)
        defer { box.box.stop() }
        #expect(waitFor(timeout: 20) { outputState(box, "a").packets > 100 }, "\(box.box.log.suffix(1500))")
        let configBefore = try box.curl("GET", "/api/v1/config").body
        let o = try browserScenario("security.py", box: box, arguments: ["--output", "a"])

        // Headers and the page's markup.
        #expect(o["pageStatus"] as? Int == 200)
        for key in ["csp", "apiCSP"] {
            let csp = o[key] as? String ?? ""
            #expect(
                csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'")
                    && !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "\(key): \(csp)")
        }
        #expect(o["xFrameOptions"] as? String == "DENY")
        #expect(o["nosniff"] as? String == "nosniff")
        #expect(o["servedInlineScripts"] as? Int == 0 && o["domInlineScripts"] as? Int == 0, "inline script")
        #expect((o["servedScripts"] as? [Any])?.isEmpty == false && o["domScripts"] as? Int ?? 0 >= 1)
        #expect((o["servedHandlers"] as? [Any])?.isEmpty == true, "\(o["servedHandlers"] ?? "")")
        #expect((o["domHandlers"] as? [Any])?.isEmpty == true, "\(o["domHandlers"] ?? "")")
        #expect(o["servedStyleAttributes"] as? Int == 0)

        // Without a session every call the page makes is refused.
        let noSession = o["noSession"] as? [String: Int] ?? [:]
        #expect(noSession.count == 17 && noSession.values.allSatisfy { $0 == 401 }, "\(noSession)")
        #expect(o["loggedIn"] as? Bool == true)
        let flags = o["cookieFlags"] as? [String: Any] ?? [:]
        #expect(flags["httpOnly"] as? Bool == true && flags["sameSite"] as? String == "Strict", "\(flags)")

        // The forged page's requests reached the box (the form's answer is the box's 403) and changed nothing.
        let formBody = o["forgedFormBody"] as? String ?? ""
        #expect(formBody.contains("403") && formBody.contains("cross-origin"), "\(formBody)")
        let fetches = o["forgedFetches"] as? [String: [String: Any]] ?? [:]
        #expect(fetches.count == 4 && fetches.values.allSatisfy { $0["sent"] as? Bool == true }, "\(fetches)")
        #expect(o["configUnchanged"] as? Bool == true)
        let before = o["outputBefore"] as? [String: Any] ?? [:]
        let after = o["outputAfterForgery"] as? [String: Any] ?? [:]
        #expect(
            after["state"] as? String == "running" && after["packets"] as? Int ?? 0 > before["packets"] as? Int ?? 0,
            "before \(before), after \(after)")
        // The same stop from the page's own origin works with the CSRF token only: the forgery aimed at a live endpoint.
        #expect(o["ownOriginNoCSRF"] as? Int == 403)
        #expect(o["ownOriginCSRF"] as? Int == 202 && o["stoppedByOwnOrigin"] as? Bool == true)
        #expect(o["restarted"] as? Int == 202)

        // Logout ends the cookie.
        #expect(o["oldCookieBeforeLogout"] as? Int == 200)
        #expect(o["oldCookieAfterLogout"] as? Int == 401 && o["oldCookieStopAfterLogout"] as? Int == 401)

        // 20 wrong passwords in a row: the first five are checked, then 429 + Retry-After.
        let attempts = o["wrongAttempts"] as? [[String: Any]] ?? []
        let statuses = attempts.map { $0["status"] as? Int ?? 0 }
        let throttled = attempts.filter { $0["status"] as? Int == 429 }
        #expect(statuses.count == 20 && statuses.prefix(5).allSatisfy { $0 == 401 }, "\(statuses)")
        #expect(throttled.count >= 10, "\(statuses)")
        #expect(throttled.allSatisfy { Int($0["retryAfter"] as? String ?? "") ?? 0 >= 1 }, "\(throttled)")
        #expect(statuses.filter { $0 == 401 }.count <= 8, "passwords checked: \(statuses)")
        #expect(statuses.allSatisfy { $0 == 401 || $0 == 429 }, "\(statuses)")
        let message = o["formThrottleMessage"] as? String ?? ""
        #expect(message.contains("try again") && message.contains(" s"), "login form: \(message)")
        #expect(o["submitDisabledWhileThrottled"] as? Bool == true)
        #expect(o["rightPasswordWhileThrottled"] as? Int == 429)
        #expect(o["rightPasswordAfterWait"] as? Int == 200)
        #expect((o["consoleErrors"] as? [Any])?.isEmpty == true, "\(o["consoleErrors"] ?? "")")

        // Independently of the page: the config is as before and the output runs on.
        #expect(try box.curl("GET", "/api/v1/config").body == configBefore)
        let p0 = outputState(box, "a").packets
        #expect(waitFor(timeout: 5) { outputState(box, "a").state == "running" && outputState(box, "a").packets > p0 })
        print("page security: \(statuses) in \(o["wrongAttemptsSeconds"] ?? "?") s; form: \(message)")
    }
}
