/// SMPTE ST 2022-1 matrix: L columns × D rows of media RTP packets. Column FEC (level A) protects
/// each column (D packets spaced L apart), row FEC (level B adds it) each row of L consecutive
/// packets. Limits as SMPTE 2022-1 §8 sets them (and FFmpeg's prompeg, MistServer and AWS
/// MediaLive enforce): L 1–20, or 4–20 with row FEC; D 4–20; L × D ≤ 100.
public struct FECParameters: Sendable, Equatable, CustomStringConvertible {
    /// L: packets per row (the column FEC's offset).
    public var columns: Int
    /// D: packets per column (rows of the matrix).
    public var rows: Int
    /// Level B (column + row) rather than A (column only).
    public var rowFEC: Bool

    /// L without row FEC (level A): 1…20 (SMPTE 2022-1 §8).
    public static let columnRange = 1...20
    /// L with row FEC (level B): 4…20 (SMPTE 2022-1 §8).
    public static let columnRangeWithRows = 4...20
    /// D: 4…20 (SMPTE 2022-1 §8).
    public static let rowRange = 4...20
    /// Largest L × D (SMPTE 2022-1 §8).
    public static let maxMatrix = 100
    /// Column FEC travels on the media port + 2, row FEC on + 4 (SMPTE 2022-1 §7).
    public static let columnPortOffset: UInt16 = 2
    /// Row FEC port offset from the media port (SMPTE 2022-1 §7).
    public static let rowPortOffset: UInt16 = 4
    /// The FEC streams' RTP payload type (dynamic; what FFmpeg and GStreamer send and expect).
    public static let payloadType: UInt8 = 96

    /// Checks the limits; the error names the option at fault ("cols", "rows").
    public init(columns: Int, rows: Int, rowFEC: Bool) throws(FECParameterError) {
        let cols = rowFEC ? Self.columnRangeWithRows : Self.columnRange
        guard cols.contains(columns) else {
            throw FECParameterError(
                option: "cols",
                reason:
                    "L = \(columns) is outside \(cols.lowerBound)…\(cols.upperBound)\(rowFEC ? " (with row FEC)" : "")")
        }
        guard Self.rowRange.contains(rows) else {
            throw FECParameterError(
                option: "rows", reason: "D = \(rows) is outside \(Self.rowRange.lowerBound)…\(Self.rowRange.upperBound)"
            )
        }
        guard columns * rows <= Self.maxMatrix else {
            throw FECParameterError(
                option: "cols", reason: "L × D = \(columns) × \(rows) = \(columns * rows) exceeds \(Self.maxMatrix)")
        }
        self.columns = columns
        self.rows = rows
        self.rowFEC = rowFEC
    }

    /// Media packets per matrix.
    public var matrix: Int { columns * rows }

    /// "2022-1 L×D level A|B".
    public var description: String { "2022-1 \(columns)×\(rows) level \(rowFEC ? "B" : "A")" }
}

/// FEC settings out of range; `option` names the URL option.
public struct FECParameterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL option at fault ("cols", "rows").
    public var option: String
    /// What is out of range, with the value and the limits.
    public var reason: String
    /// "option: reason".
    public var description: String { "\(option): \(reason)" }
}
