import Foundation
import RillTestSupport
import Testing

/// RIST to and from a multicast group (`rist://GROUP:PORT` sends, `rist://@GROUP:PORT` joins), in
/// a network namespace whose `lo` carries 224.0.0.0/4, against librist's ristreceiver and
/// ristsender. tshark proves the media went to the group, not to a unicast address.
@Suite("RIST multicast output and input against librist's tools", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct RISTMulticastTests {
    /// Datagrams to `group` tshark sees on `lo` within 2 s.
    static func datagramsTo(_ group: String, in ns: NetworkNamespace, dir: String) throws -> Int {
        let pcap = "\(dir)/group.pcap"
        let cap = try ns.run(
            ["tshark", "-q", "-i", "lo", "-f", "udp and dst host \(group)", "-a", "duration:2", "-w", pcap], timeout: 30
        )
        guard cap.status == 0 else { throw TestEnvironmentError("tshark: \(cap.stderr.suffix(300))") }
        return try runProcess(["tshark", "-r", pcap], timeout: 60).stdout.split(separator: "\n").count
    }

    @Test(
        "our output to a group (Simple and Main): ristreceiver joined to it gets H.264 + AAC that decode, PTS rising, 0 CC errors",
        arguments: ["simple", "main"])
    func outputToGroup(profile: String) throws {
        let ns = try NetworkNamespace("ristmcout")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("ristmcout")
        let group = "239.255.50.1:8200"
        let box = try BoxUnderTest(
            config: testConfig(
                instance: ns.name, fps: 25, videoBitrate: 1_500_000, keyint: 25,
                outputs: "{ \"id\": \"rist\", \"url\": \"rist://\(group)?profile=\(profile)\" }",
                runDirectory: "\(dir)/run"),
            namespace: ns, label: "ristmcout")
        defer { box.stop() }
        #expect(
            waitFor(timeout: 15) { box.log.contains("RIST \(profile) profile to rist://\(group)") },
            "\(box.log.suffix(800))")
        #expect(try Self.datagramsTo("239.255.50.1", in: ns, dir: dir) > 100, "no media sent to the group")
        let ts = try RISTPeers.receive(
            ns, dir, profile: profile == "simple" ? 0 : 1, input: "rist://@\(group)", name: "joined")
        let frames = try RISTPeers.expectDecodes(ts)
        print("RIST \(profile) to \(group) → ristreceiver joined: \(frames) frames")
    }

    @Test(
        "ristsender to a group (Simple and Main), our input joined to it: the relayed TS decodes, PTS rising, 0 CC errors",
        arguments: ["simple", "main"])
    func inputFromGroup(profile: String) throws {
        let ns = try NetworkNamespace("ristmcin")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("ristmcin")
        let source = try RISTPeers.sourceTS(dir)
        let group = "239.255.51.1:8310"
        let (gateway, rec) = try RISTPeers.gateway(
            ns, dir, listening: group, profile: profile, relay: 9500, label: "ristmcin")
        defer { rec.stop(SIGKILL) }
        defer { gateway.stop() }
        try RISTPeers.send(
            ns, dir, profile: profile == "simple" ? 0 : 1, output: "rist://\(group)", source: source, seconds: 8,
            linked: { gateway.log.contains("RIST peer connected") }, relayed: { Int64(rec.bytes) })
        gateway.stop()
        rec.stop()
        // 8 s pushed (200 frames), fewer recorded: the relay starts at a PAT and a keyframe (up to a
        // 1 s GOP) and srt-live-transmit's file lacks the last ~0.8 s that tshark sees on the wire.
        let frames = try RISTPeers.expectDecodes(rec.output, minimumFrames: 140)
        print("ristsender \(profile) to \(group) → Rill input joined → UDP: \(frames) frames")
    }
}
