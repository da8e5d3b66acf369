import Foundation
import RillTestSupport
import Testing

/// The gateway `rist://` input in the Simple profile (TR-06-1, `profile=simple`) fed by librist's
/// ristsender `-p 0`; the box relays to UDP, recorded by srt-live-transmit and checked by FFmpeg
/// and tshark. In its own network namespace.
@Suite("RIST Simple-profile gateway input from ristsender", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct RISTSimpleInputTests {
    @Test(
        "ristsender -p 0 into rist://@…?profile=simple: the relayed TS has H.264 + AAC, PTS rising, 0 CC errors; our status says simple, > 500 datagrams into the ring"
    )
    func fromRistsenderSimple() throws {
        let ns = try NetworkNamespace("ristsimplein")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("ristsimplein")
        let source = try RISTPeers.sourceTS(dir)
        let (gateway, rec) = try RISTPeers.gateway(
            ns, dir, listening: "127.0.0.1:8300", profile: "simple", relay: 9500, label: "ristsimplein")
        defer { rec.stop(SIGKILL) }
        defer { gateway.stop() }
        try RISTPeers.send(
            ns, dir, profile: 0, output: "rist://127.0.0.1:8300", source: source, seconds: 8,
            linked: { gateway.log.contains("RIST peer connected") }, relayed: { Int64(rec.bytes) })
        let status = try inputStatistics(gateway, runDirectory: "\(dir)/run", instance: ns.name)
        gateway.stop()
        rec.stop()
        #expect(status["profile"] as? String == "simple", "\(status)")
        #expect((status["frames"] as? Int ?? 0) > 500 && status["ccErrors"] as? Int == 0, "\(status)")
        // 8 s pushed (200 frames), fewer recorded: the relay starts at a PAT and a keyframe (up to a
        // 1 s GOP) and srt-live-transmit's file lacks the last ~0.8 s that tshark sees on the wire.
        let frames = try RISTPeers.expectDecodes(rec.output, minimumFrames: 140)
        print(
            "ristsender -p 0 → Rill RIST Simple input → UDP: \(frames) frames, \(status["frames"] ?? 0) datagrams into the ring"
        )
    }
}
