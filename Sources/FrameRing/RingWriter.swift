import Atomics
import CRillShims
import Runtime

#if canImport(Glibc)
import Glibc
#endif

/// The one writer of a ring. Creates the shm object (or takes over an existing one of the same
/// geometry, starting a new generation that readers follow), publishes records under a per-slot
/// seqlock and wakes every waiting reader through the futex on the header's wake word.
/// A writer never waits for a reader.
///
/// Not thread-safe: one thread of one process writes (`@unchecked Sendable` only so it can be
/// handed to that thread; the invariant is single ownership).
public final class RingWriter: @unchecked Sendable {
    /// The mapped ring.
    public let ring: SharedRing
    private var next: UInt64

    /// Opens `name` for writing with `slotCount` slots of `slotBytes` payload bytes.
    /// An existing ring with the same geometry and kind is taken over (generation + 1, the first
    /// record flagged as a discontinuity); one with another geometry is replaced.
    public init(name: String, kind: TrackKind, slotCount: UInt32, slotBytes: UInt32) throws {
        if let existing = try? SharedRing.open(name: name),
            existing.slotCount == slotCount, existing.slotBytes == slotBytes, existing.kind == kind
        {
            ring = existing
            next = existing.published.load(ordering: .acquiring)
        } else {
            SharedRing.unlink(name: name)
            ring = try Self.create(name: name, kind: kind, slotCount: slotCount, slotBytes: slotBytes)
            next = 0
        }
        ring.writerPID.store(UInt32(getpid()), ordering: .relaxed)
        ring.heartbeat.store(MonotonicClock.now(), ordering: .releasing)
        // A previous writer that died inside setFormat left the format seqlock odd and the fields
        // half-written: clear them (as before any setFormat) and make the sequence even again.
        let formatSeq = ring.formatSeq.load(ordering: .relaxed)
        if formatSeq & 1 == 1 {
            Self.clearFormat(ring)
            ring.formatSeq.store(formatSeq &+ 1, ordering: .releasing)
        }
        ring.generationAtomic.wrappingIncrement(ordering: .sequentiallyConsistent)
        pendingDiscontinuity = next > 0
        wakeReaders()
    }

    private var pendingDiscontinuity: Bool

    private static func create(name: String, kind: TrackKind, slotCount: UInt32, slotBytes: UInt32) throws -> SharedRing
    {
        let fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0o660)
        guard fd >= 0 else { throw RingError.system(SystemError("shm_open", name)) }
        defer { close(fd) }
        guard let (stride, total) = SharedRing.size(slotCount: slotCount, slotBytes: slotBytes) else {
            shm_unlink(name)
            throw RingError.geometryTooLarge(name: name, slotCount: slotCount, slotBytes: slotBytes)
        }
        guard ftruncate(fd, off_t(total)) == 0 else {
            let e = SystemError("ftruncate", name)
            shm_unlink(name)
            throw RingError.system(e)
        }
        guard let p = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            let e = SystemError("mmap", name)
            shm_unlink(name)
            throw RingError.system(e)
        }
        // Fresh objects are zero-filled: only the geometry needs writing; magic goes last so a
        // reader never sees a half-initialised header as valid.
        p.storeBytes(of: RILL_RING_VERSION, toByteOffset: Int(RILL_OFF_VERSION), as: UInt32.self)
        p.storeBytes(of: UInt32(SharedRing.headerBytes), toByteOffset: Int(RILL_OFF_HEADER_BYTES), as: UInt32.self)
        p.storeBytes(of: slotCount, toByteOffset: Int(RILL_OFF_SLOT_COUNT), as: UInt32.self)
        p.storeBytes(of: slotBytes, toByteOffset: Int(RILL_OFF_SLOT_BYTES), as: UInt32.self)
        p.storeBytes(of: UInt32(stride), toByteOffset: Int(RILL_OFF_SLOT_STRIDE), as: UInt32.self)
        p.storeBytes(of: kind.rawValue, toByteOffset: Int(RILL_OFF_KIND), as: UInt32.self)
        atomicMemoryFence(ordering: .releasing)
        p.storeBytes(of: RILL_RING_MAGIC, toByteOffset: Int(RILL_OFF_MAGIC), as: UInt64.self)
        return try SharedRing(name: name, base: p, mappedBytes: total, inode: 0)
    }

    /// Zeroes the format fields and the codec configuration (the state of a fresh ring).
    private static func clearFormat(_ ring: SharedRing) {
        (ring.base + Int(RILL_OFF_CODEC)).initializeMemory(
            as: UInt8.self, repeating: 0, count: Int(RILL_OFF_FORMAT_SEQ) - Int(RILL_OFF_CODEC))
        ring.base.storeBytes(of: 0, toByteOffset: Int(RILL_OFF_CONFIG_BYTES), as: UInt32.self)
        (ring.base + Int(RILL_OFF_CONFIG)).initializeMemory(
            as: UInt8.self, repeating: 0, count: Int(RILL_RING_CONFIG_BYTES))
    }

    /// Sets the track format (codec, geometry, codec configuration) under the header's seqlock.
    public func setFormat(_ f: TrackFormat) {
        let b = ring.base
        let s = ring.formatSeq.load(ordering: .relaxed)
        ring.formatSeq.store(s & 1 == 1 ? s &+ 2 : s &+ 1, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        func put(_ v: UInt32, _ o: Int) { b.storeBytes(of: v, toByteOffset: Int(o), as: UInt32.self) }
        put(f.codec.rawValue, RILL_OFF_CODEC)
        put(f.width, RILL_OFF_WIDTH)
        put(f.height, RILL_OFF_HEIGHT)
        put(f.fpsNumerator, RILL_OFF_FPS_NUM)
        put(f.fpsDenominator, RILL_OFF_FPS_DEN)
        put(f.sampleRate, RILL_OFF_SAMPLE_RATE)
        put(f.channels, RILL_OFF_CHANNELS)
        put(f.bitsPerSample, RILL_OFF_BITS)
        put(f.bitrate, RILL_OFF_BITRATE)
        let n = min(f.config.count, Int(RILL_RING_CONFIG_BYTES))
        put(UInt32(n), RILL_OFF_CONFIG_BYTES)
        f.config.withUnsafeBytes { src in
            if n > 0, let from = src.baseAddress { (b + Int(RILL_OFF_CONFIG)).copyMemory(from: from, byteCount: n) }
        }
        let odd = ring.formatSeq.load(ordering: .relaxed)
        ring.formatSeq.store(odd &+ 1, ordering: .releasing)
    }

    /// Payload capacity of a slot, bytes.
    public var slotBytes: Int { Int(ring.slotBytes) }

    /// Publishes one record: `fill` writes the payload into the slot (capacity `slotBytes`) and
    /// returns the byte count; `info` supplies the fixed fields. Wakes every waiting reader.
    ///
    /// A count larger than the slot (or negative) is refused with `RingError.recordTooLarge`
    /// naming the ring, the length and the slot size, and nothing is published (readers never see a
    /// silently truncated record). Neither is anything published when `fill` throws. In both cases
    /// the slot's sequence stays odd: a lagging reader still on the record that slot held sees it
    /// was overwritten and reports a loss; the next `publish` rewrites the same slot.
    @discardableResult
    public func publish(_ info: RecordInfo, fill: (UnsafeMutableRawBufferPointer) throws -> Int) throws -> UInt64 {
        let n = next
        let slot = ring.slot(n)
        let seq = ring.slotSeq(slot)
        seq.store(2 * n + 1, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        let payload = UnsafeMutableRawBufferPointer(
            start: slot + SharedRing.slotHeaderBytes, count: Int(ring.slotBytes))
        let length = try fill(payload)
        guard length >= 0, length <= payload.count else {
            refusedRecords &+= 1
            throw RingError.recordTooLarge(name: ring.name, length: length, slotBytes: payload.count)
        }
        var flags = info.flags
        if pendingDiscontinuity {
            flags.insert(.discontinuity)
            pendingDiscontinuity = false
        }
        // 0 ≤ length ≤ slotBytes (a UInt32): checked above, the conversion cannot trap.
        slot.storeBytes(of: UInt32(length), toByteOffset: Int(RILL_OFF_SLOT_LENGTH), as: UInt32.self)
        slot.storeBytes(of: flags.rawValue, toByteOffset: Int(RILL_OFF_SLOT_FLAGS), as: UInt32.self)
        slot.storeBytes(of: info.pts, toByteOffset: Int(RILL_OFF_SLOT_PTS), as: Int64.self)
        slot.storeBytes(of: info.dts, toByteOffset: Int(RILL_OFF_SLOT_DTS), as: Int64.self)
        slot.storeBytes(of: info.captureTime, toByteOffset: Int(RILL_OFF_SLOT_CAPTURE), as: Int64.self)
        slot.storeBytes(of: info.width, toByteOffset: Int(RILL_OFF_SLOT_WIDTH), as: UInt32.self)
        slot.storeBytes(of: info.height, toByteOffset: Int(RILL_OFF_SLOT_HEIGHT), as: UInt32.self)
        slot.storeBytes(of: info.aux0, toByteOffset: Int(RILL_OFF_SLOT_AUX0), as: UInt32.self)
        slot.storeBytes(of: info.aux1, toByteOffset: Int(RILL_OFF_SLOT_AUX1), as: UInt32.self)
        slot.storeBytes(of: info.stageTime, toByteOffset: Int(RILL_OFF_SLOT_STAGE), as: Int64.self)
        seq.store(2 * n + 2, ordering: .releasing)
        next = n + 1
        ring.published.store(next, ordering: .releasing)
        ring.heartbeat.store(MonotonicClock.now(), ordering: .relaxed)
        wakeReaders()
        return n
    }

    /// Records refused since open (longer than the slot, or a negative length).
    public private(set) var refusedRecords: UInt64 = 0

    /// `publish(_:fill:)` for stage loops that carry on past a refused record (a capture or mux
    /// loop must not stop for one bad frame): the refusal — which names the ring, the record length
    /// and the slot size — is logged on `log` (the first, then every 1000th, with the count) and
    /// counted in `refusedRecords`; returns nil then. Allocates nothing unless it logs.
    @discardableResult
    public func publish(_ info: RecordInfo, log: Log, fill: (UnsafeMutableRawBufferPointer) -> Int) -> UInt64? {
        do {
            return try publish(info, fill: fill)
        } catch {
            // `fill` cannot throw here: the error is a refusal, already counted.
            if refusedRecords % 1000 == 1 { log.error("\(error) (\(refusedRecords) refused so far)") }
            return nil
        }
    }

    /// Publishes a copy of `bytes`.
    @discardableResult
    public func publish(_ info: RecordInfo, bytes: UnsafeRawBufferPointer) throws -> UInt64 {
        guard bytes.count <= slotBytes else {
            throw RingError.recordTooLarge(name: ring.name, length: bytes.count, slotBytes: slotBytes)
        }
        return try publish(info) { out in
            if let src = bytes.baseAddress, bytes.count > 0 {
                out.baseAddress!.copyMemory(from: src, byteCount: bytes.count)
            }
            return bytes.count
        }
    }

    /// Tells readers the writer is alive while it has nothing to publish. Call at least every
    /// 100 ms (readers declare a writer gone after `RingReader.writerTimeout`).
    public func beat() {
        ring.heartbeat.store(MonotonicClock.now(), ordering: .releasing)
    }

    /// Bumps the futex word and wakes waiters only if some reader is sleeping on it.
    private func wakeReaders() {
        ring.wake.wrappingIncrement(ordering: .sequentiallyConsistent)
        if ring.waiters.load(ordering: .sequentiallyConsistent) > 0 {
            _ = rill_futex_wake_all(ring.wakeWord)
        }
    }
}
