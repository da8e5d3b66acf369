import Foundation
import RillTestSupport
import Testing

/// A RIST output in listener mode (`rist://@HOST:PORT`): librist's ristreceiver calls it, as a
/// receiver behind NAT calls a box with a public address. Main profile only: in the Simple
/// profile librist 0.2.7's calling receiver (`ristreceiver -p 0 -i rist://HOST:P`) sends its RTCP
/// to port 32769 whatever P is (its log: "Created RTCP peer … port 32769"), never to P + 1, so no
/// Debian peer can call a Simple listener. Each test in its own network namespace.
@Suite("RIST listener output against a calling ristreceiver", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct RISTListenerTests {
    static let port = 8000

    @Test(
        "Main profile listener (plain and AES-256 PSK): a calling ristreceiver gets H.264 + AAC that decode, PTS rising, 0 CC errors",
        arguments: ["", "secret=correct-horse-42&aes-type=256"])
    func callerReceives(secret: String) throws {
        let ns = try NetworkNamespace("ristlisten")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("ristlisten")
        let options = secret.isEmpty ? "" : "&" + secret
        let box = try BoxUnderTest(
            config: testConfig(
                instance: ns.name, fps: 25, videoBitrate: 1_500_000, keyint: 25,
                outputs: "{ \"id\": \"rist\", \"url\": \"rist://@127.0.0.1:\(Self.port)?profile=main\(options)\" }",
                runDirectory: "\(dir)/run"),
            namespace: ns, label: "ristlisten")
        defer { box.stop() }
        #expect(
            waitFor(timeout: 15) { box.log.contains("RIST main profile listening on") }, "\(box.log.suffix(800))")
        #expect(waitFor(timeout: 10) { portListening(Self.port, .udp, in: ns) }, "nothing bound to :\(Self.port)")
        let query = secret.isEmpty ? "" : "?" + secret
        let ts = try RISTPeers.receive(
            ns, dir, profile: 1, input: "rist://127.0.0.1:\(Self.port)\(query)", name: "caller")
        let frames = try RISTPeers.expectDecodes(ts)
        #expect(
            RISTPeers.log(dir, "caller").contains("Authenticated RTP peer"),
            "ristreceiver did not authenticate the listener: \(RISTPeers.log(dir, "caller").suffix(600))")
        // The listener's own view: a connected peer, counted in the output's statistics.
        let statsPath = "\(dir)/run/\(ns.name)/stats/rist.json"
        let stats =
            (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: statsPath))))
            as? [String: Any] ?? [:]
        let rist = stats["rist"] as? [String: Any] ?? [:]
        #expect(rist["connected"] as? Bool == true && (rist["sent"] as? Int ?? 0) > 0, "\(rist)")
        print("RIST main listener\(secret.isEmpty ? "" : " (AES-256)") → calling ristreceiver: \(frames) frames")
    }
}
