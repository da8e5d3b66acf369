import Config
import MediaTime
import Testing

@testable import Encode

/// `EncoderBringUp` (what `rill encoder-check` runs on a mem2mem device) against a fake encoder
/// that holds `delay` frames, as a hardware queue does, and refuses work after `close`.
@Suite("Encoder bring-up check")
struct EncoderBringUpTests {
    struct Closed: Error, CustomStringConvertible {
        var description: String { "fake: encode after close: Bad file descriptor" }
    }

    final class FakeM2M: BringUpEncoder {
        let headers: [UInt8] = []
        var delayedFrames: Int32 { Int32(pending.count) }
        let driver = "fake-m2m"
        let multiplanar = true
        let refusedControls = ["video_bitrate_mode=1: Invalid argument"]
        private(set) var drained = false
        private(set) var framesIn: Int64 = 0
        private(set) var accessUnits: Int64 = 0
        private(set) var keyframes: Int64 = 0
        let corruptBuffers: Int64 = 1
        let delay: Int
        /// Deliver each access unit with its PTS negated (an encoder whose PTS go backwards).
        let backwards: Bool
        /// The PTS of every frame given to `encode`, in order.
        private(set) var received: [Int64] = []
        private var pending: [(pts: Int64, marker: UInt8)] = []
        private var closed = false

        init(delay: Int, backwards: Bool = false) {
            self.delay = delay
            self.backwards = backwards
        }

        func encode(
            frame: UnsafeRawBufferPointer, ptsNs: Int64, captureNs: Int64, output: (VideoAccessUnit) throws -> Void
        ) throws {
            if closed { throw Closed() }
            framesIn += 1
            drained = false
            received.append(ptsNs)
            pending.append((backwards ? -ptsNs : ptsNs, frame[0]))
            while pending.count > delay { try emit(pending.removeFirst(), output) }
        }

        /// One access unit of `marker + 100` bytes, each byte `marker`.
        private func emit(_ f: (pts: Int64, marker: UInt8), _ output: (VideoAccessUnit) throws -> Void) throws {
            accessUnits += 1
            let key = accessUnits % 10 == 1
            if key { keyframes += 1 }
            let bytes = [UInt8](repeating: f.marker, count: Int(f.marker) + 100)
            try bytes.withUnsafeBytes {
                try output(VideoAccessUnit(bytes: $0, ptsNs: f.pts, dtsNs: f.pts, captureNs: 0, keyframe: key))
            }
        }

        func forceKeyframe() {}

        func flush(output: (VideoAccessUnit) throws -> Void) throws {
            while !pending.isEmpty { try emit(pending.removeFirst(), output) }
            drained = true
        }

        func close() { closed = true }

        func probeClosedQueue() -> String { drained ? "dequeue refused: Broken pipe" : "dequeue succeeded" }
    }

    static let subject = EncoderBringUp.Subject(
        device: "/dev/video-fake", codec: "h264", width: 64, height: 48, fps: FrameRate(25, 1))

    /// The report's number at `key` (nil when absent or not a number).
    static func number(_ json: JSON?, _ key: String) -> Double? {
        if case .number(let n) = json?[key] ?? .null { return n }
        return nil
    }

    @Test(
        "two drained runs: frames in, access units, drain state and refused dequeue per run; bytes and PTS as written")
    func twoRuns() throws {
        let encoder = FakeM2M(delay: 3)
        var filled: [Int64] = []
        var written: [(first: UInt8, count: Int)] = []
        let report = try EncoderBringUp.run(
            encoder, subject: Self.subject, framesPerRun: 5,
            fill: { index, buffer in
                #expect(buffer.count == 64 * 48 * 3 / 2)
                filled.append(index)
                buffer[0] = UInt8(index + 1)
            },
            write: { bytes in written.append((bytes[0], bytes.count)) })
        #expect(filled == Array(0..<10), "frame indices count on across the restart")
        #expect(encoder.received == (0..<10).map { Self.subject.fps.nanoseconds(ofFrame: $0) })
        #expect(written.map(\.first) == (1...10).map { UInt8($0) }, "every frame's access unit, in order")
        guard case .array(let runs) = report["runs"] ?? .null else {
            Issue.record("no runs in \(report.serialized)")
            return
        }
        #expect(runs.count == 2)
        for (i, run) in runs.enumerated() {
            #expect(Self.number(run, "run") == Double(i + 1))
            #expect(Self.number(run, "framesIn") == 5)
            #expect(Self.number(run, "accessUnits") == 5, "the drain delivers the \(encoder.delay) held frames")
            #expect(run["drained"] == .bool(true))
            #expect(run["dequeueAfterDrain"] == .string("dequeue refused: Broken pipe"))
        }
        #expect(Self.number(report, "codedBytes") == Double(written.reduce(0) { $0 + $1.count }))
        #expect(Self.number(report, "codedBytes") == Double((1...10).reduce(0) { $0 + $1 + 100 }))
        #expect(report["ptsInOrder"] == .bool(true))
        #expect(report["encodeAfterClose"] == .string("fake: encode after close: Bad file descriptor"))
        #expect(report["device"] == .string("/dev/video-fake") && report["codec"] == .string("h264"))
        #expect(Self.number(report, "width") == 64 && Self.number(report, "height") == 48)
        #expect(report["driver"] == .string("fake-m2m") && report["multiplanar"] == .bool(true))
        #expect(Self.number(report, "keyframes") == 1 && Self.number(report, "corruptBuffers") == 1)
        #expect(report["refusedControls"] == .array([.string("video_bitrate_mode=1: Invalid argument")]))
    }

    @Test("an encoder whose PTS go backwards is reported (ptsInOrder false)", arguments: [false, true])
    func ptsOrder(backwards: Bool) throws {
        let report = try EncoderBringUp.run(
            FakeM2M(delay: 1, backwards: backwards), subject: Self.subject, framesPerRun: 3, fill: { _, _ in },
            write: { _ in })
        #expect(report["ptsInOrder"] == .bool(!backwards))
    }
}
