import Foundation
import RillTestSupport
import Testing

/// The page through a restart of the box (issue 11 point 5: "the page keeps working through a box
/// restart (reconnects SSE, shows 'reconnecting')").
extension PageBrowserTests {
    @Test(
        "box restart: the page says reconnecting while the box is down, comes back by itself (live: the session survives the restart), its level and event streams live again"
    )
    func boxRestart() throws {
        let ns = try NetworkNamespace("pagerst")
        defer { ns.close() }
        let first = try APIBox(
            label: "pagerst", port: 18307, outputs: #"{ "id": "u", "url": "udp://127.0.0.1:5360" }"#, namespace: ns,
            adminPassword: pageTestPassword)
        defer { first.box.stop() }
        #expect(waitFor(timeout: 20) { outputState(first, "u").packets > 100 }, "\(first.box.log.suffix(1500))")
        let config = try String(contentsOfFile: first.box.configPath, encoding: .utf8)
        var second: BoxUnderTest?
        var stopped: (status: Int32, seconds: Double) = (0, 0)
        defer { second?.stop() }
        let run = try BrowserRun("restart.py", box: first)
        if run.reached("down") {
            // The page holds two Server-Sent Event streams open: a stopping box ends them, so the
            // stop is as quick and clean as with no page (it once waited for them until SIGKILL).
            stopped = first.box.stop()
            #expect(stopped.status == 0 && stopped.seconds <= 3, "SIGTERM with the page open: \(stopped)")
            #expect((try? first.curl("GET", "/health"))?.status == 0, "the API still answers after the stop")
            run.go("down")
        }
        if run.reached("up") {
            second = try BoxUnderTest(config: config, namespace: ns, label: "pagerst2")
            run.go("up")
        }
        if run.reached("tone") {
            let r = try first.curl("PATCH", "/api/v1/config/source", body: #"{ "audio": { "level": -30 } }"#)
            #expect(r.status == 200, "PATCH the tone: \(r)")
            run.go("tone")
        }
        let o = run.finish()
        #expect((o["live"] as? [String])?.first == "live")
        let down = o["down"] as? [String] ?? []
        #expect(down.first == "reconnecting" && down.last?.contains("reconnecting") == true, "header: \(down)")
        // rilld saves its sessions (SessionStore), so the page is live again without a login.
        #expect(o["back"] as? String == "live", "the page came back as \(o["back"] ?? "nothing")")
        #expect((o["liveAgain"] as? [String])?.first == "live")
        #expect((o["peakAfterTone"] as? String ?? "").hasPrefix("-30"), "\(o["peakAfterTone"] ?? "")")
        #expect(o["configEventsAfter"] as? Int ?? 0 > o["configEventsBefore"] as? Int ?? 0)
        #expect((o["consoleErrors"] as? [Any])?.isEmpty == true, "\(o["consoleErrors"] ?? "")")
        print(
            "page restart: box stopped in \(stopped.seconds) s (status \(stopped.status)); reconnecting after \(o["downSeconds"] ?? "?") s, back (\(o["back"] ?? "?")) \(o["backSeconds"] ?? "?") s after the start"
        )
    }
}
