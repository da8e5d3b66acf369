import Box
import Config
import Foundation
import MediaTime
import RillTestSupport
import Testing

/// The supervisor's rules, on made-up clocks (no process, no sleep).
@Suite("Supervisor policy")
struct RestartPolicyTests {
    static let ms = MediaTime.millisecond
    static let s = MediaTime.nanosecondsPerSecond

    @Test("backoff doubles from 0.25 s to 8 s and stays there; each restart is due that long after the exit")
    func backoff() {
        var p = RestartPolicy()
        var now: Int64 = 1_000 * Self.s
        var delays: [Int64] = []
        for _ in 0..<9 {
            let started = now
            now += 100 * Self.ms  // a short run
            guard case .restart(let at, let delay) = p.exited(startedAt: started, now: now) else {
                Issue.record("gave up after \(delays.count) short runs")
                return
            }
            #expect(at == now + delay)
            delays.append(delay)
            now = at
        }
        #expect(delays == [250, 500, 1000, 2000, 4000, 8000, 8000, 8000, 8000].map { $0 * Self.ms })
    }

    @Test("gives up at the 10th short run in a row, not before; a failed start counts as one")
    func giveUp() {
        var p = RestartPolicy()
        var decisions: [RestartPolicy.Decision] = []
        var now: Int64 = 0
        for i in 0..<10 {
            let d = i == 0 ? p.failed(now: now) : p.exited(startedAt: now, now: now + Self.s)
            decisions.append(d)
            now += 10 * Self.s
        }
        #expect(decisions.prefix(9).allSatisfy { $0 != .giveUp })
        #expect(decisions.last == .giveUp)
        #expect(p.failuresInARow == 10)
        // A config change (or an API start) gives it a fresh start.
        p.reset()
        #expect(p.failed(now: now) == .restart(at: now + 250 * Self.ms, delay: 250 * Self.ms))
    }

    @Test("a run of 30 s resets the backoff and the count; 29.9 s does not")
    func stableRun() {
        var p = RestartPolicy()
        for _ in 0..<5 { _ = p.failed(now: 0) }
        #expect(p.backoff == 8 * Self.s && p.failuresInARow == 5)
        #expect(
            p.exited(startedAt: 0, now: 29_900 * Self.ms)
                == .restart(at: 29_900 * Self.ms + 8 * Self.s, delay: 8 * Self.s))
        #expect(p.failuresInARow == 6)
        #expect(
            p.exited(startedAt: 100 * Self.s, now: 130 * Self.s)
                == .restart(at: 130 * Self.s + 250 * Self.ms, delay: 250 * Self.ms))
        #expect(p.failuresInARow == 1)
    }

    @Test(
        "heartbeat: hung when silent more than 3 s, never in the first 5 s after the start",
        arguments: [
            // (since start ms, silent ms, hung)
            (10_000, 2_900, false), (10_000, 3_000, false), (10_000, 3_100, true), (10_000, 60_000, true),
            (4_900, 4_900, false), (5_100, 5_100, true),
        ])
    func heartbeat(sinceStart: Int64, silent: Int64, hung: Bool) {
        let now: Int64 = 500 * Self.s
        let started = now - sinceStart * Self.ms
        #expect(RestartPolicy.isHung(now: now, startedAt: started, lastHeartbeat: now - silent * Self.ms) == hung)
    }

    @Test("restartRequired only for system and api changes; outputs hot-apply and name the stages")
    func restartRequired() throws {
        let dir = makeTemporaryDirectory("restart-required")
        try """
        { "system": { "instance": "rr-\(getpid())", "runDirectory": "\(dir)/run" },
          "outputs": [ { "id": "a", "url": "udp://127.0.0.1:5999" } ] }
        """.write(toFile: "\(dir)/rill.json", atomically: true, encoding: .utf8)
        let store = try ConfigStore(mainFile: "\(dir)/rill.json", directory: "\(dir)/conf.d")
        let box = try BoxController(store: store, executable: "/bin/true", runDirectory: "\(dir)/run")
        box.submit(box.plan(store.config))

        let outputs = try box.change([
            ("outputs", try JSONParser.parse(#"[ { "id": "a", "url": "udp://127.0.0.1:5998" } ]"#))
        ])
        #expect(
            outputs.sections == ["outputs"] && !outputs.restartRequired && outputs.stages == ["send-a"], "\(outputs)")
        let api = try box.change([("api", try JSONParser.parse(#"{ "port": 8099 }"#))])
        #expect(api.sections == ["api"] && api.restartRequired && api.stages.isEmpty, "\(api)")
        let system = try box.change([
            ("system", try JSONParser.parse(#"{ "instance": "rr-other", "runDirectory": "\#(dir)/run" }"#))
        ])
        #expect(system.sections == ["system"] && system.restartRequired, "\(system)")
        let same = try box.change([
            ("outputs", try JSONParser.parse(#"[ { "id": "a", "url": "udp://127.0.0.1:5998" } ]"#))
        ])
        #expect(same.sections.isEmpty && !same.restartRequired)
    }
}
