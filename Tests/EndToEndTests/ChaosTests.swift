import Foundation
import RillTestSupport
import Testing

/// The chaos campaign's short variant (`Tests/chaos.py --minutes 2`): a random stage of a running box
/// is SIGKILLed every 5–20 s while tshark (RTP), srt-live-transmit (SRT listener output),
/// ristreceiver (RIST output) and a recording watch; the script decodes what they received with
/// ffprobe and reads the TS with tshark, and reports JSON that this test checks field by field.
@Suite("Chaos campaign (short)", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct ChaosTests {
    /// The campaign's limit for an outage any receiver sees, s (as the script's default).
    static let maxOutage = 1.5
    static let minutes = 2.0

    /// Runs the script; SIGTERM at `timeout` (it cleans up on SIGTERM), SIGKILL 60 s later.
    static func runChaos(minutes: Double, timeout: Double) throws -> (
        status: Int32, summary: [String: Any], stderr: String
    ) {
        let dir = makeTemporaryDirectory("chaos")
        let json = "\(dir)/summary.json"
        let errPath = "\(dir)/chaos.err"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [
            "python3", "\(packageRoot())/Tests/chaos.py", "--minutes", String(minutes), "--rill", rillBinary(),
            "--json", json,
        ]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle(forWritingAtPath: errPath)!
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let pid = p.processIdentifier
        var status: Int32 = 0
        var reaped = false
        // Reaped by us, or (ECHILD) by Foundation's own child monitoring first.
        let finished = waitFor(timeout: timeout, interval: 0.5) {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { reaped = true }
            return r == pid || (r < 0 && errno == ECHILD)
        }
        let code: Int32
        if !finished {
            kill(pid, SIGTERM)
            code = reap(p, killAfter: 60).status
        } else if reaped {
            code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        } else {
            _ = waitFor(timeout: 5) { !p.isRunning }
            code = p.terminationReason == .exit ? p.terminationStatus : 128 + p.terminationStatus
        }
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        let summary =
            (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json)))) as? [String: Any]
            ?? [:]
        return (code, summary, stderr)
    }

    @Test(
        "2 minutes of kill -9 on random stages: every receiver resumes within 1.5 s at an IDR, CC jumps only where flagged, the supervisor never gives up, rilld grows no fds, threads or memory, nothing left behind"
    )
    func shortCampaign() throws {
        let run = try Self.runChaos(minutes: Self.minutes, timeout: Self.minutes * 60 + 420)
        let s = run.summary
        try #require(!s.isEmpty, "no summary (exit \(run.status)): \(run.stderr.suffix(2000))")
        let failures = s["failures"] as? [String] ?? ["no failures field"]

        // The impairment happened: kills every 5–20 s, spread over the stages, each one restarted.
        let kills = s["kills"] as? Int ?? 0
        #expect(kills >= Int(Self.minutes * 60 / 20), "\(kills) kills in \(Self.minutes) min")
        let perStage = s["killsPerStage"] as? [String: Int] ?? [:]
        #expect(perStage.count >= min(kills, 8) - 1, "kills per stage: \(perStage)")
        let killList = s["killList"] as? [[String: Any]] ?? []
        #expect(killList.count == kills && killList.allSatisfy { $0["restartedAfterS"] is Double }, "\(killList)")

        let receivers = s["receivers"] as? [String: [String: Any]] ?? [:]
        for name in ["rtp", "srt", "rist"] {
            let r = receivers[name] ?? [:]
            // Each receiver saw the kills (gaps in its stream) and got pictures around them.
            #expect((r["ptsGaps"] as? Int ?? 0) >= 1, "\(name) saw no gap: the kills did not reach it")
            #expect(
                (r["pictures"] as? Int ?? 0) >= Int(Self.minutes * 60 * 25 * 0.8),
                "\(name): \(r["pictures"] ?? 0) pictures")
            let outage = r["maxOutageS"] as? Double ?? .infinity
            #expect(outage <= Self.maxOutage, "\(name): outage \(outage) s: \(r["outages"] ?? [])")
            #expect(
                r["gapsNotResumingAtKeyframe"] as? Int == 0,
                "\(name): gaps not resuming at an IDR: \(r["outages"] ?? [])")
            let cc = r["continuity"] as? [String: Any] ?? [:]
            #expect((cc["packets"] as? Int ?? 0) > 10_000, "\(name): tshark dissected \(cc["packets"] ?? 0) TS packets")
            #expect(cc["unflaggedErrors"] as? Int == 0, "\(name): CC errors without discontinuity_indicator: \(cc)")
        }
        let rec = receivers["rec"] ?? [:]
        #expect((rec["files"] as? Int ?? 0) >= 1)
        #expect(
            rec["filesNotStartingAtKeyframe"] as? Int == 0 && rec["gapsNotResumingAtKeyframe"] as? Int == 0, "\(rec)")
        #expect((rec["maxOutageS"] as? Double ?? .infinity) <= Self.maxOutage, "\(rec)")
        #expect((rec["continuity"] as? [String: Any])?["unflaggedErrors"] as? Int == 0, "\(rec)")

        #expect(
            (s["supervisorGaveUp"] as? [String] ?? ["?"]).isEmpty, "supervisor gave up: \(s["supervisorGaveUp"] ?? "")")
        let rilld = s["rilld"] as? [String: [String: Any]] ?? [:]
        for key in ["fds", "threads", "rssKiB"] {
            let t = rilld[key] ?? [:]
            #expect((t["samples"] as? Int ?? 0) >= 10 && t["grew"] as? Bool == false, "rilld \(key): \(t)")
        }
        let left = s["leftBehind"] as? [String: [String]] ?? [:]
        #expect(left["processes"]?.isEmpty == true && left["rings"]?.isEmpty == true, "left behind: \(left)")
        #expect(run.status == 0 && s["result"] as? String == "pass", "exit \(run.status): \(failures)")
    }
}
