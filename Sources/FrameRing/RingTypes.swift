import CRillShims
import Runtime

/// What a ring carries; stored in the header so tools and readers can check they opened the right one.
public enum TrackKind: UInt32, Sendable, CustomStringConvertible {
    case rawVideo = 1, rawAudio = 2, codedVideo = 3, codedAudio = 4, transportStream = 5

    /// The name tools print (`raw-video`, `coded-audio`, `ts`, …).
    public var description: String {
        switch self {
        case .rawVideo: "raw-video"
        case .rawAudio: "raw-audio"
        case .codedVideo: "coded-video"
        case .codedAudio: "coded-audio"
        case .transportStream: "ts"
        }
    }
}

/// Codec of a ring's records.
public enum RingCodec: UInt32, Sendable {
    case none = 0, i420 = 1, nv12 = 2, yuyv = 3, pcmS16 = 10, pcmS32 = 11, h264 = 20, hevc = 21, fwht = 22, aac = 30,
        mp2 = 31, opus = 32, s302m = 33, mpegts = 40
}

/// Record flags (rill_slot_header.flags).
public struct RecordFlags: OptionSet, Sendable {
    /// The bits as stored in rill_slot_header.flags.
    public let rawValue: UInt32
    /// Flags from the bits of rill_slot_header.flags.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// A random-access point (IDR).
    public static let keyframe = RecordFlags(rawValue: 1 << 0)
    /// Timing or continuity breaks before this record (writer restart, source change).
    public static let discontinuity = RecordFlags(rawValue: 1 << 1)
    /// The track format (geometry, codec config) changed with this record.
    public static let formatChange = RecordFlags(rawValue: 1 << 2)
    /// Substitute content (slate, silence) while the real source is missing.
    public static let substitute = RecordFlags(rawValue: 1 << 3)
}

/// The format of a track, stored in the ring header.
public struct TrackFormat: Sendable, Equatable {
    /// Codec of the track's records (`.none` until set).
    public var codec: RingCodec = .none
    /// Video: picture width, pixels; 0 otherwise.
    public var width: UInt32 = 0
    /// Video: picture height, pixels; 0 otherwise.
    public var height: UInt32 = 0
    /// Video: frame rate numerator (fps = numerator / denominator); 0 otherwise.
    public var fpsNumerator: UInt32 = 0
    /// Video: frame rate denominator; 0 otherwise.
    public var fpsDenominator: UInt32 = 0
    /// Audio: sample rate, Hz; 0 otherwise.
    public var sampleRate: UInt32 = 0
    /// Audio: channel count; 0 otherwise.
    public var channels: UInt32 = 0
    /// Audio: bits per sample (16 for `.pcmS16`); 0 otherwise.
    public var bitsPerSample: UInt32 = 0
    /// Bits/s for coded tracks.
    public var bitrate: UInt32 = 0
    /// Codec configuration (SPS/PPS, AudioSpecificConfig), ≤ 1024 bytes.
    public var config: [UInt8] = []

    /// A format; the fields not given stay 0 (empty `config`).
    public init(
        codec: RingCodec = .none, width: UInt32 = 0, height: UInt32 = 0, fpsNumerator: UInt32 = 0,
        fpsDenominator: UInt32 = 0, sampleRate: UInt32 = 0, channels: UInt32 = 0, bitsPerSample: UInt32 = 0,
        bitrate: UInt32 = 0, config: [UInt8] = []
    ) {
        self.codec = codec
        self.width = width
        self.height = height
        self.fpsNumerator = fpsNumerator
        self.fpsDenominator = fpsDenominator
        self.sampleRate = sampleRate
        self.channels = channels
        self.bitsPerSample = bitsPerSample
        self.bitrate = bitrate
        self.config = config
    }
}

/// The fixed-width fields of one record.
public struct RecordInfo: Sendable {
    /// Index of the record since the ring was created (never wraps in practice: UInt64).
    public var index: UInt64 = 0
    /// Payload bytes.
    public var length: Int = 0
    /// Keyframe, discontinuity, format-change and substitute marks (rill_slot_header.flags).
    public var flags: RecordFlags = []
    /// Presentation time (for TS chunks: the send deadline), CLOCK_MONOTONIC ns.
    public var pts: Int64 = 0
    /// Decode time, ns (= pts unless reordered).
    public var dts: Int64 = 0
    /// Capture time of the oldest media in the record, ns (0 = none).
    public var captureTime: Int64 = 0
    /// Raw video: width/height; audio: 0.
    public var width: UInt32 = 0
    /// Raw video: height, pixels; audio: 0.
    public var height: UInt32 = 0
    /// Raw video: RingCodec of the pixels; audio: sample frames in the record.
    public var aux0: UInt32 = 0
    /// Spare field (rill_slot_header.aux1), stored and read back as is; no stage sets it.
    public var aux1: UInt32 = 0
    /// When the previous stage finished with it (encoder output time), ns; 0 = unknown.
    public var stageTime: Int64 = 0

    /// A record's fields; `dts` defaults to `pts`, `index` stays 0 (the reader sets it).
    public init(
        length: Int = 0, flags: RecordFlags = [], pts: Int64 = 0, dts: Int64? = nil, captureTime: Int64 = 0,
        width: UInt32 = 0, height: UInt32 = 0, aux0: UInt32 = 0, aux1: UInt32 = 0, stageTime: Int64 = 0
    ) {
        self.stageTime = stageTime
        self.length = length
        self.flags = flags
        self.pts = pts
        self.dts = dts ?? pts
        self.captureTime = captureTime
        self.width = width
        self.height = height
        self.aux0 = aux0
        self.aux1 = aux1
    }
}

/// Why a ring could not be used.
public enum RingError: Error, CustomStringConvertible, Sendable {
    /// No shm object of that name.
    case notFound(name: String)
    /// The object exists but is not a Rill ring of this layout (wrong magic, version, sizes).
    case foreign(name: String, reason: String)
    /// A record larger than the slot (`length` bytes; `slotBytes` is the ring's payload capacity),
    /// or a negative length returned by a `publish` fill closure. Nothing was published.
    case recordTooLarge(name: String, length: Int, slotBytes: Int)
    /// The track format's seqlock stayed odd (`sequence`) for `waitedNs` ns: the writer died inside
    /// `setFormat`. Treated as a dead writer; the next writer that takes the ring over clears it.
    case writerDiedInFormat(name: String, sequence: UInt32, waitedNs: Int64)
    /// A ring geometry that does not fit this platform's address space (slot count × stride).
    case geometryTooLarge(name: String, slotCount: UInt32, slotBytes: UInt32)
    /// A system call failed.
    case system(SystemError)

    /// One line naming the ring and what is wrong with it, for the log.
    public var description: String {
        switch self {
        case .notFound(let name): "ring \(name): no such shared-memory object"
        case .foreign(let name, let reason): "ring \(name): not a Rill ring of layout \(RILL_RING_VERSION): \(reason)"
        case .recordTooLarge(let name, let length, let slotBytes):
            length < 0
                ? "ring \(name): invalid record length \(length) (slot size \(slotBytes))"
                : "ring \(name): record of \(length) bytes exceeds slot size \(slotBytes); not published"
        case .writerDiedInFormat(let name, let sequence, let waitedNs):
            "ring \(name): the writer died inside setFormat (format sequence \(sequence) odd for \(waitedNs / 1_000_000) ms); treated as a dead writer"
        case .geometryTooLarge(let name, let slotCount, let slotBytes):
            "ring \(name): \(slotCount) slots of \(slotBytes) bytes exceed this platform's address space"
        case .system(let e): e.description
        }
    }
}
