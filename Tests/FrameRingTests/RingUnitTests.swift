import Foundation
import Testing

@testable import FrameRing

@Suite("Ring in one process")
struct RingUnitTests {
    @Test("records carry their fields; overrun is counted")
    func fieldsAndOverrun() throws {
        let name = "/rill.unit-\(UUID().uuidString.prefix(6))"
        defer { SharedRing.unlink(name: name) }
        let w = try RingWriter(name: name, kind: .codedVideo, slotCount: 8, slotBytes: 256)
        w.setFormat(TrackFormat(codec: .h264, width: 1920, height: 1080, config: [0, 0, 0, 1, 0x67]))
        let r = try RingReader(name: name, start: .next)
        #expect(r.ring.format.width == 1920)
        #expect(r.ring.format.config == [0, 0, 0, 1, 0x67])
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 8)
        defer { buf.deallocate() }
        _ = try [UInt8](repeating: 7, count: 100).withUnsafeBytes {
            try w.publish(RecordInfo(flags: .keyframe, pts: 123, dts: 100, captureTime: 99, width: 5), bytes: $0)
        }
        guard case .record(let info) = r.next(into: buf, timeout: 0) else {
            Issue.record("no record")
            return
        }
        #expect(info.length == 100 && info.pts == 123 && info.dts == 100 && info.captureTime == 99)
        #expect(info.flags.contains(.keyframe) && info.width == 5 && buf[99] == 7)
        for i in 0..<20 { try w.publish(RecordInfo(pts: Int64(i))) { _ in 0 } }
        guard case .lost(let n) = r.next(into: buf, timeout: 0) else {
            Issue.record("expected overrun")
            return
        }
        #expect(n == 19)  // records 1…20 published since; the reader jumps to the newest (20): 1…19 lost
        guard case .record(let last) = r.next(into: buf, timeout: 0) else {
            Issue.record("no record")
            return
        }
        #expect(last.pts == 19)
        guard case .timeout = r.next(into: buf, timeout: 1_000_000) else {
            Issue.record("expected timeout")
            return
        }
    }

    @Test("a second writer starts a new generation and flags a discontinuity")
    func generation() throws {
        let name = "/rill.unit-\(UUID().uuidString.prefix(6))"
        defer { SharedRing.unlink(name: name) }
        let w1 = try RingWriter(name: name, kind: .rawAudio, slotCount: 4, slotBytes: 16)
        try w1.publish(RecordInfo(pts: 1)) { _ in 0 }
        let r = try RingReader(name: name, start: .next)
        let w2 = try RingWriter(name: name, kind: .rawAudio, slotCount: 4, slotBytes: 16)
        try w2.publish(RecordInfo(pts: 2)) { _ in 0 }
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 8)
        defer { buf.deallocate() }
        guard case .writerRestarted(let g) = r.next(into: buf, timeout: 0) else {
            Issue.record("no restart")
            return
        }
        #expect(g == 2)
        guard case .record(let info) = r.next(into: buf, timeout: 0) else {
            Issue.record("no record")
            return
        }
        #expect(info.pts == 2 && info.flags.contains(.discontinuity))
        _ = w1
    }
}
