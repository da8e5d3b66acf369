import Box
import Config
import CoreMetrics
import Prometheus
import Synchronization

/// Prometheus metrics of the box, through swift-metrics handles backed by swift-prometheus. The
/// stages count in their own processes; at each scrape the supervisor turns their statistics files
/// into counter increments (a stage restart resets its numbers, so a drop counts as a reset), gauges
/// and latency observations.
public final class BoxMetrics: Sendable {
    /// The registry `/metrics` renders in the Prometheus text format.
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    /// Last seen value per counter key (to turn totals into increments).
    private let last = Mutex<[String: Int64]>([:])
    /// Last seen histogram bucket counts per output.
    private let lastBuckets = Mutex<[String: [Int64: Int64]]>([:])
    /// The per-peer series (SRT clients) of the last scrape, so that a peer that left is removed
    /// from the exposition instead of staying at its last values.
    private let peerSeries = Mutex<[String: PeerSeries]>([:])

    /// One series labelled with a peer.
    struct PeerSeries: Sendable {
        var name: String
        var labels: [(String, String)]
        var isCounter: Bool
    }

    /// Latency buckets (seconds): sub-millisecond to seconds.
    static let latencyBuckets: [Double] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2]

    /// Metrics in `registry` (default: a fresh one); histograms use the latency buckets.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var f = PrometheusMetricsFactory(registry: registry)
        f.defaultValueHistogramBuckets = Self.latencyBuckets
        factory = f
    }

    /// Adds the increase of `total` since the last scrape to counter `name{labels}`.
    func count(_ name: String, _ labels: [(String, String)], total: Int64) {
        let key = Self.key(name, labels)
        let delta = last.withLock { m -> Int64 in
            let prev = m[key] ?? 0
            m[key] = total
            return total >= prev ? total - prev : total
        }
        Counter(label: name, dimensions: labels, factory: factory).increment(by: delta)
    }

    func gauge(_ name: String, _ labels: [(String, String)], _ value: Double) {
        Gauge(label: name, dimensions: labels, factory: factory).record(value)
    }

    static func key(_ name: String, _ labels: [(String, String)]) -> String {
        name + labels.map { "|\($0.0)=\($0.1)" }.joined()
    }

    /// Removes the per-peer series of peers gone since the last scrape; `current` is this scrape's.
    func retirePeers(_ current: [String: PeerSeries]) {
        let gone = peerSeries.withLock { m -> [(String, PeerSeries)] in
            defer { m = current }
            return m.filter { current[$0.key] == nil }.map { ($0.key, $0.value) }
        }
        for (key, series) in gone {
            if series.isCounter {
                Counter(label: series.name, dimensions: series.labels, factory: factory).destroy()
                last.withLock { _ = $0.removeValue(forKey: key) }
            } else {
                Gauge(label: series.name, dimensions: series.labels, factory: factory).destroy()
            }
        }
    }

    /// Refreshes from the box and returns the Prometheus text exposition.
    public func scrape(_ box: BoxController) -> String {
        refresh(box)
        var out: [UInt8] = []
        registry.emit(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func refresh(_ box: BoxController) {
        let cfg = box.store.config
        gauge("rill_up", [], 1)
        let stages = box.supervisor.status
        for s in stages {
            gauge("rill_stage_up", [("stage", s.name)], s.state == .running ? 1 : 0)
            count("rill_stage_restarts_total", [("stage", s.name)], total: Int64(s.restarts))
        }
        if let st = box.statistics("source") {
            count("rill_capture_frames_total", [], total: int(st["frames"]))
            count("rill_capture_frames_dropped_total", [], total: int(st["dropped"]))
        }
        for (codec, name) in [("video", "encode-video"), ("audio", "encode-audio")] {
            guard let st = box.statistics(name) else { continue }
            count("rill_encoder_frames_total", [("encoder", codec)], total: int(st["frames"]))
            count("rill_encoder_bytes_total", [("encoder", codec)], total: int(st["bytes"]))
            gauge("rill_encoder_bitrate_bits_per_second", [("encoder", codec)], Double(int(st["bitrate"])))
        }
        if let st = box.statistics("mux") {
            count("rill_mux_packets_total", [], total: int(st["frames"]))
            count("rill_mux_null_packets_total", [], total: int(st["nullPackets"]))
        }
        var peerSeriesNow: [String: PeerSeries] = [:]
        defer { retirePeers(peerSeriesNow) }
        for o in cfg.outputs {
            let l = [("output", o.id)]
            let state = stages.first { $0.output == o.id }?.state
            gauge("rill_output_up", l, state == .running ? 1 : 0)
            guard let st = box.statistics(o.id) else { continue }
            count("rill_output_packets_sent_total", l, total: int(st["packets"]))
            count("rill_output_bytes_sent_total", l, total: int(st["bytes"]))
            count("rill_output_datagrams_sent_total", l, total: int(st["datagrams"]))
            count("rill_output_send_errors_total", l, total: int(st["sendErrors"]))
            count("rill_output_chunks_lost_total", l, total: int(st["lostChunks"]))
            if case .array(let peers) = st["peers"] ?? .null {
                gauge("rill_srt_peers", l, Double(peers.count))
                for p in peers {
                    guard case .string(let peer) = p["peer"] ?? .null else { continue }
                    let pl = l + [("peer", peer)]
                    gauge("rill_srt_rtt_seconds", pl, double(p["rttMs"]) / 1000)
                    peerSeriesNow[Self.key("rill_srt_rtt_seconds", pl)] = PeerSeries(
                        name: "rill_srt_rtt_seconds", labels: pl, isCounter: false)
                    for (name, field) in [
                        ("rill_srt_packets_sent_total", "packetsSent"),
                        ("rill_srt_packets_retransmitted_total", "packetsRetransmitted"),
                        ("rill_srt_packets_lost_total", "packetsLost"),
                    ] {
                        count(name, pl, total: int(p[field]))
                        peerSeriesNow[Self.key(name, pl)] = PeerSeries(name: name, labels: pl, isCounter: true)
                    }
                }
            }
            if let r = st["rist"] {
                gauge("rill_rist_rtt_seconds", l, double(r["rttMs"]) / 1000)
                count("rill_rist_packets_retransmitted_total", l, total: int(r["retransmitted"]))
            }
            if case .array(let buckets) = st["captureToWireHistogram"] ?? .null {
                observeLatency(output: o.id, buckets: buckets)
            }
        }
        let c = box.events.counters
        count("rill_events_delivered_total", [], total: Int64(c.delivered))
        count("rill_events_failed_total", [], total: Int64(c.failed))
        count("rill_events_dropped_total", [], total: Int64(c.dropped))
    }

    /// Records the new capture→wire observations of an output: the stage exports its histogram as
    /// [value ns, count] pairs (1/16-octave buckets), each new count becomes observations at that value.
    func observeLatency(output: String, buckets: [JSON]) {
        var now: [Int64: Int64] = [:]
        for b in buckets {
            guard case .array(let pair) = b, pair.count == 2 else { continue }
            now[int(pair[0])] = int(pair[1])
        }
        let previous = lastBuckets.withLock { m -> [Int64: Int64] in
            defer { m[output] = now }
            return m[output] ?? [:]
        }
        let reset = now.contains { $0.value < (previous[$0.key] ?? 0) }
        let recorder = Recorder(
            label: "rill_capture_to_wire_latency_seconds", dimensions: [("output", output)], aggregate: true,
            factory: factory)
        for (ns, n) in now {
            let delta = reset ? n : n - (previous[ns] ?? 0)
            guard delta > 0 else { continue }
            for _ in 0..<min(delta, 100_000) { recorder.record(Double(ns) / 1e9) }
        }
    }

    func int(_ v: JSON?) -> Int64 {
        guard case .number(let d) = v ?? .null, d.isFinite else { return 0 }
        return Int64(d)
    }

    func double(_ v: JSON?) -> Double {
        guard case .number(let d) = v ?? .null, d.isFinite else { return 0 }
        return d
    }
}
