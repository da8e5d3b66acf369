import Foundation
import RillTestSupport
import Testing

@testable import Confidence

/// The meter against an independent implementation: FFmpeg's `ebur128` filter (momentary and
/// short-term every 100 ms, three decimals through `ametadata`) and `astats` (peak, RMS), on
/// signals whose K-weighting matters (pink noise, 100 Hz, 5 kHz) and on 5.1.
@Suite("Loudness against FFmpeg's ebur128", .tags(.peer))
struct FFmpegLoudnessTests {
    /// Interleaved 16-bit samples of a WAV file ffmpeg wrote.
    static func readWAV(_ path: String) throws -> (channels: Int, samples: [Int16]) {
        let d = try Data(contentsOf: URL(fileURLWithPath: path))
        func u32(_ o: Int) -> Int { Int(d[o]) | Int(d[o + 1]) << 8 | Int(d[o + 2]) << 16 | Int(d[o + 3]) << 24 }
        var channels = 0
        var o = 12
        while o + 8 <= d.count {
            let id = String(decoding: d[o..<(o + 4)], as: UTF8.self)
            let size = u32(o + 4)
            if id == "fmt " { channels = Int(d[o + 10]) | Int(d[o + 11]) << 8 }
            if id == "data" {
                let body = d[(o + 8)..<min(d.count, o + 8 + size)]
                let samples = body.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
                return (channels, samples)
            }
            o += 8 + size + (size & 1)
        }
        throw TestEnvironmentError("\(path): no data chunk")
    }

    /// ffmpeg's momentary and short-term loudness per 100 ms frame.
    static func ffmpegLoudness(_ path: String) throws -> [(m: Double, s: Double)] {
        let out = path + ".r128.txt"
        let r = try runProcess(
            [
                "ffmpeg", "-v", "error", "-i", path, "-af", "ebur128=metadata=1,ametadata=print:file=\(out)", "-f",
                "null", "-",
            ], timeout: 60)
        guard r.status == 0 else { throw TestEnvironmentError("ffmpeg ebur128: \(r.stderr)") }
        var frames: [(m: Double, s: Double)] = []
        var m = 0.0
        for line in try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n") {
            if line.hasPrefix("lavfi.r128.M=") { m = Double(line.dropFirst(13)) ?? .nan }
            if line.hasPrefix("lavfi.r128.S=") { frames.append((m, Double(line.dropFirst(13)) ?? .nan)) }
        }
        return frames
    }

    /// Our readings after each 100 ms block of the same file.
    static func ourLoudness(_ path: String) throws -> (readings: [LevelReading], channels: Int) {
        let (channels, samples) = try readWAV(path)
        var meter = try #require(LoudnessMeter(channels: channels, sampleRate: 48_000))
        var readings: [LevelReading] = []
        let block = 4800
        for start in stride(from: 0, to: samples.count / channels, by: block) {
            let frames = min(block, samples.count / channels - start)
            if meter.feed(frames: frames, sample: { f, c in Double(samples[(start + f) * channels + c]) / 32_768 }) {
                readings.append(meter.reading)
            }
        }
        return (readings, channels)
    }

    static func generate(_ name: String, inputs: [String], layout: String) throws -> String {
        let dir = makeTemporaryDirectory("loudness")
        let path = "\(dir)/\(name).wav"
        var args = ["ffmpeg", "-v", "error"]
        for i in inputs { args += ["-f", "lavfi", "-i", i] }
        let merge = (0..<inputs.count).map { "[\($0)]" }.joined()
        args += [
            "-filter_complex", "\(merge)amerge=inputs=\(inputs.count),aformat=channel_layouts=\(layout)",
            "-c:a", "pcm_s16le", "-y", path,
        ]
        let r = try runProcess(args, timeout: 60)
        guard r.status == 0 else { throw TestEnvironmentError("ffmpeg: \(r.stderr)") }
        return path
    }

    static let signals: [(name: String, inputs: [String], layout: String)] = [
        (
            "noise-and-100hz",
            [
                "anoisesrc=color=pink:amplitude=0.3:sample_rate=48000:seed=7:duration=8",
                "sine=frequency=100:sample_rate=48000:duration=8",
            ], "stereo"
        ),
        (
            "5k-and-brown",
            [
                "sine=frequency=5000:sample_rate=48000:duration=8",
                "anoisesrc=color=brown:amplitude=0.5:sample_rate=48000:seed=3:duration=8",
            ], "stereo"
        ),
        (
            "surround",
            (0..<6).map {
                "anoisesrc=color=pink:amplitude=\(0.05 * Double($0 + 1)):sample_rate=48000:seed=\($0 + 1):duration=8"
            },
            "5.1"
        ),
    ]

    @Test("momentary and short-term within 0.002 LU of ebur128 (its 3 decimals) at every 100 ms step", arguments: 0..<3)
    func loudness(signal: Int) throws {
        let s = Self.signals[signal]
        let path = try Self.generate(s.name, inputs: s.inputs, layout: s.layout)
        let theirs = try Self.ffmpegLoudness(path)
        let ours = try Self.ourLoudness(path).readings
        try #require(ours.count == 80 && theirs.count == 80, "\(ours.count) vs \(theirs.count) readings")
        // ffmpeg's k-th frame (pts k × 100 ms) carries the reading that includes that frame's 100 ms:
        // our reading after k + 1 blocks, `ours[k]`. Measured: the two agree to FFmpeg's last decimal.
        var worstM = 0.0
        var worstS = 0.0
        // From the first full window on: 4 blocks for momentary, 30 for short-term.
        for k in 3..<80 {
            worstM = max(worstM, abs((ours[k].momentaryLUFS ?? -200) - theirs[k].m))
            if k >= 29 { worstS = max(worstS, abs((ours[k].shortTermLUFS ?? -200) - theirs[k].s)) }
        }
        #expect(worstM <= 0.002, "\(s.name): momentary differs by up to \(worstM) LU")
        #expect(worstS <= 0.002, "\(s.name): short-term differs by up to \(worstS) LU")
        print(
            "loudness \(s.name): ours M \(ours[79].momentaryLUFS ?? -200) S \(ours[79].shortTermLUFS ?? -200), ffmpeg M \(theirs[79].m) S \(theirs[79].s); worst ΔM \(worstM) ΔS \(worstS)"
        )
    }
}
