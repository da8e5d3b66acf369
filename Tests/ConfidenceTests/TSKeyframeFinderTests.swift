import Foundation
import RillTestSupport
import Testing

@testable import Confidence

/// The gateway's program thumbnail source: keyframes found in TS that ffmpeg made, at the PTS
/// ffprobe calls key, decoded by libavcodec; malformed TS finds nothing and never traps.
@Suite("TS keyframe finder", .tags(.peer))
struct TSKeyframeFinderTests {
    /// stream_type values (ISO/IEC 13818-1 Table 2-34).
    static let h264: UInt8 = 0x1B
    static let hevc: UInt8 = 0x24
    static let mpeg2Video: UInt8 = 0x02
    static let aac: UInt8 = 0x0F

    /// A 2 s TS from ffmpeg's testsrc (320×240, 25 fps, a keyframe every 25 frames) with `codec`.
    static func ffmpegTS(_ dir: String, video: [String] = ["-c:v", "libx264", "-g", "25"]) throws -> String {
        let path = "\(dir)/t.ts"
        let r = try runProcess(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "2"] + video
                + ["-f", "mpegts", path])
        try #require(r.status == 0, "\(r.stderr)")
        return path
    }

    /// The PTS of every keyframe ffprobe finds in `path`'s video.
    static func probedKeyframes(_ path: String) throws -> [UInt64] {
        let r = try runProcess([
            "ffprobe", "-v", "error", "-show_frames", "-select_streams", "v", "-show_entries", "frame=key_frame,pts",
            "-of", "compact=p=0", path,
        ])
        try #require(r.status == 0, "\(r.stderr)")
        return r.stdout.split(separator: "\n").compactMap { line in
            let fields = Dictionary(
                line.split(separator: "|").compactMap { f -> (String, String)? in
                    let kv = f.split(separator: "=", maxSplits: 1)
                    return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
                }, uniquingKeysWith: { a, _ in a })
            guard fields["key_frame"] == "1", let pts = fields["pts"] else { return nil }
            return UInt64(pts)
        }
    }

    /// Feeds `ts` one 188-byte packet at a time; the PTS of each keyframe as it is found.
    static func feed(_ ts: [UInt8], into finder: inout TSKeyframeFinder) -> [UInt64?] {
        var found: [UInt64?] = []
        ts.withUnsafeBytes { b in
            var i = 0
            while i < b.count {
                let before = finder.keyframes
                finder.feed(UnsafeRawBufferPointer(rebasing: b[i..<min(i + 188, b.count)]), arrival: Int64(i))
                if finder.keyframes > before { found.append(finder.newest?.pts) }
                i += 188
            }
        }
        return found
    }

    /// Encoder and pixel format; libx264 alone: testsrc's RGB makes it choose 4:4:4.
    @Test(
        "ffmpeg's H.264/H.265 TS: keyframes at the PTS ffprobe calls key, the newest decodes to 320×240",
        arguments: ["libx264", "libx264 yuv420p", "libx264 yuv422p10le", "libx265 yuv420p"])
    func ffmpegKeyframes(encoding: String) throws {
        let dir = makeTemporaryDirectory("tskey")
        let words = encoding.split(separator: " ").map(String.init)
        let hevc = words[0] == "libx265"
        let quiet = hevc ? ["-x265-params", "log-level=error"] : []
        let format = words.count > 1 ? ["-pix_fmt", words[1]] : []
        let path = try Self.ffmpegTS(dir, video: ["-c:v", words[0], "-g", "25"] + format + quiet)
        let expected = try Self.probedKeyframes(path)
        try #require(expected.count == 2, "ffprobe: \(expected)")
        let ts = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var finder = TSKeyframeFinder()
        let found = Self.feed(ts, into: &finder)
        #expect(found == expected.map { Optional($0) }, "found \(found), ffprobe \(expected)")
        guard case .stream(let type, _) = finder.video else {
            Issue.record("video \(finder.video)")
            return
        }
        #expect(type == (hevc ? Self.hevc : Self.h264))
        #expect(finder.units >= 48 && finder.droppedUnits == 0, "units \(finder.units) dropped \(finder.droppedUnits)")
        let key = try #require(finder.newest)
        let picture = try KeyframeDecoder.decode(key.bytes, hevc: hevc)
        #expect(picture.width == 320 && picture.height == 240)
    }

    @Test("a packet lost inside each keyframe: no keyframe (the unit is dropped), the rest is read on")
    func lostPacket() throws {
        let dir = makeTemporaryDirectory("tskey")
        let path = try Self.ffmpegTS(dir)
        let ts = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var clean = TSKeyframeFinder()
        _ = Self.feed(ts, into: &clean)
        guard case .stream(_, let pid) = clean.video else { throw Failure("no video in \(clean.video)") }
        // The 3rd packet after each video PES start that begins a keyframe: drop it.
        var keyStarts: [Int] = []
        var i = 0
        while i + 188 <= ts.count {
            let p = Array(ts[i..<(i + 188)])
            if UInt16(p[1] & 0x1F) << 8 | UInt16(p[2]) == pid, p[1] & 0x40 != 0, p[3] & 0x20 != 0, p[5] & 0x40 != 0 {
                keyStarts.append(i)  // random_access_indicator: ffmpeg sets it on keyframes
            }
            i += 188
        }
        try #require(keyStarts.count == 2, "keyframe starts \(keyStarts)")
        var damaged = ts
        for start in keyStarts.reversed() {
            var k = start + 188
            var seen = 0
            while k + 188 <= damaged.count {
                if UInt16(damaged[k + 1] & 0x1F) << 8 | UInt16(damaged[k + 2]) == pid {
                    seen += 1
                    if seen == 3 { break }
                }
                k += 188
            }
            damaged.removeSubrange(k..<(k + 188))
        }
        var finder = TSKeyframeFinder()
        let found = Self.feed(damaged, into: &finder)
        #expect(found.isEmpty && finder.newest == nil, "found \(found)")
        #expect(finder.droppedUnits == 2 && finder.units >= 46, "dropped \(finder.droppedUnits) units \(finder.units)")
    }

    @Test("audio-only TS: no video, its stream types named; MPEG-2 video: unsupported, named")
    func noVideo() throws {
        let dir = makeTemporaryDirectory("tskey")
        let audio = "\(dir)/a.ts"
        let r = try runProcess([
            "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=1000:duration=1", "-c:a", "aac",
            "-f", "mpegts", audio,
        ])
        try #require(r.status == 0, "\(r.stderr)")
        var finder = TSKeyframeFinder()
        _ = Self.feed([UInt8](try Data(contentsOf: URL(fileURLWithPath: audio))), into: &finder)
        #expect(finder.video == .none(streamTypes: [Self.aac]) && finder.newest == nil, "\(finder.video)")
        #expect(ThumbnailSource.noVideo(finder.video)?.contains("no video stream") == true)

        let mpeg2 = try Self.ffmpegTS(dir, video: ["-c:v", "mpeg2video"])
        var m = TSKeyframeFinder()
        _ = Self.feed([UInt8](try Data(contentsOf: URL(fileURLWithPath: mpeg2))), into: &m)
        guard case .unsupported(let type, _) = m.video else { throw Failure("video \(m.video)") }
        #expect(type == Self.mpeg2Video && m.newest == nil)
        #expect(ThumbnailSource.noVideo(m.video)?.contains("stream type 0x02") == true)
    }

    @Test("garbage, truncated and bit-flipped TS: no keyframe from garbage, never a trap")
    func malformed() throws {
        var rng = SystemRandomNumberGenerator()
        // Garbage with sync bytes in place: every header field random.
        var garbage = (0..<(188 * 2000)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for i in stride(from: 0, to: garbage.count, by: 188) { garbage[i] = 0x47 }
        var g = TSKeyframeFinder()
        _ = Self.feed(garbage, into: &g)
        #expect(g.newest == nil, "a keyframe in random bytes")

        let dir = makeTemporaryDirectory("tskey")
        let ts = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try Self.ffmpegTS(dir))))
        // Truncated before the first keyframe's PES ends (its next PES start): nothing found.
        var t = TSKeyframeFinder()
        _ = Self.feed(Array(ts.prefix(188 * 20 + 77)), into: &t)
        #expect(t.newest == nil && t.keyframes == 0)
        // Bit flips everywhere (1 in 500 bytes), 20 times: no trap, whatever is found.
        for _ in 0..<20 {
            var flipped = ts
            for _ in 0..<(ts.count / 500) {
                flipped[Int.random(in: 0..<ts.count, using: &rng)] ^= UInt8(1) << UInt8.random(in: 0...7, using: &rng)
            }
            var f = TSKeyframeFinder()
            _ = Self.feed(flipped, into: &f)
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }
}
