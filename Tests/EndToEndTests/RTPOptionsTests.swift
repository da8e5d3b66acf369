import Foundation
import RillTestSupport
import Testing

/// The `rtp://` output options that shape the packets on the wire, checked with tshark: `iface`
/// (IP_MULTICAST_IF), `source` (bound source address), `tos` (IP_TOS) and `ssrc`.
@Suite("RTP options on the wire", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct RTPOptionsTests {
    @Test("rtp://…?iface=rill0&source=10.77.0.1&tos=184&ssrc=12345: tshark sees them on rill0 and nothing on lo")
    func options() throws {
        let ns = try NetworkNamespace("rtpopt")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("rtpopt")
        // A second interface in the namespace (a veth pair; this kernel has no dummy driver): tshark sees what leaves it.
        for cmd in [
            ["ip", "link", "add", "rill0", "type", "veth", "peer", "name", "rill1"],
            ["ip", "link", "set", "rill1", "up"],
            ["ip", "link", "set", "rill0", "up", "multicast", "on"],
            ["ip", "addr", "add", "10.77.0.1/24", "dev", "rill0"],
        ] {
            let r = try ns.run(cmd)
            try #require(r.status == 0, "\(cmd): \(r.stderr)")
        }
        let box = try BoxUnderTest(
            config: testConfig(
                instance: ns.name, fps: 25, videoBitrate: 1_000_000, keyint: 25,
                outputs:
                    #"{ "id": "o", "url": "rtp://239.255.49.1:5900?iface=rill0&source=10.77.0.1&tos=184&ssrc=12345&ttl=3" }"#,
                runDirectory: "\(dir)/run"),
            namespace: ns, label: "rtpopt")
        defer { box.stop() }
        #expect(waitFor(timeout: 15) { box.log.contains("send-o: RTP") }, "\(box.log.suffix(800))")
        // Datagrams are leaving (the output's own count) before tshark looks for them on lo.
        #expect(
            waitFor(timeout: 10, interval: 0.5) {
                ((try? outputStatus(configPath: box.configPath).output["datagrams"] as? Int) ?? 0) > 100
            }, "send-o sent nothing: \(box.log.suffix(800))")
        let onLo = try runProcess(
            ns.command([
                "tshark", "-q", "-i", "lo", "-f", "udp dst port 5900", "-a", "duration:3", "-w", "\(dir)/lo.pcap",
            ]), timeout: 40)
        #expect(onLo.status == 0, "\(onLo.stderr)")
        let pcap = "\(dir)/rill0.pcap"
        let cap = try runProcess(
            ns.command(["tshark", "-q", "-i", "rill0", "-f", "udp dst port 5900", "-a", "duration:3", "-w", pcap]),
            timeout: 40)
        #expect(cap.status == 0, "\(cap.stderr)")
        let fields = try runProcess(
            [
                "tshark", "-r", pcap, "-d", "udp.port==5900,rtp", "-T", "fields", "-e", "ip.src", "-e", "ip.dst", "-e",
                "ip.dsfield",
                "-e", "ip.ttl", "-e", "rtp.ssrc",
            ], timeout: 60)
        let rows = Set(fields.stdout.split(separator: "\n").map(String.init))
        #expect(
            fields.stdout.split(separator: "\n").count > 50, "\(fields.stdout.prefix(300)) \(fields.stderr.prefix(300))"
        )
        #expect(rows == ["10.77.0.1\t239.255.49.1\t0xb8\t3\t0x00003039"], "\(rows.prefix(5))")
        let loCount = try runProcess(
            ["tshark", "-r", "\(dir)/lo.pcap", "-T", "fields", "-e", "frame.number"], timeout: 30)
        #expect(loCount.stdout.split(separator: "\n").isEmpty, "packets left through lo despite iface=rill0")
    }
}
