import Foundation
import RillTestSupport
import Testing

/// Gateway inputs described by SDP files: the FEC description our own output writes, and one
/// written by hand for an FFmpeg multicast; a malformed one is refused naming its line.
@Suite("SDP file inputs", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct SDPInputTests {
    @Test(
        "our output's FEC SDP: FFmpeg opens it; as a gateway input it joins the group and uses the FEC streams (1/37 dropped, 0 CC errors)"
    )
    func ownFECSDP() throws {
        let ns = try NetworkNamespace("sdpfec")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("sdpfec")
        let sender = try BoxUnderTest(
            config: testConfig(
                instance: "\(ns.name)-tx", fps: 25, videoBitrate: 1_500_000, keyint: 25,
                outputs:
                    #"{ "id": "mc", "url": "rtp://239.255.46.1:6300?fec=2022-1&cols=6&rows=6", "sdp": "\#(dir)/mc.sdp" }"#,
                runDirectory: "\(dir)/run"),
            namespace: ns, label: "sdpfec-tx")
        defer { sender.stop() }
        #expect(waitFor(timeout: 10) { FileManager.default.fileExists(atPath: "\(dir)/mc-fec.sdp") }, "\(sender.log)")
        let sdp = (try? String(contentsOfFile: "\(dir)/mc-fec.sdp", encoding: .utf8)) ?? ""
        #expect(
            sdp.contains("a=rtpmap:96 2dparityfec/90000") && sdp.contains("m=application 6302 ")
                && sdp.contains("m=application 6304 "), "\(sdp)")
        // FFmpeg reads the FEC description (the FEC lines become streams it does not decode).
        let streams = try ffprobeStreams("\(dir)/mc-fec.sdp", prefix: ns.command([]))
        #expect(streams.contains { $0.codec == "h264" }, "\(streams.map(\.codec))")
        let rec = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "udp://:6400", "file://con"]), output: "\(dir)/in.ts")
        let gateway = try BoxUnderTest(
            config: """
                { "system": { "instance": "\(ns.name)-rx", "runDirectory": "\(dir)/run" },
                  "source": { "type": "gateway", "sdp": "\(dir)/mc-fec.sdp" },
                  "outputs": [ { "id": "out", "url": "udp://127.0.0.1:6400" } ],
                  "api": { "enabled": false } }
                """, namespace: ns, label: "sdpfec-rx")
        #expect(waitFor(timeout: 10) { gateway.log.contains("FEC 2022-1 6×6 level B") }, "\(gateway.log)")
        // The loss starts once the input has been receiving for a while: a packet dropped in the
        // first matrix after it joined shares its FEC groups with packets sent before it joined,
        // which no receiver can rebuild from. So it starts after two whole 6×6 matrices.
        let statsPath = "\(dir)/run/\(ns.name)-rx/stats/recv.json"
        let received = {
            ((try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: statsPath))))
                as? [String: Any])?["received"] as? Int ?? 0
        }
        #expect(waitFor(timeout: 10, interval: 0.2) { received() > 2 * 36 }, "received \(received())")
        try ns.run([
            "iptables", "-A", "INPUT", "-p", "udp", "--dport", "6300", "-m", "statistic", "--mode", "nth", "--every",
            "37", "--packet", "0", "-j", "DROP",
        ])
        Thread.sleep(forTimeInterval: 8)  // the window the loss and its recovery are measured over
        gateway.stop()
        rec.stop()
        let stats =
            (try? JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/run/\(ns.name)-rx/stats/recv.json"))))
            as? [String: Any] ?? [:]
        #expect((stats["recovered"] as? Int ?? 0) > 10 && stats["lost"] as? Int == 0, "\(stats)")
        let cc = try runProcess(["tshark", "-r", "\(dir)/in.ts", "-Y", "mp2t.cc.drop"], timeout: 60)
        #expect(cc.stdout.split(separator: "\n").isEmpty, "CC drops: \(cc.stdout.prefix(300))")
    }

    @Test("an SDP written by hand for an FFmpeg multicast works as an input (SSM source filter)")
    func handWrittenSDP() throws {
        let ns = try NetworkNamespace("sdphand")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("sdphand")
        try ns.run(["ip", "addr", "add", "10.9.8.7/32", "dev", "lo"])
        let sdp =
            "v=0\no=- 0 0 IN IP4 10.9.8.7\ns=FFmpeg by hand\nc=IN IP4 239.255.47.1/1\nt=0 0\na=source-filter: incl IN IP4 239.255.47.1 10.9.8.7\nm=video 6500 RTP/AVP 33\na=rtpmap:33 MP2T/90000\n"
        try sdp.write(toFile: "\(dir)/hand.sdp", atomically: true, encoding: .utf8)
        let rec = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "udp://:6600", "file://con"]), output: "\(dir)/in.ts")
        let gateway = try BoxUnderTest(
            config: """
                { "system": { "instance": "\(ns.name)", "runDirectory": "\(dir)/run" },
                  "source": { "type": "gateway", "sdp": "\(dir)/hand.sdp" },
                  "outputs": [ { "id": "out", "url": "udp://127.0.0.1:6600" } ],
                  "api": { "enabled": false } }
                """, namespace: ns, label: "sdphand")
        #expect(waitFor(timeout: 10) { gateway.log.contains("RTP input on 239.255.47.1:6500") }, "\(gateway.log)")
        // A second sender on the same group and port from another source address (320x240): the
        // source filter must keep every one of its packets out of the relayed stream.
        try ns.run(["ip", "addr", "add", "10.9.8.8/32", "dev", "lo"])
        let intruder = try PeerProcess(
            ns.command([
                "ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t",
                "8",
                "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-f", "rtp_mpegts",
                "rtp://239.255.47.1:6500?pkt_size=1316&localaddr=10.9.8.8&ttl=1",
            ]), output: "/dev/null")
        defer { intruder.stop() }
        let ffmpeg = try runProcess(
            ns.command([
                "ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t",
                "6",
                "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-f", "rtp_mpegts",
                "rtp://239.255.47.1:6500?pkt_size=1316&localaddr=10.9.8.7&ttl=1",
            ]), timeout: 60)
        #expect(ffmpeg.status == 0, "\(ffmpeg.stderr.suffix(300))")
        // The intruder (8 s) is still sending when the wanted sender (6 s) ends: it did not fail to start.
        #expect(intruder.process.isRunning, "the second sender (10.9.8.8) did not run, so the filter was not tested")
        #expect(waitUntilSettled(timeout: 5) { Int64(rec.bytes) }, "the relay kept growing")
        gateway.stop()
        rec.stop()
        let frames = try ffprobeDecodedVideoFrames("\(dir)/in.ts")
        #expect(frames.count >= 100, "\(frames.count) frames relayed from FFmpeg via the hand-written SDP")
        // Only the wanted sender's raster reached the relayed stream.
        let sizes = try runProcess(
            [
                "ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "frame=width,height", "-of",
                "csv=p=0", "\(dir)/in.ts",
            ],
            timeout: 60)
        let rasters = Set(
            sizes.stdout.split(separator: "\n").map { $0.split(separator: ",").prefix(2).joined(separator: "x") })
        #expect(
            rasters == ["640x360"], "relayed rasters \(rasters): the 10.9.8.8 sender leaked through the source filter")
        let stats =
            (try? JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/run/\(ns.name)/stats/recv.json"))))
            as? [String: Any] ?? [:]
        #expect((stats["ccErrors"] as? Int ?? -1) == 0, "the intruder's packets reached the input: \(stats)")
    }

    @Test("a malformed SDP: rill check exits 2 naming source.sdp, the file and the line")
    func malformed() throws {
        let dir = makeTemporaryDirectory("sdpbad")
        try "v=0\no=- 0 0 IN IP4 10.0.0.1\ns=x\nc=IN IP4 239.1.1.1/1\nt=0 0\nm=video seven RTP/AVP 33\n".write(
            toFile: "\(dir)/bad.sdp", atomically: true, encoding: .utf8)
        try """
        { "source": { "type": "gateway", "sdp": "\(dir)/bad.sdp" }, "outputs": [ { "id": "o", "url": "udp://127.0.0.1:6700" } ] }
        """.write(toFile: "\(dir)/config.json", atomically: true, encoding: .utf8)
        let r = try runProcess([rillBinary(), "check", "--config", "\(dir)/config.json"], timeout: 10)
        #expect(r.status == 2)
        #expect(
            r.stderr.contains("source.sdp") && r.stderr.contains("bad.sdp") && r.stderr.contains("SDP line 6"),
            "\(r.stderr)")
    }
}
