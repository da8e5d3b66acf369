import MediaTime

/// The limits ETSI TR 101 290 V1.4.1 §5.2 sets (Tables 5.0a–5.0c), each with its clause.
public enum TR101290 {
    /// 1.1 TS_sync_loss: correct sync bytes in a row that acquire sync (§5.2.1, after ISO/IEC 13818-1 G.1).
    public static let syncAcquireCount = 5
    /// 1.1 TS_sync_loss: corrupted sync bytes in a row that lose sync (§5.2.1: "two or more").
    public static let syncLossCount = 2
    /// 1.3 PAT_error / 1.3.a PAT_error_2: a PAT (table_id 0x00 on PID 0) at least every 0.5 s (§5.2.1).
    public static let maxPATInterval: Int64 = 500 * MediaTime.millisecond
    /// 1.5 PMT_error / 1.5.a PMT_error_2: a PMT on each program_map_PID at least every 0.5 s (§5.2.1).
    public static let maxPMTInterval: Int64 = 500 * MediaTime.millisecond
    /// 1.6 PID_error: "a user specified period" (§5.2.1); this is the default.
    public static let defaultPIDPeriod: Int64 = 1_000 * MediaTime.millisecond
    /// 2.3.a PCR_repetition_error: PCRs at most 40 ms apart in DVB (§5.2.2, ETSI TS 101 154 §4.1.5;
    /// ISO/IEC 13818-1 allows 100 ms).
    public static let maxPCRInterval: Int64 = 40 * MediaTime.millisecond
    /// 2.3.b PCR_discontinuity_indicator_error: PCR(i+1) − PCR(i) outside 0…100 ms without the
    /// discontinuity_indicator (§5.2.2).
    public static let maxPCRDiscontinuity: Int64 = 100 * MediaTime.millisecond
    /// 2.4 PCR_accuracy_error: PCR accuracy within ±500 ns (§5.2.2, ISO/IEC 13818-1 §2.4.2.2).
    public static let pcrAccuracy: Int64 = 500
    /// 2.5 PTS_error: PTS repetition period at most 700 ms (§5.2.2).
    public static let maxPTSInterval: Int64 = 700 * MediaTime.millisecond
    /// 3.2 SI_repetition_error: sections of one table at least 25 ms apart (§5.2.3, EN 300 468 §5.1.4).
    public static let minSIInterval: Int64 = 25 * MediaTime.millisecond
    /// 3.2 SI_repetition_error: NIT actual at least every 10 s (§5.2.3, TS 101 211 §4.4.1).
    public static let maxNITInterval: Int64 = 10_000 * MediaTime.millisecond
    /// 3.2 SI_repetition_error: SDT actual at least every 2 s (§5.2.3, TS 101 211 §4.4.1).
    public static let maxSDTInterval: Int64 = 2_000 * MediaTime.millisecond
    /// 3.2 SI_repetition_error: EIT present/following actual at least every 2 s (§5.2.3).
    public static let maxEITInterval: Int64 = 2_000 * MediaTime.millisecond
    /// 3.2 SI_repetition_error: TDT at least every 30 s (§5.2.3).
    public static let maxTDTInterval: Int64 = 30_000 * MediaTime.millisecond
    /// 3.4 Unreferenced_PID: a PID must be referred to by a PMT within 0.5 s (§5.2.3).
    public static let maxUnreferencedTime: Int64 = 500 * MediaTime.millisecond
}

extension TR101290Analyzer {
    /// One TR 101 290 indicator (§5.2, Tables 5.0a–5.0c).
    public enum Indicator: Int, CaseIterable, Sendable {
        /// 1.1 TS_sync_loss: two or more corrupted sync bytes in a row after sync was acquired.
        case tsSyncLoss
        /// 1.2 Sync_byte_error: a sync_byte not equal to 0x47.
        case syncByteError
        /// 1.3 PAT_error: no PAT on PID 0 for 0.5 s, or PID 0 scrambled.
        case patError
        /// 1.3.a PAT_error_2: as 1.3, and any section with table_id other than 0x00 on PID 0.
        case patError2
        /// 1.4 Continuity_count_error: lost, reordered or thrice-sent packets (ISO/IEC 13818-1 §2.4.3.3).
        case continuityCountError
        /// 1.5 PMT_error: no PMT on a program_map_PID of the PAT for 0.5 s, or the PID scrambled.
        case pmtError
        /// 1.5.a PMT_error_2: the same, for each program_map_PID referred to in the PAT.
        case pmtError2
        /// 1.6 PID_error: a PID referred to by a PMT does not occur for the configured period.
        case pidError
        /// 2.1 Transport_error: transport_error_indicator set.
        case transportError
        /// 2.2 CRC_error: a PAT, CAT, PMT, NIT, SDT, EIT, BAT or TOT section fails its CRC_32.
        case crcError
        /// 2.3.a PCR_repetition_error: PCRs of a programme more than 40 ms apart.
        case pcrRepetitionError
        /// 2.3.b PCR_discontinuity_indicator_error: a PCR step outside 0…100 ms without the flag.
        case pcrDiscontinuityIndicatorError
        /// 2.4 PCR_accuracy_error: a PCR off by more than ±500 ns (CBR streams only).
        case pcrAccuracyError
        /// 2.5 PTS_error: PTS of an elementary stream more than 700 ms apart.
        case ptsError
        /// 2.6 CAT_error: scrambled packets without a CAT, or another table on PID 1.
        case catError
        /// 3.2 SI_repetition_error: SDT, NIT, EIT p/f or TDT repeated too slowly or too fast.
        case siRepetitionError
        /// 3.4 Unreferenced_PID: a PID not referred to by a PMT within 0.5 s.
        case unreferencedPID

        /// The clause number in TR 101 290 §5.2: "1.3.a", "2.3.b"…
        public var clause: String {
            switch self {
            case .tsSyncLoss: "1.1"
            case .syncByteError: "1.2"
            case .patError: "1.3"
            case .patError2: "1.3.a"
            case .continuityCountError: "1.4"
            case .pmtError: "1.5"
            case .pmtError2: "1.5.a"
            case .pidError: "1.6"
            case .transportError: "2.1"
            case .crcError: "2.2"
            case .pcrRepetitionError: "2.3.a"
            case .pcrDiscontinuityIndicatorError: "2.3.b"
            case .pcrAccuracyError: "2.4"
            case .ptsError: "2.5"
            case .catError: "2.6"
            case .siRepetitionError: "3.2"
            case .unreferencedPID: "3.4"
            }
        }

        /// The indicator's name as the standard writes it: "TS_sync_loss", "PAT_error_2"…
        public var name: String {
            switch self {
            case .tsSyncLoss: "TS_sync_loss"
            case .syncByteError: "Sync_byte_error"
            case .patError: "PAT_error"
            case .patError2: "PAT_error_2"
            case .continuityCountError: "Continuity_count_error"
            case .pmtError: "PMT_error"
            case .pmtError2: "PMT_error_2"
            case .pidError: "PID_error"
            case .transportError: "Transport_error"
            case .crcError: "CRC_error"
            case .pcrRepetitionError: "PCR_repetition_error"
            case .pcrDiscontinuityIndicatorError: "PCR_discontinuity_indicator_error"
            case .pcrAccuracyError: "PCR_accuracy_error"
            case .ptsError: "PTS_error"
            case .catError: "CAT_error"
            case .siRepetitionError: "SI_repetition_error"
            case .unreferencedPID: "Unreferenced_PID"
            }
        }

        /// 1, 2 or 3 (§5.2.1 first priority: decodability; §5.2.2 second; §5.2.3 third).
        public var priority: Int {
            switch self {
            case .tsSyncLoss, .syncByteError, .patError, .patError2, .continuityCountError, .pmtError, .pmtError2,
                .pidError:
                1
            case .siRepetitionError, .unreferencedPID: 3
            default: 2
            }
        }
    }

    /// What one indicator has seen. Times are on the analyzer's clock (ns): arrival time when the
    /// packets were stamped, else stream time from the PCRs and byte position (0 at the first PCR).
    public struct IndicatorStatus: Sendable, Equatable {
        /// Errors since the analyzer started.
        public var count: Int64 = 0
        /// Time of the first error, ns.
        public var firstNs: Int64?
        /// Time of the last error, ns.
        public var lastNs: Int64?
        /// PID of the last error (nil when it concerns no PID, e.g. sync).
        public var lastPID: UInt16?
        /// Raised on an error, cleared after `Configuration.alarmQuietTime` without one.
        public var alarm = false
    }

    /// An alarm raised or cleared: what a caller turns into an event (e.g. `TR101290_ALARM`).
    public struct AlarmTransition: Sendable, Equatable {
        /// The indicator.
        public var indicator: Indicator
        /// true when raised (first error after a quiet spell), false when cleared.
        public var raised: Bool
        /// When, ns on the analyzer's clock.
        public var atNs: Int64
        /// The PID of the error that raised it (or of the last error when cleared), if any.
        public var pid: UInt16?
        /// The indicator's error count at that moment.
        public var count: Int64
    }

    /// Whether 2.4 PCR_accuracy applies to the stream: it is measured against byte position, so
    /// only a constant-rate (CBR) stream can be judged.
    public enum PCRAccuracyApplicability: Sendable, Equatable {
        /// Not enough PCRs yet (about 32 intervals and 0.5 s are needed).
        case unknown
        /// The PCRs follow the byte position at a constant rate: 2.4 is measured.
        case cbr
        /// The rate varies: 2.4 is not applicable.
        case vbr
    }

    /// The analyzer's settings.
    public struct Configuration: Sendable, Equatable {
        /// 1.6 PID_error: how long a PID referred to by a PMT may be absent, ns.
        public var pidPeriod: Int64 = TR101290.defaultPIDPeriod
        /// 2.3.a: the longest PCR interval, ns (DVB 40 ms; 100 ms for plain ISO/IEC 13818-1 streams).
        public var maxPCRInterval: Int64 = TR101290.maxPCRInterval
        /// An alarm clears after this long without an error of its indicator, ns.
        public var alarmQuietTime: Int64 = 5_000 * MediaTime.millisecond
        /// Defaults: DVB limits, 1 s PID period, 5 s quiet time.
        public init() {}
    }
}
