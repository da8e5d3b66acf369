import Foundation
import RillTestSupport
import Testing

/// Issue 11's acceptance in a real browser: each test starts a box with an admin password in a
/// network namespace of its own, drives its page with a Python Selenium scenario
/// (`Tests/browser/*.py`) and checks the scenario's observations and the wire with Debian's tools.
@Suite("The box's page in chromium (Selenium)", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct PageBrowserTests {
    @Test(
        "security: no session ⇒ 401 on every page call; a forged cross-origin form and fetch are refused and change nothing; logout ends the cookie; CSP without inline script; 20 wrong passwords are throttled; a password change through the page ends every session; no console errors"
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
        let o = try browserScenario(
            "security.py", box: box, arguments: ["--output", "a", "--new-password", "another admin password"])

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

        // A password change through the page: errors next to their fields, then every session ends.
        #expect((o["pwShortError"] as? String ?? "").contains("at least"), "\(o["pwShortError"] ?? "")")
        #expect((o["pwWrongCurrentError"] as? String ?? "").contains("wrong"), "\(o["pwWrongCurrentError"] ?? "")")
        #expect(o["otherSessionBefore"] as? Int == 200)
        #expect(o["myCookieAfterChange"] as? Int == 401 && o["otherSessionAfter"] as? Int == 401)
        #expect(!(o["pwChangedMessage"] as? String ?? "").isEmpty)
        #expect(o["oldPasswordAfterChange"] as? Int == 401 && o["newPasswordLogin"] as? Bool == true)
        #expect((o["consoleErrors"] as? [Any])?.isEmpty == true, "\(o["consoleErrors"] ?? "")")

        // Independently of the page: the bearer token still works, the config is as before, the output runs on.
        let config = try box.curl("GET", "/api/v1/config")
        #expect(config.status == 200 && config.body == configBefore)
        let p0 = outputState(box, "a").packets
        #expect(waitFor(timeout: 5) { outputState(box, "a").state == "running" && outputState(box, "a").packets > p0 })
        print("page security: \(statuses) in \(o["wrongAttemptsSeconds"] ?? "?") s; form: \(message)")
    }

    @Test(
        "confidence: both thumbnails decode and change (FFmpeg sees two different pictures of each); meters read the −20 dBFS tone at −20 ± 1 dBFS peak, −23 ± 1 dBFS RMS; short-term loudness within 1 LU of ffmpeg's ebur128 on the programme received at the same time"
    )
    func confidence() async throws {
        let ns = try NetworkNamespace("pageconf")
        defer { ns.close() }
        let box = try APIBox(
            label: "pageconf", port: 18302, outputs: #"{ "id": "u", "url": "udp://127.0.0.1:5302" }"#, namespace: ns,
            adminPassword: pageTestPassword)
        defer { box.box.stop() }
        #expect(waitFor(timeout: 20) { outputState(box, "u").packets > 100 }, "\(box.box.log.suffix(1500))")
        let dir = box.box.directory
        // The programme as a receiver gets it, recorded while the page is watched (the last 8 s).
        let recording = "\(dir)/programme.ts"
        let recorder = Task.detached {
            try runProcess(
                ns.command([
                    "ffmpeg", "-nostdin", "-v", "error", "-i", "udp://127.0.0.1:5302", "-t", "8", "-map", "0:a", "-c",
                    "copy", "-f", "mpegts", "-y", recording,
                ]), timeout: 40)
        }
        let o = try browserScenario("confidence.py", box: box, arguments: ["--out", "\(dir)/page"])
        let recorded = try await recorder.value
        #expect(recorded.status == 0, "ffmpeg: \(recorded.stderr)")

        // Thumbnails: decoded by the browser, then by FFmpeg from what the browser showed.
        for name in ["source", "program"] {
            #expect(o["\(name)Width"] as? Int ?? 0 > 0 && o["\(name)Src"] as? String == "blob:", "\(name): \(o)")
            #expect(o["\(name)Changed"] as? Bool == true, "\(name) thumbnail did not change")
            var sums: [String] = []
            for n in 1...2 {
                let png = o["\(name)\(n == 1 ? "First" : "Second")"] as? String ?? ""
                let r = try runProcess(["ffmpeg", "-v", "error", "-i", png, "-f", "framemd5", "-"], timeout: 20)
                let line = r.stdout.split(separator: "\n").last { !$0.hasPrefix("#") }
                #expect(r.status == 0 && line != nil, "ffmpeg on \(png): \(r.stderr)")
                sums.append(line.map { String($0.split(separator: ",").last ?? "") } ?? "")
            }
            #expect(sums[0] != sums[1] && !sums[0].isEmpty, "\(name): the same picture twice \(sums)")
        }
        #expect((o["unavailable"] as? [String]) == ["false", "false"])

        // Meters as the page shows them.
        let readings = o["meters"] as? [[String: Any]] ?? []
        #expect(readings.count == 10)
        for reading in readings {
            let channels = reading["channels"] as? [String: [String: Any]] ?? [:]
            #expect(channels.count == 2, "\(reading)")
            for (n, c) in channels {
                let peak = c["peak"] as? Double ?? .nan
                let rms = c["rms"] as? Double ?? .nan
                #expect(abs(peak + 20) <= 1 && abs(rms + 23) <= 1, "channel \(n): peak \(peak), RMS \(rms) dBFS")
            }
        }
        let shortTerm = try #require(readings.last?["shortTerm"] as? Double, "\(readings.last ?? [:])")
        let momentary = try #require(readings.last?["momentary"] as? Double)

        // FFmpeg decodes the programme's AAC and measures it: its last short-term reading.
        let r128 = "\(dir)/r128.txt"
        let m = try runProcess(
            [
                "ffmpeg", "-v", "error", "-i", recording, "-af", "ebur128=metadata=1,ametadata=print:file=\(r128)",
                "-f", "null", "-",
            ], timeout: 60)
        #expect(m.status == 0, "ffmpeg ebur128: \(m.stderr)")
        let lines = (try? String(contentsOfFile: r128, encoding: .utf8))?.split(separator: "\n") ?? []
        let theirS = try #require(
            lines.filter { $0.hasPrefix("lavfi.r128.S=") }.last.flatMap { Double($0.dropFirst(13)) }, "no ebur128")
        #expect(abs(shortTerm - theirS) <= 1, "page short-term \(shortTerm) LUFS, ffmpeg \(theirS) LUFS")
        #expect((o["consoleErrors"] as? [Any])?.isEmpty == true, "\(o["consoleErrors"] ?? "")")
        print("page confidence: short-term \(shortTerm), momentary \(momentary) LUFS; ffmpeg ebur128 S \(theirS) LUFS")
    }

    @Test(
        "screenshots for the README: the page at 1600×1000 (cards in a grid) and 390×844 (one column, nothing wider than the phone), with an RTP output and an SRT listener with a client; written to Tests/screenshots/; login by keyboard alone, labels, button names, landmarks, text badges"
    )
    func screenshots() throws {
        let ns = try NetworkNamespace("pageshot")
        defer { ns.close() }
        let outputs = """
            { "id": "studio-b", "url": "rtp://127.0.0.1:5340", "sdp": "__DIR__/studio-b.sdp" },
            { "id": "contribution", "url": "srt://:5342?latency=200" },
            { "id": "archive", "url": "udp://127.0.0.1:5344" }
            """
        let box = try APIBox(
            label: "pageshot", port: 18305, outputs: outputs, namespace: ns, adminPassword: pageTestPassword)
        defer { box.box.stop() }
        #expect(waitFor(timeout: 20) { box.box.log.contains("listening on") }, "\(box.box.log.suffix(800))")
        let client = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "srt://127.0.0.1:5342?port=5343", "file://con"]),
            output: "\(box.box.directory)/client.ts")
        defer { client.stop(SIGKILL) }
        #expect(waitFor(timeout: 15) { client.bytes > 100_000 }, "\(box.box.log.suffix(800))")
        let directory = "\(packageRoot())/Tests/screenshots"
        let o = try browserScenario(
            "screenshots.py", box: box,
            arguments: ["--screenshots", directory, "--outputs", "3", "--peer", "127.0.0.1:5343"])
        for (name, width, height) in [("page-wide", 1600, 1000), ("page-phone", 390, 844)] {
            let png = "\(directory)/\(name).png"
            let streams = try ffprobeStreams(png)
            #expect(
                streams.first?.codec == "png" && streams.first?.width == width && streams.first?.height == height,
                "\(png): \(streams)")
        }
        let wide = o["wideLayout"] as? [String: Int] ?? [:]
        let phone = o["phoneLayout"] as? [String: Int] ?? [:]
        #expect(wide["inner"] == 1600 && wide["columns"] ?? 0 >= 2, "wide: \(wide)")
        #expect(phone["inner"] == 390 && phone["columns"] == 1 && phone["scroll"] ?? 999 <= 390, "phone: \(phone)")
        // Keyboard and screen reader: logged in by keys alone; every field labelled, every button
        // named, the landmarks, a live region for the connection, badges with text, not colour only.
        #expect(o["tabsToPassword"] as? Int ?? 99 < 15, "the password field not reached with Tab")
        let a11y = o["accessibility"] as? [String: Any] ?? [:]
        #expect(a11y["fields"] as? Int ?? 0 >= 10, "\(a11y)")
        #expect((a11y["unlabelled"] as? [Any])?.isEmpty == true, "fields without a label: \(a11y["unlabelled"] ?? "")")
        #expect((a11y["unnamedButtons"] as? [Any])?.isEmpty == true, "\(a11y["unnamedButtons"] ?? "")")
        #expect((a11y["missingLandmarks"] as? [Any])?.isEmpty == true, "\(a11y["missingLandmarks"] ?? "")")
        #expect(["polite", "assertive"].contains(a11y["connLive"] as? String ?? ""))
        let badges = a11y["badges"] as? [String] ?? []
        #expect(badges.count >= 7 && badges.allSatisfy { !$0.isEmpty }, "badges: \(badges)")
        #expect((o["consoleErrors"] as? [Any])?.isEmpty == true, "\(o["consoleErrors"] ?? "")")
    }
}
