import MediaTime
import Runtime

/// Counters of one output, written as JSON to `<runDirectory>/stats/<id>.json` once a second
/// (the box's status and metrics read them).
public struct OutputStatistics: Sendable {
    /// Datagrams sent: UDP/RTP datagrams (sendmmsg), RIST data blocks.
    public var datagrams: UInt64 = 0
    /// 188-byte TS packets sent or written.
    public var packets: UInt64 = 0
    /// Bytes sent or written (UDP/RTP: whole datagrams, RTP header included).
    public var bytes: UInt64 = 0
    /// Sends or writes that failed (sendmmsg, rist_sender_data_write, write(2)).
    public var sendErrors: UInt64 = 0
    /// TS ring records the output missed (it fell behind).
    public var lostChunks: UInt64 = 0
    /// Capture → wire, ns.
    public var latency = LatencyHistogram()
    /// Encoder output → wire, ns: everything outside the encoder (rings, mux, pacing, send).
    public var encodedToWire = LatencyHistogram()
    /// Actual send time − deadline, ns.
    public var pacing = LatencyHistogram()

    /// All counters 0, histograms empty.
    public init() {}

    /// The JSON document; `extra` is more members (`"key":value,…`), e.g. a protocol's figures.
    public func json(id: String, state: String, extra: String = "") -> String {
        func h(_ x: LatencyHistogram) -> String {
            "{\"count\":\(x.count),\"p50Ns\":\(x.quantile(0.5)),\"p99Ns\":\(x.quantile(0.99)),\"maxNs\":\(x.max)}"
        }
        return
            "{\"id\":\"\(id)\",\"state\":\"\(state)\",\"datagrams\":\(datagrams),\"packets\":\(packets),\"bytes\":\(bytes),"
            + "\"sendErrors\":\(sendErrors),\"lostChunks\":\(lostChunks),\"captureToWire\":\(h(latency)),"
            + "\"encodedToWire\":\(h(encodedToWire)),\"pacing\":\(h(pacing)),"
            + "\"captureToWireHistogram\":[\(latency.nonEmptyBuckets.map { "[\($0.ns),\($0.count)]" }.joined(separator: ","))]"
            + (extra.isEmpty ? "" : "," + extra) + "}\n"
    }
}

/// An output's statistics file, written at most once a second (always when forced, at stop).
struct StatisticsFile {
    let path: String?
    let id: String
    private var last = MonotonicClock.now()

    init(path: String?, id: String) {
        self.path = path
        self.id = id
    }

    mutating func write(
        _ s: OutputStatistics, state: String, extra: @autoclosure () -> String = "", force: Bool = false
    ) {
        let now = MonotonicClock.now()
        guard force || now - last >= MediaTime.nanosecondsPerSecond, let path else { return }
        last = now
        try? AtomicFile.write(s.json(id: id, state: state, extra: extra()), to: path, durable: false)
    }
}
