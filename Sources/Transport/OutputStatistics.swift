import MediaTime

/// Counters of one output, written as JSON to `<runDirectory>/stats/<id>.json` once a second
/// (the box's status and metrics read them).
public struct OutputStatistics: Sendable {
    public var datagrams: UInt64 = 0
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    public var sendErrors: UInt64 = 0
    /// TS ring records the output missed (it fell behind).
    public var lostChunks: UInt64 = 0
    /// Capture → wire, ns.
    public var latency = LatencyHistogram()
    /// Encoder output → wire, ns: everything outside the encoder (rings, mux, pacing, send).
    public var encodedToWire = LatencyHistogram()
    /// Actual send time − deadline, ns.
    public var pacing = LatencyHistogram()

    public init() {}

    /// The JSON document.
    public func json(id: String, state: String) -> String {
        func h(_ x: LatencyHistogram) -> String {
            "{\"count\":\(x.count),\"p50Ns\":\(x.quantile(0.5)),\"p99Ns\":\(x.quantile(0.99)),\"maxNs\":\(x.max)}"
        }
        return "{\"id\":\"\(id)\",\"state\":\"\(state)\",\"datagrams\":\(datagrams),\"packets\":\(packets),\"bytes\":\(bytes),"
            + "\"sendErrors\":\(sendErrors),\"lostChunks\":\(lostChunks),\"captureToWire\":\(h(latency)),"
            + "\"encodedToWire\":\(h(encodedToWire)),\"pacing\":\(h(pacing)),"
            + "\"captureToWireHistogram\":[\(latency.nonEmptyBuckets.map { "[\($0.ns),\($0.count)]" }.joined(separator: ","))]}\n"
    }
}
