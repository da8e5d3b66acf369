import Foundation
import RillTestSupport
import Testing

/// SMPTE 2022-7 with path skew: GStreamer sends one RTP stream (one sequence space) to both
/// inputs of a `dup=` gateway, the second copy through the impairment relay (Tests/tools/impair.py)
/// 50 ms later, and iptables drops 5 % of the first path at random. The README's claim: the input
/// holds a gap for `latency=` ms of skew. Within it the late copy fills every drop; beyond it each
/// drop is given up (counted lost, its copy counted late) and the stream goes on.
@Suite("SMPTE 2022-7 merge with 50 ms path skew", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct SMPTE2022SkewTests {
    static let direct = 5600
    static let delayed = 5700
    static let relay = 5650
    static let skewMs = 50

    struct Outcome {
        var stats: [String: Any]
        var dropped: Int
        var relayed: [String: Int]
        var ccDrops: Int
        var frames: Int
        /// Median of (arrival on the delayed path − arrival on the direct path) per sequence number, ms.
        var measuredSkewMs: Double
    }

    /// Runs the merge with `latency` ms and returns what the peers and the box report.
    static func merge(latency: Int, label: String) throws -> Outcome {
        let ns = try NetworkNamespace(label)
        defer { ns.close() }
        let dir = makeTemporaryDirectory(label)
        let source = try RISTPeers.sourceTS(dir, seconds: 10)
        try ns.run([
            "iptables", "-A", "INPUT", "-p", "udp", "--dport", "\(direct)", "-m", "statistic", "--mode", "random",
            "--probability", "0.05", "-j", "DROP",
        ])
        let counters = "\(dir)/relay-counters.json"
        let impair = try PeerProcess(
            ns.command([
                "python3", packageRoot() + "/Tests/tools/impair.py", "\(relay)", "\(delayed)", "\(skewMs)", "0",
                counters,
            ]),
            output: "\(dir)/relay.json")
        defer { impair.stop(SIGKILL) }
        #expect(waitFor(timeout: 10) { portListening(relay, .udp, in: ns) }, "the relay is not listening")
        let (box, rec) = try SMPTE2022Tests.gateway(
            ns, dir: dir, instance: "merged",
            input: "rtp://127.0.0.1:\(direct)?dup=127.0.0.1:\(delayed)&latency=\(latency)", port: 5800)
        defer {
            box.stop()
            rec.stop(SIGKILL)
        }
        #expect(
            waitFor(timeout: 15) { box.log.contains("2022-7 merge") && portListening(5800, .udp, in: ns) },
            "\(box.log.suffix(600))")
        let pcap = "\(dir)/paths.pcap"
        let capture = try PeerProcess(
            ns.command([
                "sh", "-c", "exec \"$@\" 2>&1", "sh", "tshark", "-i", "lo", "-f",
                "udp dst port \(direct) or udp dst port \(delayed)", "-w", pcap,
            ]),
            output: "\(dir)/tshark.log")
        defer { capture.stop(SIGKILL) }
        #expect(
            waitFor(timeout: 15) { RISTPeers.log(dir, "tshark").contains("Capturing on") }, "tshark did not start")
        // GStreamer's tee hands the very same RTP packets to both paths, paced by the TS's PCR.
        let sender = try runProcess(
            ns.command([
                "gst-launch-1.0", "-q", "filesrc", "location=\(source)", "!", "tsparse", "set-timestamps=true",
                "alignment=7", "!", "rtpmp2tpay", "!", "tee", "name=t", "t.", "!", "queue", "!", "udpsink",
                "host=127.0.0.1", "port=\(direct)", "sync=true", "t.", "!", "queue", "!", "udpsink", "host=127.0.0.1",
                "port=\(relay)", "sync=true",
            ]), timeout: 60)
        #expect(sender.status == 0, "gst: \(sender.stderr.suffix(500))")
        // Statistics written after the last delayed copy and the merge's hold.
        #expect(
            SMPTE2022Tests.statsRewritten(
                dir, instances: ["merged"], after: Date().addingTimeInterval(0.3 + Double(latency) / 1000)))
        let stats = SMPTE2022Tests.stats(dir, instance: "merged")
        box.stop()
        rec.stop()
        capture.stop()
        impair.stop()
        let relayed =
            (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: counters))))
            as? [String: Int] ?? [:]
        return Outcome(
            stats: stats, dropped: try ns.droppedPackets(port: direct), relayed: relayed,
            ccDrops: try SMPTE2022Tests.ccDrops(rec.output), frames: try ffprobeDecodedVideoFrames(rec.output).count,
            measuredSkewMs: try skew(pcap))
    }

    /// Median arrival difference delayed − direct per RTP sequence number in `pcap`, ms.
    static func skew(_ pcap: String) throws -> Double {
        let r = try runProcess(
            [
                "tshark", "-r", pcap, "-d", "udp.port==\(direct),rtp", "-d", "udp.port==\(delayed),rtp", "-T", "fields",
                "-e", "frame.time_epoch", "-e", "udp.dstport", "-e", "rtp.seq",
            ], timeout: 120)
        var first: [Int: Double] = [:]
        var differences: [Double] = []
        for line in r.stdout.split(separator: "\n") {
            let f = line.split(separator: "\t")
            guard f.count == 3, let t = Double(f[0]), let port = Int(f[1]), let seq = Int(f[2]) else { continue }
            if port == direct {
                first[seq] = t
            } else if let d = first[seq] {
                differences.append((t - d) * 1000)
            }
        }
        guard !differences.isEmpty else { return 0 }
        return differences.sorted()[differences.count / 2]
    }

    @Test(
        "latency=150 over 50 ms skew, 5 % random drops on the leading path: drops proven, the late copy fills every one (0 CC errors)"
    )
    func skewWithinLatency() throws {
        let o = try Self.merge(latency: 150, label: "skewok")
        // First the impairment: drops on the leading path, the second path delayed and complete.
        try #require(o.dropped >= 30, "iptables dropped only \(o.dropped) packets on the leading path")
        #expect((o.relayed["forward"] ?? 0) > 1000, "the delayed path carried \(o.relayed)")
        #expect(o.measuredSkewMs >= 45 && o.measuredSkewMs < 100, "measured skew \(o.measuredSkewMs) ms")
        // Then the claim.
        #expect(o.stats["lost"] as? Int == 0, "\(o.stats)")
        #expect(o.stats["ccErrors"] as? Int == 0, "\(o.stats)")
        #expect(o.ccDrops == 0, "\(o.ccDrops) CC errors in the relayed TS")
        #expect(o.frames >= 200, "\(o.frames) frames decoded")
        print(
            "2022-7, skew \(o.measuredSkewMs) ms, latency 150 ms: \(o.dropped) dropped on the leading path, lost \(o.stats["lost"] ?? "?"), CC errors \(o.ccDrops)"
        )
    }

    @Test("latency=20 under 50 ms skew: each drop is given up (lost ≈ dropped, its copy late), the stream goes on")
    func skewBeyondLatency() throws {
        let o = try Self.merge(latency: 20, label: "skewlate")
        try #require(o.dropped >= 30, "iptables dropped only \(o.dropped) packets on the leading path")
        #expect(o.measuredSkewMs >= 45 && o.measuredSkewMs < 100, "measured skew \(o.measuredSkewMs) ms")
        let lost = o.stats["lost"] as? Int ?? -1
        let late = o.stats["late"] as? Int ?? -1
        // A drop is given up 20 ms after the next packet came, 30 ms before its copy arrives; a
        // busy machine may release a little late and let a copy in, hence the 10 % margin.
        #expect(
            lost <= o.dropped && lost >= o.dropped - o.dropped / 10, "lost \(lost) of \(o.dropped) dropped: \(o.stats)")
        // Every copy from the delayed path came after its place was released (given up or sent
        // from the leading path): counted late, none relayed twice.
        let copies = o.relayed["forward"] ?? 0
        #expect(late >= copies - 5 && late <= copies, "late \(late) of \(copies) delayed copies: \(o.stats)")
        #expect(o.ccDrops > 0, "a gap given up must show in the relayed TS")
        #expect(o.frames >= 200, "\(o.frames) frames decoded: the stream must go on")
        print(
            "2022-7, skew \(o.measuredSkewMs) ms, latency 20 ms: \(o.dropped) dropped, lost \(lost), late \(late), CC errors \(o.ccDrops)"
        )
    }
}
