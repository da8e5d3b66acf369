import MediaTime

/// How the mux fills the wire.
public enum MuxRateMode: Sendable, Equatable {
    /// Constant transport rate in bits/s, filled with null packets; PCR is computed from byte
    /// position (ISO/IEC 13818-1 §2.4.2.2).
    case cbr(muxrate: Int64)
    /// Packets leave as soon as data is muxed; PCR is the send deadline.
    case vbr
}

/// Everything the mux needs to know about the program it builds.
public struct MuxConfiguration: Sendable {
    /// transport_stream_id of PAT and SDT.
    public var transportStreamID: UInt16 = 1
    /// original_network_id of the SDT.
    public var originalNetworkID: UInt16 = 1
    /// program_number (= service_id).
    public var programNumber: UInt16 = 1
    /// PID of the PMT.
    public var pmtPID: UInt16 = 0x1000
    /// PID carrying the PCR; by default the first video stream's.
    public var pcrPID: UInt16
    /// The program's elementary streams, in PMT order.
    public var streams: [ProgramStream]
    /// SDT service name.
    public var serviceName: String = "Rill"
    /// SDT provider name.
    public var providerName: String = "Rill"
    /// CBR or VBR.
    public var mode: MuxRateMode = .vbr
    /// PCR interval, ns (≤ TS.maxPCRInterval).
    public var pcrInterval: Int64 = 20 * MediaTime.millisecond
    /// PAT/PMT interval, ns. Below TS.recommendedPSIInterval with margin for slot granularity.
    public var psiInterval: Int64 = 90 * MediaTime.millisecond
    /// SDT interval, ns.
    public var sdtInterval: Int64 = 500 * MediaTime.millisecond
    /// Added to every PTS/DTS: the decoder presents a frame `delay` after it was captured. Must
    /// cover encoder latency, mux queueing and (CBR) the encoder's VBV delay.
    public var delay: Int64 = 200 * MediaTime.millisecond
    /// Per-stream queue size, bytes.
    public var queueBytes: Int = 4 << 20
    /// Version of PAT/PMT/SDT (bump when the program changes).
    public var tableVersion: UInt8 = 0

    /// A configuration for `streams`, PCR on the first video stream (or the first stream).
    public init(streams: [ProgramStream]) {
        self.streams = streams
        self.pcrPID = streams.first(where: { $0.codec.isVideo })?.pid ?? streams.first?.pid ?? 0x100
    }
}

/// What the mux reports about itself (counters since start).
public struct MuxStatistics: Sendable {
    /// Every TS packet written, null packets included.
    public var packets: UInt64 = 0
    /// Null packets written (CBR stuffing).
    public var nullPackets: UInt64 = 0
    /// PCRs written.
    public var pcrs: UInt64 = 0
    /// Access units dropped because a queue was full.
    public var droppedAccessUnits: UInt64 = 0
    /// Access units whose DTS had already passed when they reached the mux (delay too small).
    public var lateAccessUnits: UInt64 = 0
    /// Times the CBR schedule was reset because the mux fell too far behind real time.
    public var scheduleResets: UInt64 = 0
}

/// Describes one 7-packet chunk handed to the sink.
public struct TSChunkInfo: Sendable {
    /// When the first packet should leave, CLOCK_MONOTONIC ns.
    public var deadline: Int64
    /// Capture time of the oldest media in the chunk, ns, or 0 when it carries none.
    public var captureTime: Int64
    /// When that media left its encoder, ns, or 0.
    public var readyTime: Int64
    /// Number of TS packets (7 in CBR; 1…7 in VBR).
    public var packetCount: Int
}
