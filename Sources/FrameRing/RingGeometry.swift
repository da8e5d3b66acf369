import CRillShims

/// The geometry of a ring as its header states it, validated before anything is mapped or indexed.
///
/// Every product and sum is formed in `UInt64` with overflow checks and converted with
/// `Int(exactly:)`, so a foreign or corrupt header (a huge slot count or stride, a truncated
/// object) is refused as `RingError.foreign` and never traps — also where `Int` is 32 bits (ARMv7),
/// and where a size that fits the file does not fit the address space.
struct RingGeometry: Equatable {
    /// Number of slots (> 0).
    var slotCount: UInt32
    /// Payload capacity of one slot, bytes.
    var slotBytes: UInt32
    /// Bytes from one slot header to the next (a multiple of `slotAlignment`).
    var slotStride: Int
    /// Header plus every slot, bytes: what has to be mapped.
    var totalBytes: Int
    /// What the ring carries.
    var kind: TrackKind

    /// Slots start on a cache line (the writer rounds the stride up to it; the slot's 64-bit seq
    /// needs at least 8-byte alignment for its atomics).
    static let slotAlignment: UInt64 = 64

    /// The largest mapping the platform can address: `Int.max` (2³¹ − 1 on ARMv7).
    static let platformLimit = UInt64(Int.max)

    /// Reads and checks the header at `header` (`RILL_RING_HEADER_BYTES` readable bytes) of an
    /// object of `objectBytes` bytes. `addressLimit` is the largest byte count that may be mapped
    /// (tests pass `Int32.max` to check the 32-bit path on a 64-bit host).
    static func validate(
        header: UnsafeRawPointer, objectBytes: UInt64, name: String, addressLimit: UInt64 = platformLimit
    ) throws(RingError) -> RingGeometry {
        func foreign(_ reason: String) -> RingError { .foreign(name: name, reason: reason) }
        let headerBytes = UInt64(RILL_RING_HEADER_BYTES)
        guard objectBytes >= headerBytes else {
            throw foreign("object is \(objectBytes) bytes, smaller than a \(headerBytes)-byte header")
        }
        func u32(_ offset: Int) -> UInt32 { header.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
        let magic = header.loadUnaligned(fromByteOffset: Int(RILL_OFF_MAGIC), as: UInt64.self)
        guard magic == RILL_RING_MAGIC else { throw foreign("bad magic 0x\(String(magic, radix: 16))") }
        let version = u32(Int(RILL_OFF_VERSION))
        guard version == RILL_RING_VERSION else { throw foreign("layout version \(version)") }
        let statedHeader = u32(Int(RILL_OFF_HEADER_BYTES))
        guard UInt64(statedHeader) == headerBytes else { throw foreign("header_bytes \(statedHeader)") }
        let kindRaw = u32(Int(RILL_OFF_KIND))
        guard let kind = TrackKind(rawValue: kindRaw) else { throw foreign("unknown track kind \(kindRaw)") }
        let count = u32(Int(RILL_OFF_SLOT_COUNT))
        let bytes = u32(Int(RILL_OFF_SLOT_BYTES))
        let stride = u32(Int(RILL_OFF_SLOT_STRIDE))
        guard count > 0 else { throw foreign("slot_count 0") }
        // UInt32 + 64 and UInt32 × UInt32 + 4096 cannot overflow UInt64; checked all the same.
        let (needed, o1) = UInt64(bytes).addingReportingOverflow(UInt64(RILL_SLOT_PAYLOAD))
        guard !o1, UInt64(stride) >= needed else {
            throw foreign("slot_stride \(stride) is smaller than the slot header and \(bytes) payload bytes")
        }
        guard UInt64(stride) % slotAlignment == 0 else {
            throw foreign("slot_stride \(stride) is not a multiple of \(slotAlignment)")
        }
        let (slots, o2) = UInt64(count).multipliedReportingOverflow(by: UInt64(stride))
        let (total, o3) = slots.addingReportingOverflow(headerBytes)
        guard !o2, !o3, total <= objectBytes else {
            throw foreign("geometry \(count)×\(stride) needs more than the object's \(objectBytes) bytes")
        }
        guard total <= addressLimit, let totalInt = Int(exactly: total), let strideInt = Int(exactly: stride) else {
            throw foreign("geometry \(count)×\(stride) (\(total) bytes) exceeds this platform's address space")
        }
        return RingGeometry(slotCount: count, slotBytes: bytes, slotStride: strideInt, totalBytes: totalInt, kind: kind)
    }
}
