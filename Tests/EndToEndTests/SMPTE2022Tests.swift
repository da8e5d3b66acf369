import Foundation
import RillTestSupport
import Testing

/// SMPTE 2022-1 FEC and 2022-7 merge against independent peers, in a network namespace where
/// iptables drops packets on the media port only (`statistic --mode nth`: a fixed pattern, so the
/// loss is the same on every run and within what the code can repair). Each test runs a receiver
/// with and without the protection on the same multicast stream: the unprotected one must show
/// the loss (or the test proves nothing), the protected one must not.
@Suite("SMPTE 2022-1 FEC and 2022-7 against FFmpeg and GStreamer", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct SMPTE2022Tests {
    /// CC errors tshark finds in a TS file.
    static func ccDrops(_ file: String) throws -> Int {
        let r = try runProcess(["tshark", "-r", file, "-Y", "mp2t.cc.drop"], timeout: 120)
        return r.stdout.split(separator: "\n").count
    }

    /// Runs `arguments` with every signal unblocked: children of Foundation's Process inherit a
    /// blocked signal mask, so gst-launch would never see the SIGINT that makes it finish its file.
    static func unblocked(_ arguments: [String]) -> [String] {
        [
            "python3", "-c",
            "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execvp(sys.argv[1], sys.argv[1:])",
        ]
            + arguments
    }

    static func stats(_ dir: String, instance: String) -> [String: Any] {
        let path = "\(dir)/run/\(instance)/stats/recv.json"
        return (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))) as? [String: Any]
            ?? [:]
    }

    /// Whether every instance's statistics were rewritten (once a second) after `date`, within 5 s.
    static func statsRewritten(_ dir: String, instances: [String], after date: Date) -> Bool {
        waitFor(timeout: 5) {
            instances.allSatisfy { modificationDate("\(dir)/run/\($0)/stats/recv.json").map { $0 > date } ?? false }
        }
    }

    /// A gateway box relaying `input` to UDP, recorded as received by srt-live-transmit.
    static func gateway(_ ns: NetworkNamespace, dir: String, instance: String, input: String, port: Int) throws -> (
        BoxUnderTest, PeerProcess
    ) {
        let recorder = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "udp://:\(port)", "file://con"]), output: "\(dir)/\(instance).ts")
        let box = try BoxUnderTest(
            config: """
                { "system": { "instance": "\(instance)", "runDirectory": "\(dir)/run" },
                  "source": { "type": "gateway", "url": "\(input)" },
                  "outputs": [ { "id": "out", "url": "udp://127.0.0.1:\(port)" } ],
                  "api": { "enabled": false } }
                """, namespace: ns, label: instance)
        return (box, recorder)
    }

    @Test(
        "FFmpeg -f rtp_mpegts -fec prompeg=l=8:d=4, 1 packet in 37 dropped on the media port: our input recovers all (0 CC errors); without FEC it cannot"
    )
    func ffmpegIntoOurInput() throws {
        let ns = try NetworkNamespace("fecin")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("fecin")
        try ns.run([
            "iptables", "-A", "INPUT", "-p", "udp", "--dport", "5300", "-m", "statistic", "--mode", "nth", "--every",
            "37", "--packet", "0", "-j", "DROP",
        ])
        let (fecBox, fecRec) = try Self.gateway(
            ns, dir: dir, instance: "withfec", input: "rtp://239.255.43.2:5300?fec=2022-1&cols=8&rows=4", port: 5400)
        let (plainBox, plainRec) = try Self.gateway(
            ns, dir: dir, instance: "nofec", input: "rtp://239.255.43.2:5300", port: 5500)
        #expect(
            waitFor(timeout: 10) { fecBox.log.contains("RTP input on") && plainBox.log.contains("RTP input on") },
            "\(fecBox.log)")
        let sender = try runProcess(
            ns.command([
                "ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t",
                "12",
                "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-f", "rtp_mpegts", "-fec", "prompeg=l=8:d=4",
                "rtp://239.255.43.2:5300?pkt_size=1316",
            ]), timeout: 60)
        #expect(sender.status == 0, "ffmpeg: \(sender.stderr.suffix(500))")
        // Statistics written after the last packet was received and every FEC matrix closed.
        #expect(Self.statsRewritten(dir, instances: ["withfec", "nofec"], after: Date().addingTimeInterval(0.3)))
        let withFEC = Self.stats(dir, instance: "withfec")
        let without = Self.stats(dir, instance: "nofec")
        fecBox.stop()
        plainBox.stop()
        fecRec.stop()
        plainRec.stop()
        // Both inputs sit behind the same drop rule: each of its drops must be rebuilt by one and
        // counted lost by the other (the README's figure is 70 drops in this 12 s run).
        let dropped = try ns.droppedPackets(port: 5300)
        #expect(
            dropped >= 60, "iptables dropped only \(dropped) media packets: the impairment did not happen as planned")
        let recovered = withFEC["recovered"] as? Int ?? 0
        // A drop among the stream's last packets has no later packet to reveal it (at most one, 1 in 37).
        // On a loaded machine the kernel may also drop datagrams for a full socket buffer (counted in
        // the namespace's RcvbufErrors); FEC rebuilds those too, so they may add to the recovered.
        let bufferDrops = try ns.udpReceiveBufferErrors()
        #expect(
            recovered <= dropped + bufferDrops && recovered >= dropped - 1,
            "recovered \(recovered) of \(dropped) dropped (+ \(bufferDrops) receive-buffer drops): \(withFEC)")
        #expect(withFEC["lost"] as? Int == 0, "\(withFEC)")
        #expect(try Self.ccDrops("\(dir)/withfec.ts") == 0)
        let lost = without["lost"] as? Int ?? 0
        #expect(
            lost <= dropped + bufferDrops && lost >= dropped - 1,
            "without FEC all \(dropped) drops must show as lost (+ \(bufferDrops) receive-buffer drops): \(without)")
        #expect(try Self.ccDrops("\(dir)/nofec.ts") > 0)
        print("FFmpeg prompeg 8×4 → Rill input, 1/37 dropped: recovered \(recovered), lost 0; without FEC lost \(lost)")
    }

    @Test(
        "our FEC output (8×4 level B), 1 packet in 37 dropped: GStreamer rtpst2022-1-fecdec recovers all (0 CC errors); GStreamer without the decoder does not"
    )
    func ourOutputIntoGStreamer() throws {
        let ns = try NetworkNamespace("fecout")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("fecout")
        try ns.run([
            "iptables", "-A", "INPUT", "-p", "udp", "--dport", "5300", "-m", "statistic", "--mode", "nth", "--every",
            "37", "--packet", "0", "-j", "DROP",
        ])
        let box = try BoxUnderTest(
            config: testConfig(
                instance: ns.name, fps: 25, videoBitrate: 2_000_000, keyint: 25,
                outputs: #"{ "id": "fec", "url": "rtp://239.255.43.1:5300?fec=2022-1&cols=8&rows=4" }"#,
                runDirectory: "\(dir)/run"),
            namespace: ns, label: "fecout")
        defer { box.stop() }
        #expect(waitFor(timeout: 10) { box.log.contains("FEC 2022-1 8×4 level B") }, "\(box.log)")
        let media = "application/x-rtp,media=video,clock-rate=90000,encoding-name=MP2T,payload=33"
        let fec = "application/x-rtp,payload=96"
        let src = { (port: Int) in ["udpsrc", "address=239.255.43.1", "port=\(port)"] }
        let withDecoder = try PeerProcess(
            ns.command(
                Self.unblocked([
                    "timeout", "-s", "INT", "12", "gst-launch-1.0", "-e", "rtpst2022-1-fecdec", "name=dec",
                    "size-time=1000000000",
                ])
                    + src(5300) + ["caps=\(media)", "!", "dec.sink"] + src(5302) + ["caps=\(fec)", "!", "dec.fec_0"]
                    + src(5304) + ["caps=\(fec)", "!", "dec.fec_1"]
                    + [
                        "dec.src", "!", "rtpjitterbuffer", "latency=300", "!", "rtpmp2tdepay", "!", "filesink",
                        "location=\(dir)/gst-fec.ts",
                    ]),
            output: "\(dir)/gst-fec.log")
        let plain = try PeerProcess(
            ns.command(
                Self.unblocked(["timeout", "-s", "INT", "12", "gst-launch-1.0", "-e"]) + src(5300)
                    + [
                        "caps=\(media)", "!", "rtpjitterbuffer", "latency=300", "!", "rtpmp2tdepay", "!", "filesink",
                        "location=\(dir)/gst-plain.ts",
                    ]),
            output: "\(dir)/gst-plain.log")
        withDecoder.process.waitUntilExit()
        plain.process.waitUntilExit()
        let fecSize = (try? FileManager.default.attributesOfItem(atPath: "\(dir)/gst-fec.ts")[.size] as? Int) ?? 0
        #expect(fecSize > 300_000, "GStreamer wrote \(fecSize) bytes")
        let repaired = try Self.ccDrops("\(dir)/gst-fec.ts")
        let broken = try Self.ccDrops("\(dir)/gst-plain.ts")
        #expect(repaired == 0, "CC errors after rtpst2022-1-fecdec: \(repaired)")
        #expect(broken > 10, "without the decoder the loss must show: \(broken) CC errors")
        print(
            "Rill FEC 8×4 → GStreamer rtpst2022-1-fecdec, 1/37 dropped: \(repaired) CC errors; without the decoder \(broken)"
        )
    }

    @Test(
        "2022-7: GStreamer sends one RTP stream to two groups, even packets dropped on one path and odd on the other: the merged input has 0 CC errors"
    )
    func merge() throws {
        let ns = try NetworkNamespace("dup")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("dup")
        for (port, first) in [(5600, "0"), (5700, "1")] {
            try ns.run([
                "iptables", "-A", "INPUT", "-p", "udp", "--dport", "\(port)", "-m", "statistic", "--mode", "nth",
                "--every", "2", "--packet", first, "-j", "DROP",
            ])
        }
        let (merged, rec) = try Self.gateway(
            ns, dir: dir, instance: "merged", input: "rtp://239.255.44.1:5600?dup=239.255.44.2:5700&latency=100",
            port: 5800)
        let (single, singleRec) = try Self.gateway(
            ns, dir: dir, instance: "single", input: "rtp://239.255.44.1:5600", port: 5900)
        #expect(
            waitFor(timeout: 10) { merged.log.contains("2022-7 merge") && single.log.contains("RTP input on") },
            "\(merged.log)")
        // GStreamer's tee hands the very same RTP packets (one sequence space) to both paths,
        // paced in real time by the TS's own PCR (tsparse timestamps, udpsink sync).
        let ts = "\(dir)/source.ts"
        let make = try runProcess(
            [
                "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t", "10", "-c:v",
                "libx264",
                "-preset", "ultrafast", "-g", "25", "-b:v", "2M", "-f", "mpegts", ts,
            ], timeout: 60)
        #expect(make.status == 0, "\(make.stderr)")
        let sender = try runProcess(
            ns.command([
                "gst-launch-1.0", "-q", "filesrc", "location=\(ts)", "!", "tsparse", "set-timestamps=true",
                "alignment=7", "!",
                "rtpmp2tpay", "!", "tee", "name=t", "t.", "!", "queue", "!", "udpsink", "host=239.255.44.1",
                "port=5600",
                "auto-multicast=true", "sync=true", "t.", "!", "queue", "!", "udpsink", "host=239.255.44.2",
                "port=5700",
                "auto-multicast=true", "sync=true",
            ]), timeout: 60)
        #expect(sender.status == 0, "gst: \(sender.stderr.suffix(500))")
        // Statistics written after the last packet left the merge's 100 ms hold.
        #expect(Self.statsRewritten(dir, instances: ["merged", "single"], after: Date().addingTimeInterval(0.3)))
        let m = Self.stats(dir, instance: "merged")
        let s = Self.stats(dir, instance: "single")
        merged.stop()
        single.stop()
        rec.stop()
        singleRec.stop()
        #expect(m["lost"] as? Int == 0 && (m["received"] as? Int ?? 0) > 500, "\(m)")
        #expect(try Self.ccDrops("\(dir)/merged.ts") == 0)
        #expect((s["lost"] as? Int ?? 0) > 200, "one path alone must miss half: \(s)")
        print("2022-7 merge of two half-dropped paths: \(m)")
    }

    @Test("our 2022-7 output: both destinations carry the same sequence numbers, FEC on each path (tshark)")
    func duplicateOutput() throws {
        let ns = try NetworkNamespace("dupout")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("dupout")
        let box = try BoxUnderTest(
            config: testConfig(
                instance: ns.name, fps: 25, videoBitrate: 1_000_000, keyint: 25,
                outputs:
                    #"{ "id": "dup", "url": "rtp://239.255.45.1:6000?dup=239.255.45.2:6100&fec=2022-1&cols=5&rows=5&level=A" }"#,
                runDirectory: "\(dir)/run"),
            namespace: ns, label: "dupout")
        defer { box.stop() }
        #expect(waitFor(timeout: 10) { box.log.contains("239.255.45.2:6100") }, "\(box.log)")
        let pcap = "\(dir)/both.pcap"
        let cap = try ns.run(["tshark", "-q", "-i", "lo", "-f", "udp", "-a", "duration:4", "-w", pcap], timeout: 40)
        #expect(cap.status == 0)
        func seqs(_ port: Int) throws -> [Int] {
            let r = try runProcess(
                [
                    "tshark", "-r", pcap, "-d", "udp.port==\(port),rtp", "-Y", "udp.dstport==\(port)", "-T", "fields",
                    "-e", "rtp.seq",
                ], timeout: 60)
            return r.stdout.split(separator: "\n").compactMap { Int($0) }
        }
        let a = try seqs(6000)
        let b = try seqs(6100)
        #expect(a.count > 100, "\(a.count) packets on path A")
        let common = Set(a).intersection(b)
        #expect(
            Double(common.count) >= Double(a.count) * 0.95,
            "\(common.count) of \(a.count) sequence numbers on both paths")
        #expect(try seqs(6002).count > 10 && seqs(6102).count > 10, "column FEC on both paths")
        #expect(try seqs(6004).isEmpty, "level A sends no row FEC")
    }
}
