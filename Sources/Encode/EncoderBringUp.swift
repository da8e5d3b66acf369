import Config
import MediaTime

/// What the bring-up check needs of a mem2mem encoder beyond `VideoEncoder`: its counters, the
/// driver's answers and a way to stop it (`V4L2M2MEncoder` has them; unit tests use a fake).
public protocol BringUpEncoder: VideoEncoder {
    /// The driver's name (VIDIOC_QUERYCAP `driver`).
    var driver: String { get }
    /// Whether the device uses the multi-planar API.
    var multiplanar: Bool { get }
    /// Controls the driver refused (bitrate, GOP, profile, …), by name.
    var refusedControls: [String] { get }
    /// Whether the last `flush` ended with the driver's LAST buffer.
    var drained: Bool { get }
    /// Frames queued so far.
    var framesIn: Int64 { get }
    /// Access units delivered so far.
    var accessUnits: Int64 { get }
    /// Keyframes among them.
    var keyframes: Int64 { get }
    /// Buffers the driver flagged V4L2_BUF_FLAG_ERROR.
    var corruptBuffers: Int64 { get }
    /// Stops both queues and frees the buffers; later calls throw.
    func close()
    /// A dequeue on a stopped queue, as the caller sees it (the driver's refusal, or success).
    func probeClosedQueue() -> String
}

extension V4L2M2MEncoder: BringUpEncoder {}

/// `rill encoder-check`'s board bring-up of a mem2mem encoder: two runs of `framesPerRun` frames,
/// each drained (V4L2_ENC_CMD_STOP) and resumed, a dequeue after each drain (must be refused until
/// the restart), then an encode after `close` (must throw, never crash). Frame `i` has PTS
/// `fps.nanoseconds(ofFrame: i)`, counting on across both runs.
public enum EncoderBringUp {
    /// What is being checked, for the report.
    public struct Subject: Sendable {
        /// The encoder's device node.
        public var device: String
        /// The coded format asked for (h264, hevc, fwht).
        public var codec: String
        /// Frame width, pixels.
        public var width: Int
        /// Frame height, pixels.
        public var height: Int
        /// The frame rate, for the PTS.
        public var fps: FrameRate

        /// A subject: `device` encoding `codec` at `width`×`height` and `fps`.
        public init(device: String, codec: String, width: Int, height: Int, fps: FrameRate) {
            self.device = device
            self.codec = codec
            self.width = width
            self.height = height
            self.fps = fps
        }
    }

    /// Runs the check on `encoder`. `fill` writes raw I420 frame `index` (width × height × 3/2
    /// bytes) into the buffer; `write` gets every coded access unit in order. Returns the JSON
    /// report (`runs` with each run's frames in, access units, drain state and the refused
    /// dequeue; keyframes, corrupt buffers, coded bytes, PTS order, refused controls, the error
    /// after close). Throws what encoding, draining or `write` throws.
    public static func run(
        _ encoder: some BringUpEncoder, subject: Subject, framesPerRun: Int64,
        fill: (Int64, UnsafeMutableRawBufferPointer) -> Void, write: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> JSON {
        var codedBytes: Int64 = 0
        var lastPTS = Int64.min
        var ptsInOrder = true
        func deliver(_ au: VideoAccessUnit) throws {
            codedBytes += Int64(au.bytes.count)
            if au.ptsNs < lastPTS { ptsInOrder = false }
            lastPTS = au.ptsNs
            try write(au.bytes)
        }
        let frame = UnsafeMutableRawBufferPointer.allocate(
            byteCount: subject.width * subject.height * 3 / 2, alignment: 64)
        defer { frame.deallocate() }
        var runs: [JSON] = []
        var index: Int64 = 0
        for run in 1...2 {
            let before = (encoder.framesIn, encoder.accessUnits)
            for _ in 0..<framesPerRun {
                fill(index, frame)
                try encoder.encode(
                    frame: UnsafeRawBufferPointer(frame), ptsNs: subject.fps.nanoseconds(ofFrame: index),
                    captureNs: 0, output: deliver)
                index += 1
            }
            try encoder.flush(output: deliver)
            // After LAST, the CAPTURE queue answers EPIPE until the encoder is restarted.
            let afterDrain = encoder.probeClosedQueue()
            runs.append(
                .object([
                    ("run", .number(Double(run))), ("framesIn", .number(Double(encoder.framesIn - before.0))),
                    ("accessUnits", .number(Double(encoder.accessUnits - before.1))),
                    ("drained", .bool(encoder.drained)), ("dequeueAfterDrain", .string(afterDrain)),
                ]))
        }
        encoder.close()
        var afterClose = "encode succeeded"
        do {
            try encoder.encode(frame: UnsafeRawBufferPointer(frame), ptsNs: 0, captureNs: 0, output: deliver)
        } catch {
            afterClose = "\(error)"
        }
        return .object([
            ("device", .string(subject.device)), ("driver", .string(encoder.driver)),
            ("multiplanar", .bool(encoder.multiplanar)),
            ("codec", .string(subject.codec)), ("width", .number(Double(subject.width))),
            ("height", .number(Double(subject.height))),
            ("runs", .array(runs)), ("keyframes", .number(Double(encoder.keyframes))),
            ("corruptBuffers", .number(Double(encoder.corruptBuffers))), ("codedBytes", .number(Double(codedBytes))),
            ("ptsInOrder", .bool(ptsInOrder)),
            ("refusedControls", .array(encoder.refusedControls.map { .string($0) })),
            ("encodeAfterClose", .string(afterClose)),
        ])
    }
}
