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
        let source = try FrameSource(path: input, width: w, height: h, fps: rate)
        let sink = try output.map { p -> UnsafeMutablePointer<FILE> in
            guard let f = fopen(p, "wb") else {
                throw ValidationError("--output: cannot open \(p): \(String(cString: strerror(errno)))")
            }
            return f
        }
        defer { if let sink { fclose(sink) } }
        let report = try EncoderBringUp.run(
            encoder, subject: .init(device: device, codec: codec, width: w, height: h, fps: rate), framesPerRun: frames,
            fill: { source.read(frame: $0, into: $1) }
        ) { bytes in
            if let sink, fwrite(bytes.baseAddress, 1, bytes.count, sink) != bytes.count {
                throw ValidationError("--output: write failed: \(String(cString: strerror(errno)))")
            }
        }
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
