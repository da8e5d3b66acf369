import Foundation
import RillTestSupport
import Testing

/// The gateway SRT input's `accept=` list (SRTSettings.accept: comma-separated stream ids, or the
/// `r=` resource of an access-control stream id, allowed to publish; others get 1403): FFmpeg
/// publishes with a refused and then an allowed stream id, srt-live-transmit receives the relay.
@Suite("Gateway accept= list", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct GatewayAcceptTests {
    static let srtPort = 9110
    static let relayPort = 5090

    func publisher(_ ns: NetworkNamespace, streamID: String, log: String) throws -> PeerProcess {
        try PeerProcess(
            ns.command([
                "ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-t",
                "30", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-f", "mpegts",
                "srt://127.0.0.1:\(Self.srtPort)?mode=caller&pkt_size=1316&streamid=\(streamID)",
            ]), output: log)
    }

    @Test(
        "accept=studio1,cam2: \"intruder\" is refused (logged, counted, nothing relayed); \"studio1\" is connected and its stream relayed decodable"
    )
    func allowedAndRefused() throws {
        let ns = try NetworkNamespace("gwaccept")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("gwaccept")
        let config = """
            { "system": { "instance": "\(ns.name)", "runDirectory": "\(dir)/run" },
              "source": { "type": "gateway", "url": "srt://:\(Self.srtPort)?accept=studio1,cam2" },
              "outputs": [ { "id": "relay", "url": "udp://127.0.0.1:\(Self.relayPort)" } ],
              "api": { "enabled": false } }
            """
        let b = try BoxUnderTest(config: config, namespace: ns, label: "gwaccept")
        defer { b.stop() }
        #expect(
            waitFor(timeout: 15) {
                b.log.contains("listening for a publisher") && b.log.contains("started send-relay")
            },
            "\(b.log)")
        let relayed = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "udp://:\(Self.relayPort)", "file://con"]),
            output: "\(dir)/relayed.ts")
        defer { relayed.stop(SIGKILL) }
        #expect(waitFor(timeout: 5) { portListening(Self.relayPort, .udp, in: ns) })

        // Refused: the listener says which stream id and why; nothing reaches the relay.
        let intruder = try publisher(ns, streamID: "intruder", log: "\(dir)/intruder.log")
        defer { intruder.stop(SIGKILL) }
        #expect(waitFor(timeout: 10) { b.log.contains("rejected publisher") }, "\(b.log.suffix(600))")
        #expect(b.log.contains("streamid \"intruder\" is not accepted"), "\(b.log.suffix(600))")
        #expect(
            waitFor(timeout: 5, interval: 0.25) {
                ((try? inputStatistics(b, runDirectory: "\(dir)/run", instance: ns.name))?["rejected"] as? Int ?? 0)
                    >= 1
            })
        // FFmpeg gives up on a refused connection (libsrt: connection rejected).
        #expect(waitFor(timeout: 10) { !intruder.process.isRunning }, "FFmpeg still running after the refusal")
        #expect(!b.log.contains("connected (streamid \"intruder\")"))
        #expect(relayed.bytes == 0, "\(relayed.bytes) bytes relayed from a refused publisher")
        let refusals = try inputStatistics(b, runDirectory: "\(dir)/run", instance: ns.name)["rejected"] as? Int

        // Allowed: connected under its stream id, relayed, decodable.
        let studio = try publisher(ns, streamID: "studio1", log: "\(dir)/studio.log")
        defer { studio.stop(SIGKILL) }
        #expect(
            waitFor(timeout: 10) { b.log.contains("connected (streamid \"studio1\")") }, "\(b.log.suffix(600))")
        #expect(waitFor(timeout: 15) { relayed.bytes > 300_000 }, "relayed \(relayed.bytes) bytes")
        let status = try inputStatistics(b, runDirectory: "\(dir)/run", instance: ns.name)
        #expect(status["rejected"] as? Int == refusals, "the allowed publisher counted as refused: \(status)")
        studio.stop(SIGKILL)
        relayed.stop()
        let frames = try ffprobeDecodedVideoFrames(relayed.output)
        #expect(frames.first?.keyFrame == true, "the relay does not start at a keyframe")
        #expect(frames.count >= 50, "\(frames.count) frames relayed")
    }
}
