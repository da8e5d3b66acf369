/// The 16-byte FEC header that follows the FEC packet's RTP header (SMPTE ST 2022-1 §8.1, the
/// RFC 2733 header with the 2022-1 extension word).
///
///     SNBase low 16 | Length recovery 16 | E 1 | PT recovery 7 | Mask 24 | TS recovery 32 |
///     N 1 | D 1 | Type 3 | Index 3 | Offset 8 | NA 8 | SNBase ext 8
public struct FECHeader: Sendable, Equatable {
    /// Header size, bytes (12 RFC 2733 bytes + the 4-byte 2022-1 extension).
    public static let size = 16
    /// Type 0: XOR parity, the only kind 2022-1 defines.
    public static let typeXOR: UInt8 = 0

    /// Sequence number of the first media packet protected.
    public var snBase: UInt16
    /// XOR of the protected packets' payload lengths.
    public var lengthRecovery: UInt16
    /// XOR of their payload types.
    public var ptRecovery: UInt8
    /// XOR of their timestamps.
    public var tsRecovery: UInt32
    /// D bit: a row FEC packet (true) or a column one.
    public var isRow: Bool
    /// Spacing of the protected packets: L for a column, 1 for a row.
    public var offset: UInt8
    /// NA: how many packets are protected: D for a column, L for a row.
    public var count: UInt8

    /// A header with these fields; `write` adds E = 1 and mask, N, index and SNBase ext = 0.
    public init(
        snBase: UInt16, lengthRecovery: UInt16, ptRecovery: UInt8, tsRecovery: UInt32, isRow: Bool, offset: UInt8,
        count: UInt8
    ) {
        self.snBase = snBase
        self.lengthRecovery = lengthRecovery
        self.ptRecovery = ptRecovery
        self.tsRecovery = tsRecovery
        self.isRow = isRow
        self.offset = offset
        self.count = count
    }

    /// Writes the 16 bytes into the start of `out` (network byte order).
    public func write(into out: UnsafeMutableRawBufferPointer) {
        out[0] = UInt8(snBase >> 8)
        out[1] = UInt8(snBase & 0xFF)
        out[2] = UInt8(lengthRecovery >> 8)
        out[3] = UInt8(lengthRecovery & 0xFF)
        out[4] = 0x80 | (ptRecovery & 0x7F)  // E = 1: the 2022-1 extension word follows
        out[5] = 0
        out[6] = 0
        out[7] = 0  // mask: 0 in 2022-1
        out[8] = UInt8(tsRecovery >> 24)
        out[9] = UInt8((tsRecovery >> 16) & 0xFF)
        out[10] = UInt8((tsRecovery >> 8) & 0xFF)
        out[11] = UInt8(tsRecovery & 0xFF)
        out[12] = (isRow ? 0x40 : 0) | Self.typeXOR << 3  // N 0, D, type, index 0
        out[13] = offset
        out[14] = count
        out[15] = 0  // SNBase ext: 16-bit sequence numbers
    }

    /// Parses the header at the start of `p` (the FEC packet's RTP payload).
    public static func parse(_ p: UnsafeRawBufferPointer) throws(FECError) -> FECHeader {
        guard p.count >= size else { throw .tooShort(p.count) }
        let type = (p[12] >> 3) & 0x07
        guard type == typeXOR else { throw .unsupportedType(type) }
        let h = FECHeader(
            snBase: UInt16(p[0]) << 8 | UInt16(p[1]), lengthRecovery: UInt16(p[2]) << 8 | UInt16(p[3]),
            ptRecovery: p[4] & 0x7F,
            tsRecovery: UInt32(p[8]) << 24 | UInt32(p[9]) << 16 | UInt32(p[10]) << 8 | UInt32(p[11]),
            isRow: p[12] & 0x40 != 0, offset: p[13], count: p[14])
        guard h.offset > 0, h.count > 0 else { throw .emptyMatrix(offset: h.offset, count: h.count) }
        guard !h.isRow || h.offset == 1 else { throw .rowOffset(h.offset) }
        return h
    }
}

/// Why an FEC packet was refused.
public enum FECError: Error, Sendable, Equatable, CustomStringConvertible {
    case tooShort(Int)
    case unsupportedType(UInt8)
    case emptyMatrix(offset: UInt8, count: UInt8)
    case rowOffset(UInt8)

    /// What was wrong, with the value found.
    public var description: String {
        switch self {
        case .tooShort(let n): "FEC payload of \(n) bytes is shorter than the 16-byte FEC header"
        case .unsupportedType(let t): "FEC type \(t) is not XOR (0), the only type SMPTE 2022-1 defines"
        case .emptyMatrix(let o, let c): "FEC header with offset \(o) and NA \(c) protects nothing"
        case .rowOffset(let o): "row FEC with offset \(o) (must be 1)"
        }
    }
}
