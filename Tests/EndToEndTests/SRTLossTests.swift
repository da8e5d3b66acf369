import Foundation
import RillTestSupport
import Testing

/// SRT under loss, between our caller and srt-live-transmit. This kernel has no netem, so:
/// iptables `statistic --mode random` in a network namespace (loopback RTT), and a small UDP
/// impairment relay (`Tests/tools/impair.py`) that adds delay as well, for latency = 4 × RTT.
@Suite("SRT under loss", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct SRTLossTests {
    @Test("5 % random loss both ways on loopback (iptables), 60 s: loss proven, then 0 CC errors")
    func randomLoss() throws {
        let seconds = Double(ProcessInfo.processInfo.environment["RILL_SRT_LOSS_SECONDS"] ?? "60") ?? 60
        let ns = try NetworkNamespace("srtloss")
        defer { ns.close() }
        let port = 9300
        for rule in [["--dport", "\(port)"], ["--sport", "\(port)"]] {
            let r = try ns.run(
                ["iptables", "-A", "INPUT", "-p", "udp"] + rule + [
                    "-m", "statistic", "--mode", "random", "--probability", "0.05", "-j", "DROP",
                ])
            #expect(r.status == 0, "iptables: \(r.stderr)")
        }
        let dir = makeTemporaryDirectory("srtloss")
        // Loopback RTT is well under 1 ms, but the receiver's first periodic NAK may come 300 ms
        // after a loss: our URL names no latency, so Rill's default (SRTSocket.defaultLatencyMs,
        // 400 ms) applies and wins the negotiation against the receiver's 120 ms.
        let config = testConfig(
            instance: ns.name, width: 640, height: 360, fps: 25, videoBitrate: 2_000_000, keyint: 25,
            outputs: "{ \"id\": \"srt\", \"url\": \"srt://127.0.0.1:\(port)\" }", runDirectory: "\(dir)/run")
        let b = try BoxUnderTest(config: config, namespace: ns, label: "srtloss")
        defer { b.stop() }
        let out = "\(dir)/received.ts"
        let receiver = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "srt://:\(port)?latency=120", "file://con"]), output: out)
        #expect(waitFor(timeout: 15) { receiver.bytes > 100_000 }, "\(b.log.suffix(600))")
        Thread.sleep(forTimeInterval: seconds)
        let peer = try outputStatus(configPath: b.configPath).peers.first ?? [:]
        receiver.stop()
        let rules = try ns.run(["iptables", "-L", "INPUT", "-v", "-x", "-n"])
        // First prove the impairment: both rules dropped datagrams, and SRT retransmitted.
        let drops = rules.stdout.split(separator: "\n").filter { $0.contains("DROP") }.map {
            Int($0.split(separator: " ").first ?? "") ?? 0
        }
        try #require(drops.count == 2 && drops.allSatisfy { $0 > 0 }, "iptables dropped nothing: \(rules.stdout)")
        let sent = peer["packetsSent"] as? Int ?? 0
        let retransmitted = peer["packetsRetransmitted"] as? Int ?? 0
        try #require(retransmitted > 0, "no retransmissions under 5 % loss? \(peer)")
        #expect(peer["latencyMs"] as? Int == 400, "negotiated latency: \(peer)")
        // Then the claim. With 120 ms a packet lost at connection start whose NAK or retransmission
        // was lost too waited ~300 ms for the first periodic NAK and was dropped (the CC error once
        // seen here, 35 ms into the file).
        let cc = try runProcess(["tshark", "-r", out, "-Y", "mp2t.cc.drop"], timeout: 120)
        #expect(cc.stdout.split(separator: "\n").isEmpty, "CC drops: \(cc.stdout.prefix(300))")
        let frames = try ffprobeDecodedVideoFrames(out)
        #expect(Double(frames.count) >= (seconds - 2) * 25, "\(frames.count) frames decoded")
        let overhead = sent > retransmitted ? Double(retransmitted) / Double(sent - retransmitted) * 100 : 0
        print(
            "SRT 5 % loss both ways, \(Int(seconds)) s: iptables dropped \(drops), \(sent) packets sent, \(retransmitted) retransmitted (overhead \(String(format: "%.1f", overhead)) %), RTT \(peer["rttMs"] ?? "?") ms"
        )
    }

    /// The relay drops nothing in the connection's first 3 s: with latency 160 ms a packet lost in
    /// the first second whose NAK or retransmission is lost too waits for libsrt's first periodic
    /// NAK (up to 300 ms, see SRTSocket.defaultLatencyMs) and is dropped; the CI run that saw it
    /// lost 3 TS packets 0.1–0.2 s into the file. Start-up under loss is the first test's case,
    /// with Rill's 400 ms default; this one claims steady-state recovery at 4 × RTT.
    @Test(
        "5 % random loss both ways through a 20 ms + 20 ms relay after a 3 s clean start, latency = 4 × RTT: loss proven, then 0 CC errors"
    )
    func lossWithDelay() throws {
        let seconds = Double(ProcessInfo.processInfo.environment["RILL_SRT_LOSS_SECONDS"] ?? "60") ?? 60
        let ns = try NetworkNamespace("srtrelay")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("srtrelay")
        let rtt = 40  // ms: 20 ms each way through the relay
        let counters = "\(dir)/relay-counters.json"
        let relay = try PeerProcess(
            ns.command([
                "python3", packageRoot() + "/Tests/tools/impair.py", "9320", "9321", "20", "0.05", counters, "3",
            ]),
            output: "\(dir)/relay.json")
        defer { relay.stop(SIGKILL) }
        let config = testConfig(
            instance: ns.name, width: 640, height: 360, fps: 25, videoBitrate: 2_000_000, keyint: 25,
            outputs: "{ \"id\": \"srt\", \"url\": \"srt://127.0.0.1:9320?latency=\(4 * rtt)\" }",
            runDirectory: "\(dir)/run")
        let b = try BoxUnderTest(config: config, namespace: ns, label: "srtrelay")
        defer { b.stop() }
        let out = "\(dir)/received.ts"
        let receiver = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "srt://:9321?latency=\(4 * rtt)", "file://con"]), output: out)
        #expect(waitFor(timeout: 20) { receiver.bytes > 100_000 }, "\(b.log.suffix(600))")
        Thread.sleep(forTimeInterval: seconds)  // the measurement window
        let peer = try outputStatus(configPath: b.configPath).peers.first ?? [:]
        receiver.stop()
        relay.stop(SIGTERM)
        // First prove the impairment: the relay dropped datagrams both ways and SRT retransmitted.
        let relayed =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: counters))) as? [String: Int]
            ?? [:]
        let forwardDropped = relayed["forwardDropped"] ?? 0
        let reverseDropped = relayed["reverseDropped"] ?? 0
        let forward = relayed["forward"] ?? 0
        try #require(forwardDropped > 0 && reverseDropped > 0, "the relay dropped nothing: \(relayed)")
        let dropRate = Double(forwardDropped) / Double(max(1, forward + forwardDropped))
        #expect(dropRate > 0.03 && dropRate < 0.07, "forward drop rate \(dropRate), asked for 0.05: \(relayed)")
        let sent = peer["packetsSent"] as? Int ?? 0
        let retransmitted = peer["packetsRetransmitted"] as? Int ?? 0
        try #require(retransmitted > 0, "no retransmissions although the relay dropped \(forwardDropped): \(peer)")
        let measuredRTT = peer["rttMs"] as? Double ?? 0
        #expect(measuredRTT >= 30, "RTT through the relay \(measuredRTT) ms")
        // Then the claim: every loss was recovered.
        let cc = try runProcess(["tshark", "-r", out, "-Y", "mp2t.cc.drop"], timeout: 120)
        #expect(cc.stdout.split(separator: "\n").isEmpty, "CC drops: \(cc.stdout.prefix(300))")
        let frames = try ffprobeDecodedVideoFrames(out)
        #expect(Double(frames.count) >= (seconds - 2) * 25, "\(frames.count) frames decoded")
        let overhead = sent > retransmitted ? Double(retransmitted) / Double(sent - retransmitted) * 100 : 0
        print(
            "SRT 5 % loss both ways, RTT \(measuredRTT) ms, latency \(4 * rtt) ms, \(Int(seconds)) s: relay dropped \(forwardDropped) forward / \(reverseDropped) reverse, \(sent) packets sent, \(retransmitted) retransmitted (overhead \(String(format: "%.1f", overhead)) %)"
        )
    }
}
