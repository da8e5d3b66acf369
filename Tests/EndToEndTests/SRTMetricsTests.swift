import Foundation
import RillTestSupport
import Testing

/// `rill_srt_*` on `/metrics` (Prometheus text, read with curl) while srt-live-transmit is a
/// client of an SRT listener output, checked against what that client received.
@Suite("SRT metrics on /metrics", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct SRTMetricsTests {
    static let apiPort = 18_200
    static let srtPort = 9000
    static let clientPort = 9501

    /// The samples named `name` whose labels include `labels`.
    func samples(_ all: [PrometheusSample], _ name: String, _ labels: [String: String]) -> [PrometheusSample] {
        all.filter { s in s.name == name && labels.allSatisfy { s.labels[$0.key] == $0.value } }
    }

    @Test(
        "one client: rill_srt_peers 1, rill_srt_packets_sent_total > 0, rising and ≈ what the client's libsrt received, RTT present and < 50 ms on loopback, lost and retransmitted 0; peers 0 after it leaves"
    )
    func srtMetrics() throws {
        let ns = try NetworkNamespace("srtmetrics")
        defer { ns.close() }
        let box = try APIBox(
            label: "srtmetrics", port: Self.apiPort, outputs: #"{ "id": "srt", "url": "srt://:\#(Self.srtPort)" }"#,
            namespace: ns)
        defer { box.box.stop() }
        func metrics() throws -> [PrometheusSample] {
            let r = try box.curl("GET", "/metrics")
            guard r.status == 200 else { throw TestEnvironmentError("/metrics: \(r.status) \(r.body.prefix(300))") }
            return try parsePrometheusText(r.body)
        }
        #expect(
            waitFor(timeout: 20) {
                box.box.log.contains("listening on") && (try? box.curl("GET", "/health").status) == 200
            },
            "\(box.box.log.suffix(800))")
        // The client reports its own totals (libsrt's receiver side) every 25 packets, as JSON lines.
        let clientStats = "\(box.box.directory)/client-stats.json"
        func clientReceived() -> Double {
            let text = (try? String(contentsOfFile: clientStats, encoding: .utf8)) ?? ""
            guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("{") && $0.hasSuffix("}") }),
                let doc = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let recv = doc["recv"] as? [String: Any]
            else { return 0 }
            return (recv["packets"] as? Double) ?? Double(recv["packets"] as? Int ?? 0)
        }
        let client = try PeerProcess(
            ns.command([
                "srt-live-transmit", "-q", "-s:25", "-pf:json", "-f", "-statsout", clientStats,
                "srt://127.0.0.1:\(Self.srtPort)?port=\(Self.clientPort)", "file://con",
            ]), output: "\(box.box.directory)/client.ts")
        defer { client.stop(SIGKILL) }
        #expect(waitFor(timeout: 15) { client.bytes > 100_000 }, "\(box.box.log.suffix(800))")
        let peer = ["output": "srt", "peer": "127.0.0.1:\(Self.clientPort)"]

        // The stats file is rewritten once a second; the counters must move between two scrapes.
        let first = try metrics()
        let firstAt = Date()
        var second: [PrometheusSample] = []
        let sent1 = samples(first, "rill_srt_packets_sent_total", peer).first?.value ?? 0
        #expect(
            waitFor(timeout: 5, interval: 0.5) {
                second = (try? metrics()) ?? []
                return (samples(second, "rill_srt_packets_sent_total", peer).first?.value ?? 0) > sent1 + 50
            }, "packets sent did not rise from \(sent1)")
        let received = clientReceived()
        let sent2 = try #require(samples(second, "rill_srt_packets_sent_total", peer).first?.value)
        #expect(sent1 > 0)
        // The client's own count trails ours by at most the stats file's period (1 s), the
        // client's report period (25 packets) and the 400 ms latency: ≤ 2 s of the measured rate.
        let rate = (sent2 - sent1) / Date().timeIntervalSince(firstAt)
        #expect(
            received > 0 && sent2 >= received - 2 * rate - 25 && sent2 <= received + 2 * rate + 25,
            "we sent \(sent2) packets, the client received \(received) (≈ \(Int(rate)) packets/s)")
        #expect(
            samples(second, "rill_srt_peers", ["output": "srt"]).first?.value == 1,
            "\(second.filter { $0.name.hasPrefix("rill_srt") })")
        let rtt = try #require(samples(second, "rill_srt_rtt_seconds", peer).first?.value, "no RTT")
        #expect(rtt > 0 && rtt < 0.05, "RTT \(rtt) s on loopback")
        #expect(samples(second, "rill_srt_packets_lost_total", peer).first?.value == 0)
        #expect(samples(second, "rill_srt_packets_retransmitted_total", peer).first?.value == 0)
        // The output's own totals count what went to every client (TS packets of 188 bytes).
        let outputPackets = samples(second, "rill_output_packets_sent_total", ["output": "srt"]).first?.value ?? 0
        let outputBytes = samples(second, "rill_output_bytes_sent_total", ["output": "srt"]).first?.value ?? 0
        #expect(
            outputPackets > 0 && outputBytes == outputPackets * 188, "packets \(outputPackets) bytes \(outputBytes)")

        client.stop()
        var after: [PrometheusSample] = []
        #expect(
            waitFor(timeout: 5, interval: 0.5) {
                after = (try? metrics()) ?? []
                return samples(after, "rill_srt_peers", ["output": "srt"]).first?.value == 0
            }, "\(after.filter { $0.name == "rill_srt_peers" })")
        // A client that left leaves no series of its own behind.
        let stale = after.filter { $0.name.hasPrefix("rill_srt_") && $0.labels["peer"] != nil }
        #expect(stale.isEmpty, "series of a peer that left: \(stale.map(\.name))")
    }
}
