import Atomics
import CRillShims
import MediaTime
import Runtime

#if canImport(Glibc)
import Glibc
#endif

/// A mapped ring: the shm object, its geometry and typed access to the header fields the C header
/// defines. Shared by `RingWriter` and `RingReader`.
///
/// `@unchecked Sendable`: the mapping is process-shared memory; every field that more than one
/// process or thread writes is accessed only through `UnsafeAtomic` (published, wake, waiters,
/// writer_pid, generation, heartbeat, slot seq, reader entries); the rest is written by the single
/// writer before it publishes (release) and read by readers after an acquire of `published` or of
/// the slot's seq, and validated by the seqlock.
public final class SharedRing: @unchecked Sendable {
    /// The shm name ("/rill.<instance>.<track>").
    public let name: String
    let base: UnsafeMutableRawPointer
    let mappedBytes: Int
    /// Inode of the object, to notice a writer that recreated it.
    let inode: UInt64
    /// Number of slots.
    public let slotCount: UInt32
    /// Payload capacity of one slot, bytes.
    public let slotBytes: UInt32
    let slotStride: Int
    /// What the ring carries.
    public let kind: TrackKind

    static let headerBytes = Int(RILL_RING_HEADER_BYTES)
    static let slotHeaderBytes = Int(RILL_SLOT_PAYLOAD)

    /// Wraps a mapping of `mappedBytes` bytes at `base`, validating its header (`RingGeometry`);
    /// unmaps it and throws `.foreign` when the header is not a ring of this layout.
    init(name: String, base: UnsafeMutableRawPointer, mappedBytes: Int, inode: UInt64) throws(RingError) {
        let geometry: RingGeometry
        do {
            geometry = try RingGeometry.validate(header: base, objectBytes: UInt64(mappedBytes), name: name)
        } catch {
            munmap(base, mappedBytes)
            throw error
        }
        self.name = name
        self.base = base
        self.mappedBytes = mappedBytes
        self.inode = inode
        slotCount = geometry.slotCount
        slotBytes = geometry.slotBytes
        slotStride = geometry.slotStride
        kind = geometry.kind
    }

    deinit { munmap(base, mappedBytes) }

    /// Stride and total bytes of a ring with this geometry (stride rounded up to
    /// `RingGeometry.slotAlignment`), or nil when it does not fit this platform's address space.
    static func size(slotCount: UInt32, slotBytes: UInt32) -> (stride: Int, total: Int)? {
        let align = RingGeometry.slotAlignment
        let stride = (UInt64(slotHeaderBytes) + UInt64(slotBytes) + align - 1) / align * align
        let (slots, o1) = UInt64(slotCount).multipliedReportingOverflow(by: stride)
        let (total, o2) = slots.addingReportingOverflow(UInt64(headerBytes))
        guard !o1, !o2, stride <= UInt64(UInt32.max), let s = Int(exactly: stride), let t = Int(exactly: total)
        else { return nil }
        return (s, t)
    }

    // MARK: header fields

    func atomic64(_ offset: Int) -> UnsafeAtomic<UInt64> {
        UnsafeAtomic(at: (base + Int(offset)).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
    }
    func atomicI64(_ offset: Int) -> UnsafeAtomic<Int64> {
        UnsafeAtomic(at: (base + Int(offset)).assumingMemoryBound(to: Int64.AtomicRepresentation.self))
    }
    func atomic32(_ offset: Int) -> UnsafeAtomic<UInt32> {
        UnsafeAtomic(at: (base + Int(offset)).assumingMemoryBound(to: UInt32.AtomicRepresentation.self))
    }
    var published: UnsafeAtomic<UInt64> { atomic64(RILL_OFF_PUBLISHED) }
    var wake: UnsafeAtomic<UInt32> { atomic32(RILL_OFF_WAKE) }
    var wakeWord: UnsafeMutablePointer<UInt32> { (base + Int(RILL_OFF_WAKE)).assumingMemoryBound(to: UInt32.self) }
    var waiters: UnsafeAtomic<UInt32> { atomic32(RILL_OFF_WAITERS) }
    var writerPID: UnsafeAtomic<UInt32> { atomic32(RILL_OFF_WRITER_PID) }
    var generationAtomic: UnsafeAtomic<UInt32> { atomic32(RILL_OFF_GENERATION) }
    var heartbeat: UnsafeAtomic<Int64> { atomicI64(RILL_OFF_HEARTBEAT) }
    var formatSeq: UnsafeAtomic<UInt32> { atomic32(RILL_OFF_FORMAT_SEQ) }

    func slot(_ index: UInt64) -> UnsafeMutableRawPointer {
        base + Self.headerBytes + Int(index % UInt64(slotCount)) * slotStride
    }
    func slotSeq(_ slot: UnsafeMutableRawPointer) -> UnsafeAtomic<UInt64> {
        UnsafeAtomic(at: (slot + Int(RILL_OFF_SLOT_SEQ)).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
    }

    func readerEntry(_ i: Int) -> UnsafeMutableRawPointer {
        base + Int(RILL_OFF_READERS) + i * Int(RILL_READER_STRIDE)
    }

    /// The current generation (bumped by every writer that opens the ring).
    public var generation: UInt32 { generationAtomic.load(ordering: .acquiring) }
    /// Records published so far.
    public var publishedCount: UInt64 { published.load(ordering: .acquiring) }
    /// PID of the last writer.
    public var writerProcess: UInt32 { writerPID.load(ordering: .relaxed) }
    /// The writer's last heartbeat, CLOCK_MONOTONIC ns.
    public var lastHeartbeat: Int64 { heartbeat.load(ordering: .acquiring) }

    /// How long a reader waits for the format seqlock to become even. A live writer holds it odd
    /// for the microseconds of `setFormat`; odd for longer means the writer died inside it.
    public static let formatWriteBound: Int64 = 100 * MediaTime.millisecond

    /// The track format, read consistently under the header's seqlock (retried while the writer
    /// is changing it). Throws `.writerDiedInFormat` when the sequence stays odd for `bound` ns:
    /// the writer died inside `setFormat`, and the fields are half-written. The next writer to
    /// take the ring over clears that state.
    public func readFormat(within bound: Int64 = formatWriteBound) throws(RingError) -> TrackFormat {
        var oddSince: Int64? = nil
        var tries = 0
        while true {
            let s1 = formatSeq.load(ordering: .acquiring)
            if s1 & 1 == 1 {
                let now = MonotonicClock.now()
                let since = oddSince ?? now
                oddSince = since
                guard now - since < bound else {
                    throw .writerDiedInFormat(name: name, sequence: s1, waitedNs: now - since)
                }
                // Yield first (the writer is mid-copy for microseconds), then stop burning the core.
                tries += 1
                if tries < 100 { sched_yield() } else { MonotonicClock.sleep(until: now + MediaTime.millisecond) }
                continue
            }
            func u32(_ o: Int) -> UInt32 { base.load(fromByteOffset: Int(o), as: UInt32.self) }
            // Compared as UInt32 before any Int conversion: a torn or corrupt count cannot trap.
            let configBytes = Int(min(u32(RILL_OFF_CONFIG_BYTES), RILL_RING_CONFIG_BYTES))
            let f = TrackFormat(
                codec: RingCodec(rawValue: u32(RILL_OFF_CODEC)) ?? .none, width: u32(RILL_OFF_WIDTH),
                height: u32(RILL_OFF_HEIGHT), fpsNumerator: u32(RILL_OFF_FPS_NUM),
                fpsDenominator: u32(RILL_OFF_FPS_DEN),
                sampleRate: u32(RILL_OFF_SAMPLE_RATE), channels: u32(RILL_OFF_CHANNELS),
                bitsPerSample: u32(RILL_OFF_BITS),
                bitrate: u32(RILL_OFF_BITRATE),
                config: Array(UnsafeRawBufferPointer(start: base + Int(RILL_OFF_CONFIG), count: configBytes)))
            atomicMemoryFence(ordering: .acquiring)
            if formatSeq.load(ordering: .relaxed) == s1 { return f }
        }
    }

    /// The track format as `readFormat()` reads it; an empty format (codec `.none`, all zero — as
    /// before any `setFormat`) when the writer died inside `setFormat` (bounded by `formatWriteBound`).
    public var format: TrackFormat { (try? readFormat()) ?? TrackFormat() }

    /// Registered readers (pid, cursor, lost, last seen), for `rill ring ls`.
    public var readers: [(pid: UInt32, cursor: UInt64, lost: UInt32, seen: Int64)] {
        (0..<Int(RILL_RING_MAX_READERS)).compactMap { i in
            let e = readerEntry(i)
            let pid = UnsafeAtomic<UInt32>(
                at: (e + Int(RILL_OFF_READER_PID)).assumingMemoryBound(to: UInt32.AtomicRepresentation.self)
            ).load(ordering: .relaxed)
            guard pid != 0 else { return nil }
            return (
                pid, e.load(fromByteOffset: Int(RILL_OFF_READER_CURSOR), as: UInt64.self),
                e.load(fromByteOffset: Int(RILL_OFF_READER_LOST), as: UInt32.self),
                e.load(fromByteOffset: Int(RILL_OFF_READER_SEEN), as: Int64.self)
            )
        }
    }

    // MARK: opening

    /// Maps an existing ring read-write (readers update their registry entry and the futex waiter count).
    /// The header is read and validated (`RingGeometry`) before anything is mapped, and only the
    /// bytes the geometry needs are mapped: a foreign, truncated or corrupt object throws `.foreign`.
    public static func open(name: String) throws(RingError) -> SharedRing {
        let fd = shm_open(name, O_RDWR, 0)
        guard fd >= 0 else {
            if errno == ENOENT { throw RingError.notFound(name: name) }
            throw RingError.system(SystemError("shm_open", name))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw RingError.system(SystemError("fstat", name)) }
        // off_t is 64 bits on every target we build (LFS); never narrowed to Int unchecked.
        let objectBytes = UInt64(clamping: Int64(st.st_size))
        guard objectBytes >= UInt64(headerBytes) else {
            throw RingError.foreign(name: name, reason: "object is \(objectBytes) bytes, smaller than a header")
        }
        let header = UnsafeMutableRawBufferPointer.allocate(byteCount: headerBytes, alignment: 8)
        defer { header.deallocate() }
        var got = 0
        while got < headerBytes {
            let n = pread(fd, header.baseAddress! + got, headerBytes - got, off_t(got))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                if n == 0 { throw RingError.foreign(name: name, reason: "object ends inside the header") }
                throw RingError.system(SystemError("pread", name))
            }
            got += n
        }
        let geometry = try RingGeometry.validate(
            header: UnsafeRawPointer(header.baseAddress!), objectBytes: objectBytes, name: name)
        guard let p = mmap(nil, geometry.totalBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw RingError.system(SystemError("mmap", name))
        }
        return try SharedRing(name: name, base: p, mappedBytes: geometry.totalBytes, inode: UInt64(st.st_ino))
    }

    /// Inode of the object currently bound to `name`, or nil.
    static func currentInode(name: String) -> UInt64? {
        let fd = shm_open(name, O_RDONLY, 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        return fstat(fd, &st) == 0 ? UInt64(st.st_ino) : nil
    }

    /// Removes `name` (readers that have it mapped keep their mapping).
    public static func unlink(name: String) { _ = shm_unlink(name) }

    /// The shm name of track `track` of box instance `instance`.
    public static func name(instance: String, track: String) -> String { "/rill.\(instance).\(track)" }

    /// Names of the rings in /dev/shm, optionally of one instance.
    public static func list(instance: String? = nil) -> [String] {
        guard let dir = opendir("/dev/shm") else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        let prefix = instance.map { "rill.\($0)." } ?? "rill."
        while let entry = readdir(dir) {
            let n = withUnsafeBytes(of: entry.pointee.d_name) {
                String(cString: $0.bindMemory(to: CChar.self).baseAddress!)
            }
            if n.hasPrefix(prefix) { names.append("/" + n) }
        }
        return names.sorted()
    }
}
