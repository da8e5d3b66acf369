/// CRC-32/MPEG-2 over PSI sections, ISO/IEC 13818-1 Annex A: polynomial 0x04C11DB7, initial value
/// 0xFFFFFFFF, no reflection, no final XOR. A section including its CRC checks to 0.
public enum CRC32MPEG2 {
    private static let table: [UInt32] = (0..<256).map { i in
        var c = UInt32(i) << 24
        for _ in 0..<8 { c = (c & 0x8000_0000) != 0 ? (c << 1) ^ 0x04C1_1DB7 : c << 1 }
        return c
    }

    /// The register's value before the first byte.
    public static let initial: UInt32 = 0xFFFF_FFFF

    /// The CRC register after one more byte (start from `initial`): for sections that arrive in pieces.
    @inline(__always) public static func update(_ crc: UInt32, byte: UInt8) -> UInt32 {
        (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 24) ^ byte)]
    }

    /// The CRC of `bytes`.
    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes { crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 24) ^ b)] }
        return crc
    }
}
