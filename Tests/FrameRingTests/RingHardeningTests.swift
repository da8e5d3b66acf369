import CRillShims
import Foundation
import Runtime
import Testing

@testable import FrameRing

/// A shm object written by hand: a ring header with chosen (possibly hostile) fields.
private struct CraftedObject {
    var magic: UInt64 = RILL_RING_MAGIC
    var version: UInt32 = RILL_RING_VERSION
    var headerBytes: UInt32 = RILL_RING_HEADER_BYTES
    var slotCount: UInt32 = 4
    var slotBytes: UInt32 = 64
    var slotStride: UInt32 = 128
    var kind: UInt32 = TrackKind.rawAudio.rawValue
    /// Size of the object; nil = exactly header + slotCount × slotStride (if that is small).
    var objectBytes: Int? = nil

    /// The header page as bytes.
    var header: [UInt8] {
        var h = [UInt8](repeating: 0, count: Int(RILL_RING_HEADER_BYTES))
        h.withUnsafeMutableBytes { p in
            p.storeBytes(of: magic, toByteOffset: Int(RILL_OFF_MAGIC), as: UInt64.self)
            p.storeBytes(of: version, toByteOffset: Int(RILL_OFF_VERSION), as: UInt32.self)
            p.storeBytes(of: headerBytes, toByteOffset: Int(RILL_OFF_HEADER_BYTES), as: UInt32.self)
            p.storeBytes(of: slotCount, toByteOffset: Int(RILL_OFF_SLOT_COUNT), as: UInt32.self)
            p.storeBytes(of: slotBytes, toByteOffset: Int(RILL_OFF_SLOT_BYTES), as: UInt32.self)
            p.storeBytes(of: slotStride, toByteOffset: Int(RILL_OFF_SLOT_STRIDE), as: UInt32.self)
            p.storeBytes(of: kind, toByteOffset: Int(RILL_OFF_KIND), as: UInt32.self)
        }
        return h
    }

    /// Writes the object to /dev/shm under `name` (truncating the header if the object is shorter).
    func write(name: String) throws {
        let natural = UInt64(RILL_RING_HEADER_BYTES) + UInt64(slotCount) * UInt64(slotStride)
        let size = objectBytes ?? Int(min(natural, 1 << 20))
        var bytes = header
        if size < bytes.count {
            bytes.removeLast(bytes.count - size)
        } else {
            bytes += [UInt8](repeating: 0, count: size - bytes.count)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: "/dev/shm" + name))
    }
}

private func uniqueName(_ label: String) -> String { "/rill.unit-\(label)-\(UUID().uuidString.prefix(6))" }

@Suite("Ring hardening")
struct RingHardeningTests {
    @Test("a record longer than the slot is refused with the ring, length and slot size; nothing is published")
    func oversizeRefused() throws {
        let name = uniqueName("big")
        defer { SharedRing.unlink(name: name) }
        let w = try RingWriter(name: name, kind: .codedVideo, slotCount: 4, slotBytes: 256)
        let r = try RingReader(name: name, start: .next)
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 8)
        defer { buf.deallocate() }

        // fill variant: a closure that claims more than the slot holds.
        do {
            try w.publish(RecordInfo(pts: 1)) { _ in 257 }
            Issue.record("a 257-byte record was published into 256-byte slots")
        } catch RingError.recordTooLarge(let n, let length, let slot) {
            #expect(n == name && length == 257 && slot == 256)
        }
        let big = RingError.recordTooLarge(name: name, length: 257, slotBytes: 256).description
        #expect(big.contains(name) && big.contains("257") && big.contains("256"), "\(big)")
        // A negative count is refused too (it used to trap in UInt32(length)).
        #expect(throws: RingError.self) { try w.publish(RecordInfo(pts: 2)) { _ in -1 } }
        // bytes variant.
        let payload = [UInt8](repeating: 9, count: 300)
        #expect(throws: RingError.self) { try payload.withUnsafeBytes { try w.publish(RecordInfo(pts: 3), bytes: $0) } }

        #expect(w.ring.publishedCount == 0)
        guard case .timeout = r.next(into: buf, timeout: 1_000_000) else {
            Issue.record("a refused record reached the reader")
            return
        }
        // The writer carries on: the next record that fits is published and read whole.
        try w.publish(RecordInfo(pts: 4)) { out in
            out.baseAddress!.initializeMemory(as: UInt8.self, repeating: 5, count: 256)
            return 256
        }
        guard case .record(let info) = r.next(into: buf, timeout: 0) else {
            Issue.record("no record after a refusal")
            return
        }
        #expect(info.pts == 4 && info.length == 256 && buf[255] == 5 && !info.flags.contains(.discontinuity))
    }

    /// Hostile headers. Each must be refused as `.foreign` by `SharedRing.open` and `RingReader`.
    fileprivate static let corrupt: [(String, CraftedObject)] = {
        var cases: [(String, CraftedObject)] = []
        func add(_ label: String, _ change: (inout CraftedObject) -> Void) {
            var o = CraftedObject()
            change(&o)
            cases.append((label, o))
        }
        add("empty object") { $0.objectBytes = 0 }
        add("truncated inside the header") { $0.objectBytes = 100 }
        add("header only, slots missing") { $0.objectBytes = Int(RILL_RING_HEADER_BYTES) }
        add("truncated inside the last slot") { $0.objectBytes = Int(RILL_RING_HEADER_BYTES) + 3 * 128 + 64 }
        add("wrong magic") { $0.magic = 0x1122_3344_5566_7788 }
        add("wrong version") { $0.version = RILL_RING_VERSION + 1 }
        add("wrong header size") { $0.headerBytes = 8192 }
        add("unknown kind") { $0.kind = 99 }
        add("no slots") { $0.slotCount = 0 }
        add("stride smaller than the payload") {
            $0.slotBytes = 4096
            $0.slotStride = 128
        }
        add("stride not cache-line aligned") { $0.slotStride = 130 }
        add("huge slot count") {
            $0.slotCount = .max
            $0.objectBytes = 1 << 16
        }
        add("huge stride") {
            $0.slotStride = 0xFFFF_FFC0
            $0.slotBytes = 0xFFFF_FF00
            $0.objectBytes = 1 << 16
        }
        add("slot count × stride beyond Int64") {
            $0.slotCount = .max
            $0.slotStride = 0xFFFF_FFC0
            $0.slotBytes = 0xFFFF_FF00
            $0.objectBytes = 1 << 16
        }
        add("slot bytes near UInt32.max") {
            $0.slotBytes = .max
            $0.slotStride = 0xFFFF_FFC0
        }
        return cases
    }()

    @Test("a foreign or corrupt header throws .foreign and never traps", arguments: 0..<corrupt.count)
    func corruptHeader(index: Int) throws {
        let (label, object) = Self.corrupt[index]
        let name = uniqueName("corrupt")
        defer { SharedRing.unlink(name: name) }
        try object.write(name: name)
        do {
            _ = try SharedRing.open(name: name)
            Issue.record("\(label): opened")
        } catch RingError.foreign(let n, let reason) {
            #expect(n == name, "\(label)")
            #expect(!reason.isEmpty)
        } catch {
            Issue.record("\(label): \(error), expected .foreign")
        }
        #expect(throws: RingError.self, "\(label)") { _ = try RingReader(name: name) }
        // A writer replaces such an object instead of trusting it.
        let w = try RingWriter(name: name, kind: .rawAudio, slotCount: 4, slotBytes: 64)
        #expect(try SharedRing.open(name: name).slotCount == 4)
        _ = w
    }

    @Test("the geometry is checked against a 32-bit address space: too large is .foreign, a fitting one passes")
    func thirtyTwoBitLimit() throws {
        // 40 000 slots of 64 KiB: 2.6 GB, which a 64-bit host maps but an ARMv7 Int cannot count.
        var big = CraftedObject()
        big.slotCount = 40_000
        big.slotBytes = 65_536 - 64
        big.slotStride = 65_536
        let objectBytes = UInt64(RILL_RING_HEADER_BYTES) + 40_000 * 65_536
        let header = big.header
        let limit32 = UInt64(Int32.max)
        try header.withUnsafeBytes { h in
            #expect(throws: RingError.self) {
                _ = try RingGeometry.validate(
                    header: h.baseAddress!, objectBytes: objectBytes, name: "/t", addressLimit: limit32)
            }
            let g = try RingGeometry.validate(header: h.baseAddress!, objectBytes: objectBytes, name: "/t")
            #expect(g.totalBytes == Int(objectBytes) && g.slotStride == 65_536)
        }
        // The TS ring's real geometry fits either way.
        var ts = CraftedObject()
        ts.slotCount = Track.tsSlots
        ts.slotBytes = Track.tsSlotBytes
        let (stride, total) = try #require(SharedRing.size(slotCount: Track.tsSlots, slotBytes: Track.tsSlotBytes))
        ts.slotStride = UInt32(stride)
        try ts.header.withUnsafeBytes { h in
            let g = try RingGeometry.validate(
                header: h.baseAddress!, objectBytes: UInt64(total), name: "/t", addressLimit: limit32)
            #expect(g.totalBytes == total)
        }
        // A writer asked for a geometry beyond Int64 gets an error, not a trap.
        #expect(SharedRing.size(slotCount: .max, slotBytes: .max) == nil)
        #expect(throws: RingError.self) {
            _ = try RingWriter(name: uniqueName("huge"), kind: .rawVideo, slotCount: .max, slotBytes: .max)
        }
    }

    @Test("a writer that died inside setFormat is detected within the bound and cleared by the next writer")
    func writerDeadInSetFormat() throws {
        let name = uniqueName("fmt")
        defer { SharedRing.unlink(name: name) }
        let w = try RingWriter(name: name, kind: .codedAudio, slotCount: 4, slotBytes: 64)
        w.setFormat(TrackFormat(codec: .aac, sampleRate: 48_000, channels: 2, config: [0x11, 0x90]))
        let r = try RingReader(name: name)
        #expect(try r.ring.readFormat().sampleRate == 48_000)
        // What a writer killed between its two sequence stores leaves behind: an odd sequence and
        // half-written fields.
        let even = w.ring.formatSeq.load(ordering: .relaxed)
        w.ring.formatSeq.store(even + 1, ordering: .releasing)
        w.ring.base.storeBytes(of: 44_100, toByteOffset: Int(RILL_OFF_SAMPLE_RATE), as: UInt32.self)

        let start = MonotonicClock.now()
        do {
            _ = try r.ring.readFormat()
            Issue.record("a half-written format was returned")
        } catch .writerDiedInFormat(let n, let sequence, let waited) {
            #expect(n == name && sequence == even + 1)
            #expect(waited >= SharedRing.formatWriteBound)
        } catch {
            Issue.record("\(error)")
        }
        let took = MonotonicClock.now() - start
        #expect(
            took >= SharedRing.formatWriteBound && took < 5 * SharedRing.formatWriteBound, "took \(took / 1_000_000) ms"
        )
        // The convenience property returns the empty format in bounded time instead of spinning.
        let start2 = MonotonicClock.now()
        #expect(r.ring.format == TrackFormat())
        #expect(MonotonicClock.now() - start2 < 5 * SharedRing.formatWriteBound)

        // The next writer takes the ring over and clears the torn format.
        let w2 = try RingWriter(name: name, kind: .codedAudio, slotCount: 4, slotBytes: 64)
        #expect(try r.ring.readFormat() == TrackFormat())
        w2.setFormat(TrackFormat(codec: .aac, sampleRate: 32_000, channels: 1))
        #expect(try r.ring.readFormat().sampleRate == 32_000)
        #expect(w2.ring.formatSeq.load(ordering: .relaxed) & 1 == 0)
    }

    @Test("Doorbell.wait honours a CLOCK_MONOTONIC deadline (timespec built from time_t fields)")
    func doorbellDeadline() {
        let bell = Doorbell()
        let start = MonotonicClock.now()
        bell.wait(until: start + 50_000_000)
        let took = MonotonicClock.now() - start
        #expect(took >= 50_000_000 && took < 1_000_000_000, "waited \(took) ns")
        bell.ring()
        let t2 = MonotonicClock.now()
        bell.wait(until: t2 + 5_000_000_000)
        #expect(MonotonicClock.now() - t2 < 1_000_000_000)
    }
}
