import ArgumentParser
import Capture
import Config
import Encode
import MediaTime

#if canImport(Glibc)
import Glibc
#endif

/// `rill encoder-check`: board bring-up for a V4L2 mem2mem encoder. Encodes frames through the
/// same backend the encode stage uses, drains, resumes, drains again, then checks that a stopped
/// queue gives an error instead of a crash; writes the coded stream and prints a JSON report.
struct EncoderCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encoder-check",
        abstract: "Exercise a V4L2 mem2mem encoder (queues, controls, drain, restart, closed queue); JSON report.")

    @Option(help: "The encoder's device node (Raspberry Pi: /dev/video11; vicodec: its encoder node).")
    var device = "/dev/video11"
    @Option(help: "Coded format: h264, hevc or fwht (vicodec).")
    var codec = "h264"
    @Option(help: "Frame size, WxH.")
    var size = "1280x720"
    @Option(help: "Frames per second.")
    var fps: Int64 = 30
    @Option(help: "Frames before the first drain; as many again after the restart.")
    var frames: Int64 = 30
    @Option(help: "Raw I420 frames to encode (repeated as needed); default: the test pattern.")
    var input: String?
    @Option(help: "Where the coded stream goes (both runs, concatenated).")
    var output: String?
    @Option(help: "Bitrate, bits/s (drivers without the control keep their default).")
    var bitrate: Int64 = 4_000_000
    @Option(help: "GOP length, frames.")
    var gop: Int64 = 10

    func run() throws {
        let dims = size.split(separator: "x").compactMap { Int($0) }
        guard dims.count == 2, dims[0] > 0, dims[1] > 0, dims[0] % 2 == 0, dims[1] % 2 == 0 else {
            throw ValidationError("--size: expected even WxH, got \(size)")
        }
        let (w, h) = (dims[0], dims[1])
        let rate = FrameRate(fps, 1)
        let encoder = try V4L2M2MEncoder(
            settings: .init(device: device, codec: codec, width: w, height: h, fps: rate, bitrate: bitrate, gop: gop))
        let frameBytes = w * h * 3 / 2
        let source = try FrameSource(path: input, width: w, height: h, fps: rate)
        let sink = try output.map { p -> UnsafeMutablePointer<FILE> in
            guard let f = fopen(p, "wb") else {
                throw ValidationError("--output: cannot open \(p): \(String(cString: strerror(errno)))")
            }
            return f
        }
        defer { if let sink { fclose(sink) } }

        var codedBytes: Int64 = 0
        var out: [JSON] = []
        var lastPTS = Int64.min
        var ptsInOrder = true
        func write(_ au: VideoAccessUnit) throws {
            codedBytes += Int64(au.bytes.count)
            if au.ptsNs < lastPTS { ptsInOrder = false }
            lastPTS = au.ptsNs
            if let sink, fwrite(au.bytes.baseAddress, 1, au.bytes.count, sink) != au.bytes.count {
                throw ValidationError("--output: write failed: \(String(cString: strerror(errno)))")
            }
        }
        let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: frameBytes, alignment: 64)
        defer { frame.deallocate() }
        var index: Int64 = 0
        for run in 1...2 {
            let before = (encoder.framesIn, encoder.accessUnits)
            for _ in 0..<frames {
                source.read(frame: index, into: frame)
                try encoder.encode(
                    frame: UnsafeRawBufferPointer(frame), ptsNs: rate.nanoseconds(ofFrame: index), captureNs: 0,
                    output: write)
                index += 1
            }
            try encoder.flush(output: write)
            // After LAST, the CAPTURE queue answers EPIPE until the encoder is restarted.
            let afterDrain = encoder.probeClosedQueue()
            out.append(
                .object([
                    ("run", .number(Double(run))), ("framesIn", .number(Double(encoder.framesIn - before.0))),
                    ("accessUnits", .number(Double(encoder.accessUnits - before.1))),
                    ("drained", .bool(encoder.drained)),
                    ("dequeueAfterDrain", .string(afterDrain)),
                ]))
        }
        encoder.close()
        var afterClose = "encode succeeded"
        do {
            try encoder.encode(frame: UnsafeRawBufferPointer(frame), ptsNs: 0, captureNs: 0, output: write)
        } catch {
            afterClose = "\(error)"
        }
        let report: JSON = .object([
            ("device", .string(device)), ("driver", .string(encoder.driver)),
            ("multiplanar", .bool(encoder.multiplanar)),
            ("codec", .string(codec)), ("width", .number(Double(w))), ("height", .number(Double(h))),
            ("runs", .array(out)), ("keyframes", .number(Double(encoder.keyframes))),
            ("corruptBuffers", .number(Double(encoder.corruptBuffers))), ("codedBytes", .number(Double(codedBytes))),
            ("ptsInOrder", .bool(ptsInOrder)), ("refusedControls", .array(encoder.refusedControls.map { .string($0) })),
            ("encodeAfterClose", .string(afterClose)),
        ])
        print(report.pretty)
    }
}

/// Raw I420 frames from a file (looped) or the built-in test pattern.
private final class FrameSource {
    let file: UnsafeMutablePointer<FILE>?
    let pattern: TestPattern?
    let fps: FrameRate

    init(path: String?, width: Int, height: Int, fps: FrameRate) throws {
        self.fps = fps
        if let path {
            guard let f = fopen(path, "rb") else {
                throw ValidationError("--input: cannot open \(path): \(String(cString: strerror(errno)))")
            }
            file = f
            pattern = nil
        } else {
            file = nil
            pattern = TestPattern(width: width, height: height, layout: .i420)
        }
    }

    deinit { if let file { fclose(file) } }

    func read(frame index: Int64, into buffer: UnsafeMutableRawBufferPointer) {
        if let pattern {
            pattern.render(
                frame: index, timecode: TestPattern.timecode(wallClock: fps.nanoseconds(ofFrame: index), fps: fps),
                into: buffer)
            return
        }
        if fread(buffer.baseAddress, 1, buffer.count, file) != buffer.count {
            rewind(file)
            _ = fread(buffer.baseAddress, 1, buffer.count, file)
        }
    }
}
