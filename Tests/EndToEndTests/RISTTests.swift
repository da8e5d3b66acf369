import Foundation
import RillTestSupport
import Testing

/// RIST through librist against librist's own tools (ristreceiver, ristsender) and FFmpeg's
/// rist:// protocol, in a network namespace; the loss test drops 5 % of the packets each way.
@Suite("RIST against ristreceiver, ristsender and FFmpeg", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct RISTTests {
    static func ccDrops(_ file: String) throws -> Int {
        try runProcess(["tshark", "-r", file, "-Y", "mp2t.cc.drop"], timeout: 120).stdout.split(separator: "\n").count
    }

    static func box(_ ns: NetworkNamespace, _ dir: String, output url: String) throws -> BoxUnderTest {
        try BoxUnderTest(
            config: testConfig(
                instance: "\(ns.name)-tx", fps: 25, videoBitrate: 1_500_000, keyint: 25,
                outputs: "{ \"id\": \"rist\", \"url\": \"\(url)\" }", runDirectory: "\(dir)/run"),
            namespace: ns, label: "rist-tx")
    }

    /// ristreceiver relaying `input` to UDP, recorded by srt-live-transmit; returns the TS.
    static func receive(
        _ ns: NetworkNamespace, _ dir: String, profile: Int, input: String, seconds: Double, name: String
    ) throws -> String {
        let udp = 9300 + Int.random(in: 0..<200) * 2
        let rec = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "udp://:\(udp)", "file://con"]), output: "\(dir)/\(name).ts")
        #expect(waitFor(timeout: 10) { portListening(udp, .udp, in: ns) }, "srt-live-transmit is not reading :\(udp)")
        let rx = try PeerProcess(
            ns.command([
                "sh", "-c", "exec \"$@\" 2>&1", "sh", "ristreceiver", "-p", "\(profile)", "-S", "0", "-i", input, "-o",
                "udp://127.0.0.1:\(udp)",
            ]),
            output: "\(dir)/\(name).log")
        Thread.sleep(forTimeInterval: seconds)  // the receiving window, not a wait for readiness
        rx.stop(SIGKILL)
        rec.stop()
        return "\(dir)/\(name).ts"
    }

    @Test(
        "Simple and Main (AES-256 PSK) outputs: ristreceiver relays a TS that decodes with 0 CC errors; a wrong secret gives it no stream",
        arguments: ["simple", "main"])
    func toRistreceiver(profile: String) throws {
        let ns = try NetworkNamespace("rist\(profile)")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("rist\(profile)")
        let secret = profile == "main" ? "&secret=correct-horse-42&aes-type=256" : ""
        let b = try Self.box(ns, dir, output: "rist://127.0.0.1:8000?profile=\(profile)\(secret)")
        defer { b.stop() }
        #expect(waitFor(timeout: 10) { b.log.contains("RIST \(profile) profile") }, "\(b.log)")
        let ts = try Self.receive(
            ns, dir, profile: profile == "main" ? 1 : 0, input: "rist://@127.0.0.1:8000?buffer=1000\(secret)",
            seconds: 8, name: "ok")
        let frames = try ffprobeDecodedVideoFrames(ts)
        #expect(frames.count >= 100, "\(frames.count) frames through ristreceiver")
        #expect(try Self.ccDrops(ts) == 0)
        if profile == "main" {
            let wrong = try Self.receive(
                ns, dir, profile: 1, input: "rist://@127.0.0.1:8000?secret=wrong-horse-99&aes-type=256", seconds: 5,
                name: "wrong")
            let size = (try? FileManager.default.attributesOfItem(atPath: wrong)[.size] as? Int) ?? 0
            #expect(size == 0, "a wrong secret still delivered \(size) bytes")
            let log = (try? String(contentsOfFile: "\(dir)/wrong.log", encoding: .utf8)) ?? ""
            #expect(log.contains("Malformed") || log.contains("NONCE") || log.contains("decrypt"), "\(log.suffix(600))")
        }
    }

    @Test(
        "ristsender (Main, PSK) feeds our RIST input; the relayed TS decodes; a wrong secret: no stream and a plain error in our log"
    )
    func fromRistsender() throws {
        let ns = try NetworkNamespace("ristin")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("ristin")
        let ts = "\(dir)/source.ts"
        let make = try runProcess(
            [
                "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t", "12", "-c:v",
                "libx264",
                "-preset", "ultrafast", "-g", "25", "-b:v", "1500k", "-f", "mpegts", ts,
            ], timeout: 60)
        #expect(make.status == 0)
        for (name, secret) in [("right", "correct-horse-42"), ("wrong", "wrong-horse-99")] {
            let rec = try PeerProcess(
                ns.command(["srt-live-transmit", "-q", "udp://:9100", "file://con"]), output: "\(dir)/\(name).ts")
            let gateway = try BoxUnderTest(
                config: """
                    { "system": { "instance": "\(ns.name)-\(name)", "runDirectory": "\(dir)/run" },
                      "source": { "type": "gateway", "url": "rist://@127.0.0.1:8100?secret=correct-horse-42&aes-type=128" },
                      "outputs": [ { "id": "out", "url": "udp://127.0.0.1:9100" } ],
                      "api": { "enabled": false } }
                    """, namespace: ns, label: "ristin-\(name)")
            #expect(waitFor(timeout: 10) { gateway.log.contains("RIST main profile input") }, "\(gateway.log)")
            let sender = try PeerProcess(
                ns.command([
                    "ristsender", "-p", "1", "-S", "0", "-i", "udp://127.0.0.1:9050", "-o",
                    "rist://127.0.0.1:8100?secret=\(secret)&aes-type=128",
                ]),
                output: "\(dir)/ristsender-\(name).log")
            #expect(
                waitFor(timeout: 10) { portListening(9050, .udp, in: ns) }, "ristsender is not reading udp://:9050")
            let push = try runProcess(
                ns.command([
                    "ffmpeg", "-nostdin", "-v", "error", "-re", "-i", ts, "-t", "8", "-c", "copy", "-f", "mpegts",
                    "udp://127.0.0.1:9050?pkt_size=1316",
                ]),
                timeout: 60)
            #expect(push.status == 0)
            // The relay drains (RIST buffer 1000 ms): the recording stops growing.
            #expect(waitUntilSettled(timeout: 5) { Int64(rec.bytes) }, "the relay kept growing")
            sender.stop(SIGKILL)
            gateway.stop()
            rec.stop()
            if name == "right" {
                let frames = try ffprobeDecodedVideoFrames("\(dir)/right.ts")
                #expect(frames.count >= 100, "\(frames.count) frames relayed from ristsender")
                #expect(try Self.ccDrops("\(dir)/right.ts") == 0)
            } else {
                let size = (try? FileManager.default.attributesOfItem(atPath: "\(dir)/wrong.ts")[.size] as? Int) ?? 0
                #expect(size == 0, "a wrong secret delivered \(size) bytes")
                #expect(gateway.log.contains("wrong secret"), "\(gateway.log.suffix(1500))")
            }
        }
    }

    @Test("FFmpeg's rist:// protocol reads our Main profile output")
    func ffmpegReads() throws {
        let ns = try NetworkNamespace("ristff")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("ristff")
        let b = try Self.box(ns, dir, output: "rist://127.0.0.1:8200?profile=main")
        defer { b.stop() }
        let r = try runProcess(
            ns.command([
                "ffmpeg", "-nostdin", "-v", "error", "-rist_profile", "main", "-i", "rist://@127.0.0.1:8200", "-t", "6",
                "-c", "copy", "-f", "mpegts", "-y", "\(dir)/ff.ts",
            ]),
            timeout: 60)
        #expect(r.status == 0, "\(r.stderr.suffix(500))")
        let frames = try ffprobeDecodedVideoFrames("\(dir)/ff.ts")
        #expect(frames.count >= 100, "\(frames.count) frames read by FFmpeg")
    }

    @Test(
        "5 % random loss in both directions, buffer 1000 ms: ristreceiver gets every packet back (0 CC errors); our stats show the retransmissions"
    )
    func lossBothWays() throws {
        let ns = try NetworkNamespace("ristloss")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("ristloss")
        for rule in [["--dport", "8400"], ["--sport", "8400"]] {
            try ns.run(
                ["iptables", "-A", "INPUT", "-p", "udp"] + rule + [
                    "-m", "statistic", "--mode", "random", "--probability", "0.05", "-j", "DROP",
                ])
        }
        let b = try Self.box(ns, dir, output: "rist://127.0.0.1:8400?profile=main&buffer=1000")
        defer { b.stop() }
        #expect(waitFor(timeout: 10) { b.log.contains("RIST main profile") }, "\(b.log)")
        let ts = try Self.receive(
            ns, dir, profile: 1, input: "rist://@127.0.0.1:8400?buffer=1000", seconds: 20, name: "loss")
        let frames = try ffprobeDecodedVideoFrames(ts)
        #expect(frames.count >= 300, "\(frames.count) frames")
        let drops = try Self.ccDrops(ts)
        #expect(drops == 0, "\(drops) CC errors under 5 % loss each way")
        let stats =
            (try? JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/run/\(ns.name)-tx/stats/rist.json"))))
            as? [String: Any]
        let rist = stats?["rist"] as? [String: Any] ?? [:]
        let retransmitted = rist["retransmitted"] as? Int ?? 0
        let sent = rist["sent"] as? Int ?? 0
        #expect(retransmitted > 0, "\(rist)")
        print(
            "RIST main, 5 % loss each way, buffer 1000 ms, 20 s: 0 CC errors; sender retransmitted \(retransmitted) of \(sent) packets"
        )
    }
}
