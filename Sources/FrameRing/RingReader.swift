import Atomics
import CRillShims
import MediaTime
import Runtime

#if canImport(Glibc)
import Glibc
#endif

/// What `RingReader.next` found.
public enum RingEvent: Sendable {
    /// A record was copied into the caller's buffer.
    case record(RecordInfo)
    /// The reader fell behind: this many records were overwritten before it read them. The cursor
    /// has jumped to the newest record.
    case lost(UInt64)
    /// The writer stopped beating (crashed, killed or hung) for longer than `writerTimeout`.
    case writerGone
    /// A new writer took over (same object: new generation; or a recreated object).
    case writerRestarted(generation: UInt32)
    /// Nothing arrived before the timeout.
    case timeout
}

/// One reader of a ring, in any process. Keeps its cursor locally; sleeps on the ring's futex,
/// never polls; never blocks the writer. Not thread-safe (one thread reads).
public final class RingReader: @unchecked Sendable {
    /// Where a new reader starts.
    public enum Start: Sendable { case newest, next, oldest }

    /// The mapped ring (replaced when a writer recreates the object).
    public private(set) var ring: SharedRing
    /// The next record index to read.
    public private(set) var cursor: UInt64
    /// Records lost to overrun since open.
    public private(set) var lostTotal: UInt64 = 0
    /// A writer silent for this long is reported gone (ns). 400 ms so it is seen within 500 ms.
    public var writerTimeout: Int64 = 400 * MediaTime.millisecond

    private var generation: UInt32
    private var writerGoneReported = false
    private var entry: UnsafeMutableRawPointer?
    private let pid = UInt32(getpid())

    /// Opens `name` and registers in its reader table.
    public init(name: String, start: Start = .next) throws {
        ring = try SharedRing.open(name: name)
        let p = ring.published.load(ordering: .acquiring)
        switch start {
        case .newest: cursor = p > 0 ? p - 1 : 0
        case .next: cursor = p
        case .oldest: cursor = p > UInt64(ring.slotCount) ? p - UInt64(ring.slotCount) : 0
        }
        generation = ring.generation
        register()
    }

    deinit { unregister() }

    private func register() {
        for i in 0..<Int(RILL_RING_MAX_READERS) {
            let e = ring.readerEntry(i)
            let slotPID = UnsafeAtomic<UInt32>(
                at: (e + Int(RILL_OFF_READER_PID)).assumingMemoryBound(to: UInt32.AtomicRepresentation.self))
            let owner = slotPID.load(ordering: .relaxed)
            let free = owner == 0 || !Self.isAlive(owner)
            if free, slotPID.compareExchange(expected: owner, desired: pid, ordering: .acquiringAndReleasing).exchanged
            {
                e.storeBytes(of: 0, toByteOffset: Int(RILL_OFF_READER_LOST), as: UInt32.self)
                entry = e
                updateEntry()
                return
            }
        }
        entry = nil  // table full: reading still works, the reader is just not listed
    }

    private func unregister() {
        guard let e = entry else { return }
        UnsafeAtomic<UInt32>(
            at: (e + Int(RILL_OFF_READER_PID)).assumingMemoryBound(to: UInt32.AtomicRepresentation.self)
        )
        .store(0, ordering: .releasing)
        entry = nil
    }

    private func updateEntry() {
        guard let e = entry else { return }
        e.storeBytes(of: cursor, toByteOffset: Int(RILL_OFF_READER_CURSOR), as: UInt64.self)
        e.storeBytes(
            of: UInt32(truncatingIfNeeded: min(lostTotal, UInt64(UInt32.max))),
            toByteOffset: Int(RILL_OFF_READER_LOST), as: UInt32.self)
        e.storeBytes(of: MonotonicClock.now(), toByteOffset: Int(RILL_OFF_READER_SEEN), as: Int64.self)
    }

    /// Waits up to `timeout` ns for the next record and copies its payload into `buffer`
    /// (which should hold `ring.slotBytes`; a record longer than a smaller buffer is cut to it —
    /// the writer refuses records longer than the slot, so none is ever cut to the slot). The copy is
    /// validated by the slot's seqlock: a record overwritten while being copied is reported as lost.
    public func next(into buffer: UnsafeMutableRawBufferPointer, timeout: Int64) -> RingEvent {
        let (sum, overflow) = MonotonicClock.now().addingReportingOverflow(max(timeout, 0))
        let deadline = overflow ? Int64.max : sum
        while true {
            if let e = checkGeneration() { return e }
            let published = ring.published.load(ordering: .acquiring)
            if cursor < published {
                return read(published: published, into: buffer)
            }
            let now = MonotonicClock.now()
            if let e = checkWriter(now: now) { return e }
            if now >= deadline { return .timeout }
            // Sleep on the wake word; the writer bumps it after every publish.
            ring.waiters.wrappingIncrement(ordering: .sequentiallyConsistent)
            let w = ring.wake.load(ordering: .sequentiallyConsistent)
            if ring.published.load(ordering: .sequentiallyConsistent) > cursor || ring.generation != generation {
                ring.waiters.wrappingDecrement(ordering: .sequentiallyConsistent)
                continue
            }
            // Wake at least every 100 ms to check the writer's heartbeat.
            let slice = min(deadline - now, 100 * MediaTime.millisecond)
            _ = rill_futex_wait(ring.wakeWord, w, slice)
            ring.waiters.wrappingDecrement(ordering: .sequentiallyConsistent)
        }
    }

    private func read(published: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> RingEvent {
        let count = UInt64(ring.slotCount)
        if published - cursor > count {
            return overrun(published: published)
        }
        let slot = ring.slot(cursor)
        let seq = ring.slotSeq(slot)
        let expected = 2 * cursor + 2
        let s1 = seq.load(ordering: .acquiring)
        guard s1 == expected else { return overrun(published: ring.published.load(ordering: .acquiring)) }
        // Seqlock read. Everything below, up to the second load of `seq`, races on purpose with a
        // writer that may be lapping this reader and rewriting the slot right now: the header fields
        // and the payload copy may come out torn. That is harmless because (1) nothing read here is
        // acted on or handed out before the sequence re-check — a changed `seq` discards the whole
        // copy and reports the record lost; (2) a torn `length` cannot send the copy out of bounds:
        // it is clamped, as a UInt32, to the slot size and the caller's buffer before any `Int`
        // conversion; (3) the copy is of plain bytes (memcpy), which has no invalid values to trap on.
        // The writer never waits for readers, so a reader that validates after copying is the only
        // way to read without a lock.
        var info = RecordInfo()
        info.index = cursor
        let storedLength = slot.load(fromByteOffset: Int(RILL_OFF_SLOT_LENGTH), as: UInt32.self)
        info.length = min(Int(min(storedLength, ring.slotBytes)), buffer.count)
        info.flags = RecordFlags(rawValue: slot.load(fromByteOffset: Int(RILL_OFF_SLOT_FLAGS), as: UInt32.self))
        info.pts = slot.load(fromByteOffset: Int(RILL_OFF_SLOT_PTS), as: Int64.self)
        info.dts = slot.load(fromByteOffset: Int(RILL_OFF_SLOT_DTS), as: Int64.self)
        info.captureTime = slot.load(fromByteOffset: Int(RILL_OFF_SLOT_CAPTURE), as: Int64.self)
        info.width = slot.load(fromByteOffset: Int(RILL_OFF_SLOT_WIDTH), as: UInt32.self)
        info.height = slot.load(fromByteOffset: Int(RILL_OFF_SLOT_HEIGHT), as: UInt32.self)
        info.aux0 = slot.load(fromByteOffset: Int(RILL_OFF_SLOT_AUX0), as: UInt32.self)
        info.aux1 = slot.load(fromByteOffset: Int(RILL_OFF_SLOT_AUX1), as: UInt32.self)
        info.stageTime = slot.load(fromByteOffset: Int(RILL_OFF_SLOT_STAGE), as: Int64.self)
        if info.length > 0, let dst = buffer.baseAddress {
            dst.copyMemory(from: slot + SharedRing.slotHeaderBytes, byteCount: info.length)
        }
        atomicMemoryFence(ordering: .acquiring)
        guard seq.load(ordering: .relaxed) == expected else {
            return overrun(published: ring.published.load(ordering: .acquiring))
        }
        cursor += 1
        writerGoneReported = false
        updateEntry()
        return .record(info)
    }

    private func overrun(published: UInt64) -> RingEvent {
        let target = published > 0 ? published - 1 : 0
        let lost = target > cursor ? target - cursor : 1
        lostTotal &+= lost
        cursor = max(target, cursor + 1)
        updateEntry()
        return .lost(lost)
    }

    private func checkGeneration() -> RingEvent? {
        let g = ring.generation
        guard g != generation else { return nil }
        generation = g
        writerGoneReported = false
        let published = ring.published.load(ordering: .acquiring)
        if cursor > published { cursor = published }
        return .writerRestarted(generation: g)
    }

    private func checkWriter(now: Int64) -> RingEvent? {
        // Wrapping: a corrupt heartbeat must not trap; one from the future counts as fresh.
        let age = max(now &- ring.heartbeat.load(ordering: .acquiring), 0)
        let pidGone: Bool = {
            let p = ring.writerPID.load(ordering: .relaxed)
            return p != 0 && !Self.isAlive(p)
        }()
        guard age > writerTimeout || pidGone else { return nil }
        // A writer that recreated the object under the same name: switch to it.
        if let inode = SharedRing.currentInode(name: ring.name), inode != ring.inode, ring.inode != 0,
            let fresh = try? SharedRing.open(name: ring.name)
        {
            unregister()
            ring = fresh
            generation = fresh.generation
            cursor = fresh.published.load(ordering: .acquiring)
            register()
            return .writerRestarted(generation: generation)
        }
        if writerGoneReported { return nil }
        writerGoneReported = true
        return .writerGone
    }

    /// Whether process `pid` (as stored in the header, unsigned) exists. A value that is not a valid
    /// pid (0, or beyond `pid_t`'s range from a corrupt header) is not alive; `pid_t(bitPattern:)`
    /// would turn it into a process group for kill(2), so it is range-checked instead.
    static func isAlive(_ pid: UInt32) -> Bool {
        guard let p = pid_t(exactly: pid), p > 0 else { return false }
        return kill(p, 0) == 0 || errno != ESRCH
    }

    /// Skips to the newest published record (e.g. to rejoin at a keyframe after a restart).
    public func skipToNewest() {
        let p = ring.published.load(ordering: .acquiring)
        cursor = p > 0 ? p - 1 : 0
    }
}
