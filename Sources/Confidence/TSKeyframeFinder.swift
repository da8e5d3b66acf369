import Encode
import MPEGTS

/// Finds the keyframes of a received transport stream's video: PAT → PMT (ISO/IEC 13818-1
/// §2.4.4.3, §2.4.4.8) to the first video elementary stream, its PES packets (§2.4.3.6)
/// reassembled into access units, each unit that `CodedKeyframe` calls a keyframe (an H.264 IDR,
/// an H.265 IRAP) kept as `newest`. The gateway's program thumbnail decodes it. Pure (no Glibc):
/// the TS is network input, so every length is checked and malformed packets are skipped, never
/// trapped on (fuzzed: Tests/Fuzz/FuzzTSKeyframe.swift). One thread at a time.
public struct TSKeyframeFinder: Sendable {
    /// One keyframe access unit (Annex B, its parameter sets in band as an IDR in TS carries them).
    public struct Keyframe: Sendable {
        /// The access unit's bytes: the PES payload.
        public var bytes: [UInt8]
        /// The PES's PTS (90 kHz, 33 bits), nil when it carries none.
        public var pts: UInt64?
        /// The arrival time given with the chunk its PES started in (the caller's clock, ns).
        public var arrival: Int64
        /// Its stream_type: StreamType.h264 or StreamType.hevc.
        public var streamType: UInt8
    }

    /// What the PMT said about video.
    public enum Video: Sendable, Equatable {
        /// No PAT, or no PMT yet.
        case unknown
        /// The PMT lists no video stream; its stream types, in order.
        case none(streamTypes: [UInt8])
        /// The first video stream is of a type not decoded here (MPEG-2 video…).
        case unsupported(streamType: UInt8, pid: UInt16)
        /// The first video stream: H.264 or H.265.
        case stream(streamType: UInt8, pid: UInt16)
    }

    /// The longest access unit assembled, bytes; a longer one is dropped (a 1080p intra picture at a
    /// high rate is a few MB; this bounds what a malformed stream can make the box hold).
    public static let maxUnitBytes = 16 << 20
    /// PES header bytes up to and including PES_header_data_length (§2.4.3.6).
    static let pesFixedHeader = 9
    /// PTS_DTS_flags '1x' in the second PES flags byte: a PTS follows (§2.4.3.7).
    static let ptsFlag: UInt8 = 0x80
    /// The PTS field's size (§2.4.3.7).
    static let timestampBytes = 5
    /// PES_packet_length counts the bytes after this many (start code prefix, stream_id, the length).
    static let pesLengthOffset = 6

    /// The video the PMT declared.
    public private(set) var video = Video.unknown
    /// The newest keyframe found, kept across PMT changes and later non-key units.
    public private(set) var newest: Keyframe? = nil
    /// Keyframes found since `init`.
    public private(set) var keyframes: Int64 = 0
    /// Access units completed since `init` (keyframes or not).
    public private(set) var units: Int64 = 0
    /// Units dropped: a lost or errored packet in them, a PES too long or malformed.
    public private(set) var droppedUnits: Int64 = 0

    private var pmtPID: UInt16? = nil
    private var continuity = ContinuityCounter()
    /// The unit being assembled (nil: waiting for the next PES start).
    private var unit: [UInt8]? = nil
    private var unitPTS: UInt64? = nil
    private var unitArrival: Int64 = 0
    /// The PES's declared payload size (0: unbounded, the unit ends at the next PES start).
    private var unitExpected = 0

    /// A finder that has seen nothing.
    public init() {}

    /// Feeds whole 188-byte packets (a trailing partial packet is ignored) that arrived at `arrival`.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, arrival: Int64) {
        var i = 0
        while i + TS.packetSize <= chunk.count {
            if let packet = TSPacket(UnsafeRawBufferPointer(rebasing: chunk[i..<(i + TS.packetSize)])) {
                self.packet(packet, arrival: arrival)
            }
            i += TS.packetSize
        }
    }

    /// Forgets the unit being assembled and every continuity_counter: the input lost data (a ring
    /// overrun, a restarted writer). PAT/PMT and `newest` are kept.
    public mutating func discontinuity() {
        unit = nil
        continuity.reset()
    }

    private mutating func packet(_ packet: TSPacket, arrival: Int64) {
        let pid = packet.pid
        if pid == PID.pat {
            if let m = packet.firstProgramMapPID { pmtPID = m }
            return
        }
        if let m = pmtPID, pid == m {
            if let streams = packet.programMapStreams { readPMT(streams) }
            return
        }
        guard case .stream(_, let videoPID) = video, pid == videoPID else { return }
        let verdict = continuity.check(packet)
        if packet.transportError || verdict == .error { return drop() }
        if verdict == .duplicate || !packet.hasPayload { return }
        let payload = packet.payload
        if packet.payloadUnitStart {
            complete()
            start(payload, arrival: arrival)
        } else if unit != nil {
            append(payload)
        }
    }

    private mutating func readPMT(_ streams: [TSPacket.ElementaryStream]) {
        let next: Video
        if let v = streams.first(where: { StreamType.isVideo($0.streamType) }) {
            next =
                StreamType.hasNALRandomAccess(v.streamType)
                ? .stream(streamType: v.streamType, pid: v.pid) : .unsupported(streamType: v.streamType, pid: v.pid)
        } else {
            next = .none(streamTypes: streams.map(\.streamType))
        }
        if next != video {
            video = next
            unit = nil
        }
    }

    /// A PES start: its header checked and read, the unit begun with the bytes after it.
    private mutating func start(_ p: UnsafeRawBufferPointer, arrival: Int64) {
        unit = nil
        guard p.count >= Self.pesFixedHeader, p[0] == 0, p[1] == 0, p[2] == 1 else { return drop() }
        let headerEnd = Self.pesFixedHeader + Int(p[Self.pesFixedHeader - 1])
        guard headerEnd <= p.count else { return drop() }
        unitPTS = nil
        if p[7] & Self.ptsFlag != 0, headerEnd >= Self.pesFixedHeader + Self.timestampBytes {
            unitPTS = PESHeader.readTimestamp(p, at: Self.pesFixedHeader)
        }
        let length = Int(p[4]) << 8 | Int(p[5])
        unitExpected = 0
        if length > 0 {
            unitExpected = length - (headerEnd - Self.pesLengthOffset)
            guard unitExpected > 0 else { return drop() }
        }
        unitArrival = arrival
        unit = []
        append(UnsafeRawBufferPointer(rebasing: p[headerEnd...]))
    }

    private mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let count = unit?.count else { return }
        let take = unitExpected > 0 ? min(bytes.count, unitExpected - count) : bytes.count
        guard count + take <= Self.maxUnitBytes else { return drop() }
        unit?.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<take]))
        if unitExpected > 0, count + take >= unitExpected { complete() }
    }

    /// The unit is whole: kept when it is a keyframe.
    private mutating func complete() {
        guard let bytes = unit, !bytes.isEmpty, case .stream(let type, _) = video else {
            unit = nil
            return
        }
        unit = nil
        units &+= 1
        let codec = type == StreamType.hevc ? "hevc" : "h264"
        guard bytes.withUnsafeBytes({ CodedKeyframe.isKeyframe($0, codec: codec) }) else { return }
        keyframes &+= 1
        newest = Keyframe(bytes: bytes, pts: unitPTS, arrival: unitArrival, streamType: type)
    }

    private mutating func drop() {
        if unit != nil { droppedUnits &+= 1 }
        unit = nil
    }
}
