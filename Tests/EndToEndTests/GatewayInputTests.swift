import Foundation
import RillTestSupport
import Testing

/// A raw `udp://` gateway input and `rill probe`, fed by FFmpeg (a real sender), each test in its
/// own network namespace.
@Suite("UDP gateway input and probe", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct GatewayInputTests {
    /// FFmpeg sending a live test pattern as MPEG-TS in 1316-byte datagrams to `url`.
    func ffmpegSender(_ ns: NetworkNamespace, to url: String, seconds: Int, metadata: [String] = [], log: String) throws
        -> PeerProcess
    {
        try PeerProcess(
            ns.command(
                [
                    "ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25",
                    "-t", "\(seconds)",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
                ] + metadata + ["-f", "mpegts", url]),
            output: log)
    }

    @Test("raw udp:// input: counts what it relays (status, log and tshark agree, not 0)")
    func rawUDPCounts() throws {
        let ns = try NetworkNamespace("udpin")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("udpin")
        let config = """
            { "system": { "instance": "\(ns.name)", "runDirectory": "\(dir)/run" },
              "source": { "type": "gateway", "url": "udp://127.0.0.1:5070" },
              "outputs": [ { "id": "relay", "url": "udp://127.0.0.1:5071" } ],
              "api": { "enabled": false } }
            """
        let b = try BoxUnderTest(config: config, namespace: ns, label: "udpin")
        defer { b.stop() }
        #expect(
            waitFor(timeout: 15) { b.log.contains("UDP input on") && b.log.contains("started send-relay") }, "\(b.log)")
        // A real receiver of the relay counts the datagrams it gets (tshark, on lo in the namespace).
        // Its stderr says "Capture started." once it captures: the sender starts after that.
        let capture = try PeerProcess(
            ns.command([
                "sh", "-c", "exec \"$@\" 2>\"\(dir)/tshark.log\"", "sh",
                "tshark", "-i", "lo", "-l", "-n", "-f", "udp dst port 5070", "-T", "fields", "-e", "frame.number",
            ]),
            output: "\(dir)/capture.txt")
        defer { capture.stop(SIGKILL) }
        #expect(
            waitFor(timeout: 15) {
                ((try? String(contentsOfFile: "\(dir)/tshark.log", encoding: .utf8)) ?? "").contains("Capture started")
            }, "tshark did not start capturing")
        let sender = try ffmpegSender(
            ns, to: "udp://127.0.0.1:5070?pkt_size=1316", seconds: 12, log: "\(dir)/ffmpeg.log")
        defer { sender.stop(SIGKILL) }
        var status: [String: Any] = [:]
        #expect(
            waitFor(timeout: 20, interval: 0.5) {
                status = (try? inputStatistics(b, runDirectory: "\(dir)/run", instance: ns.name)) ?? [:]
                return (status["received"] as? Int ?? 0) > 500
            }, "status: \(status)")
        // The periodic log line (every 10 s) counts too.
        #expect(
            waitFor(timeout: 15) {
                b.log.split(separator: "\n").contains { $0.contains("recv: received") && !$0.contains("received 0 ") }
            },
            "\(b.log.suffix(600))")
        _ = waitFor(timeout: 20) { sender.process.isRunning == false }
        // The stats file is rewritten once a second: wait for a write after the sender ended.
        let ended = Date()
        let statsPath = "\(dir)/run/\(ns.name)/stats/recv.json"
        #expect(waitFor(timeout: 5) { modificationDate(statsPath).map { $0 > ended } ?? false }, "\(statsPath)")
        status = try inputStatistics(b, runDirectory: "\(dir)/run", instance: ns.name)
        capture.stop()
        let sent = (try String(contentsOfFile: "\(dir)/capture.txt", encoding: .utf8)).split(separator: "\n").count
        let received = status["received"] as? Int ?? 0
        #expect(sent > 500, "tshark saw \(sent) datagrams")  // ≈ 80 a second from this FFmpeg
        #expect(
            received >= sent && received <= sent + 200,
            "input counted \(received), tshark saw \(sent) (tshark may start late)")
        #expect(status["ccErrors"] as? Int == 0, "\(status)")
        b.stop()
        let last = b.log.split(separator: "\n").last { $0.contains("stopped: received") } ?? ""
        let n =
            last.range(of: "stopped: received ").map { Int(last[$0.upperBound...].prefix { $0.isNumber }) ?? 0 } ?? 0
        #expect(n == received, "stop line: \(last), status \(received)")
    }

    @Test("rill probe: a service name with quotes, backslash and control characters is valid JSON, exactly")
    func probeEscapesServiceName() throws {
        let ns = try NetworkNamespace("probe")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("probe")
        let name = "a\"b\\c\u{01}d\te\nf"
        let sender = try ffmpegSender(
            ns, to: "udp://127.0.0.1:5072?pkt_size=1316", seconds: 8,
            metadata: [
                "-metadata", "service_name=\(name)",
                "-metadata", "service_provider=p\"q\\r",
            ], log: "\(dir)/ffmpeg.log")
        defer { sender.stop(SIGKILL) }
        let r = try runProcess(
            ns.command([rillBinary(), "probe", "udp://127.0.0.1:5072", "--seconds", "4"]), timeout: 30)
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let probed = try #require(doc, "not JSON: \(r.stdout)")
        #expect((probed["packets"] as? Int ?? 0) > 100, "\(probed)")
        #expect(probed["serviceName"] as? String == name, "serviceName \(String(describing: probed["serviceName"]))")
        #expect(
            probed["providerName"] as? String == "p\"q\\r", "providerName \(String(describing: probed["providerName"]))"
        )
    }
}
