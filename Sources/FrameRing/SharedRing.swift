#if canImport(Glibc)
import Glibc
#endif
import Atomics
import CRillShims

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

    init(name: String, base: UnsafeMutableRawPointer, mappedBytes: Int, inode: UInt64) throws {
        self.name = name
        self.base = base
        self.mappedBytes = mappedBytes
        self.inode = inode
        func fail(_ reason: String) -> RingError {
            munmap(base, mappedBytes)
            return .foreign(name: name, reason: reason)
        }
        guard mappedBytes >= Self.headerBytes else { throw fail("object is \(mappedBytes) bytes, smaller than a header") }
        guard base.load(fromByteOffset: Int(RILL_OFF_MAGIC), as: UInt64.self) == RILL_RING_MAGIC else {
            throw fail("bad magic")
        }
        let version = base.load(fromByteOffset: Int(RILL_OFF_VERSION), as: UInt32.self)
        guard version == RILL_RING_VERSION else { throw fail("layout version \(version)") }
        slotCount = base.load(fromByteOffset: Int(RILL_OFF_SLOT_COUNT), as: UInt32.self)
        slotBytes = base.load(fromByteOffset: Int(RILL_OFF_SLOT_BYTES), as: UInt32.self)
        slotStride = Int(base.load(fromByteOffset: Int(RILL_OFF_SLOT_STRIDE), as: UInt32.self))
        let kindRaw = base.load(fromByteOffset: Int(RILL_OFF_KIND), as: UInt32.self)
        guard let kind = TrackKind(rawValue: kindRaw) else { throw fail("unknown track kind \(kindRaw)") }
        self.kind = kind
        guard slotCount > 0, slotStride >= Self.slotHeaderBytes + Int(slotBytes),
            Self.headerBytes + Int(slotCount) * slotStride <= mappedBytes
        else { throw fail("geometry \(slotCount)×\(slotBytes) does not fit \(mappedBytes) bytes") }
    }

    deinit { munmap(base, mappedBytes) }

    /// Total bytes of a ring with this geometry.
    static func size(slotCount: UInt32, slotBytes: UInt32) -> (stride: Int, total: Int) {
        let stride = (slotHeaderBytes + Int(slotBytes) + 63) & ~63
        return (stride, headerBytes + Int(slotCount) * stride)
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

    /// The track format, read consistently (retried while the writer is changing it).
    public var format: TrackFormat {
        while true {
            let s1 = formatSeq.load(ordering: .acquiring)
            if s1 & 1 == 1 { sched_yield(); continue }
            func u32(_ o: Int) -> UInt32 { base.load(fromByteOffset: Int(o), as: UInt32.self) }
            let configBytes = min(Int(u32(RILL_OFF_CONFIG_BYTES)), Int(RILL_RING_CONFIG_BYTES))
            let f = TrackFormat(
                codec: RingCodec(rawValue: u32(RILL_OFF_CODEC)) ?? .none, width: u32(RILL_OFF_WIDTH),
                height: u32(RILL_OFF_HEIGHT), fpsNumerator: u32(RILL_OFF_FPS_NUM), fpsDenominator: u32(RILL_OFF_FPS_DEN),
                sampleRate: u32(RILL_OFF_SAMPLE_RATE), channels: u32(RILL_OFF_CHANNELS), bitsPerSample: u32(RILL_OFF_BITS),
                bitrate: u32(RILL_OFF_BITRATE),
                config: Array(UnsafeRawBufferPointer(start: base + Int(RILL_OFF_CONFIG), count: configBytes)))
            atomicMemoryFence(ordering: .acquiring)
            if formatSeq.load(ordering: .relaxed) == s1 { return f }
        }
    }

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
    public static func open(name: String) throws -> SharedRing {
        let fd = shm_open(name, O_RDWR, 0)
        guard fd >= 0 else {
            if errno == ENOENT { throw RingError.notFound(name: name) }
            throw RingError.system(SystemError("shm_open", name))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw RingError.system(SystemError("fstat", name)) }
        let size = Int(st.st_size)
        guard size >= headerBytes else {
            throw RingError.foreign(name: name, reason: "object is \(size) bytes, smaller than a header")
        }
        guard let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw RingError.system(SystemError("mmap", name))
        }
        return try SharedRing(name: name, base: p, mappedBytes: size, inode: UInt64(st.st_ino))
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
            let n = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if n.hasPrefix(prefix) { names.append("/" + n) }
        }
        return names.sorted()
    }
}
