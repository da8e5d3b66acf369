import Foundation
import RillTestSupport
import Testing

/// The V4L2 mem2mem encoder backend against a real kernel mem2mem driver: vicodec (FWHT) in the
/// virtual board, through both the single- and the multi-planar API. `rill encoder-check` drives
/// the same `V4L2M2MEncoder` the encode stage uses (queues, controls, drain, restart, closed
/// queue); vicodec's decoder, driven by v4l2-ctl, decodes the result, and ffmpeg compares it with
/// the frames ffmpeg generated. Then the backend inside the box's chain: vivid → vcap → encode-video
/// (vicodec, codec "fwht") → coded ring, copied by `rill ring read` and decoded by vicodec's decoder,
/// with the mux beside it refusing to send FWHT as H.264. Guest: Tests/vm/m2m-guest.sh.
@Suite("mem2mem encoder in the virtual board", .serialized, .tags(.endToEnd, .needsRoot, .peer, .virtualBoard))
struct M2MVMTests {
    struct Boot: Sendable {
        let share: String
        let status: Int32
        let log: String

        init() throws {
            share = try VirtualBoard.makeShare("m2m")
            let frames = try runProcess([
                "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x480:rate=30", "-frames:v", "30",
                "-pix_fmt", "yuv420p", "-f", "rawvideo", "-y", "\(share)/in.yuv",
            ])
            guard frames.status == 0 else { throw TestEnvironmentError("ffmpeg: \(frames.stderr)") }
            try M2MVMTests.pipelineConfig.write(toFile: "\(share)/pipeline.json", atomically: true, encoding: .utf8)
            // Under TCG on 2 cores the guest runs in about 30 s, and the pipeline step about as long again.
            let r = try VirtualBoard.boot(guest: "m2m-guest.sh", share: share, vmTimeout: 420)
            status = r.status
            log = ((try? String(contentsOfFile: "\(share)/guest.log", encoding: .utf8)) ?? "") + r.stderr
            try? FileManager.default.removeItem(atPath: "\(share)/rill")
        }
    }

    static let boot = Result { try Boot() }

    /// The pipeline step's box; the guest puts in vivid's node and vicodec's encoder node. 640x360:
    /// asked for 320x180, vicodec (Linux 6.1) answered 640x368, and the backend refuses a raster the
    /// driver changed (it neither pads nor crops), naming both.
    static let pipeline = (width: 640, height: 360, keyint: 10)
    static let pipelineConfig = """
        {
          "system": { "instance": "pipe", "runDirectory": "/tmp/run" },
          "source": { "type": "capture",
                      "video": { "device": "@CAPTURE@", "width": \(pipeline.width), "height": \(pipeline.height), "fps": 30, "pixelFormat": "YUV420" },
                      "audio": { "device": "hw:Loopback,1,0", "sampleRate": 48000, "channels": 2 } },
          "encoders": { "video": { "codec": "fwht", "backend": "v4l2m2m", "device": "@ENCODER@", "bitrate": 2000000, "keyint": \(pipeline.keyint) },
                        "audio": { "codec": "mp2", "bitrate": 128000 } },
          "program": { "mode": "vbr", "videoPID": 256, "audioPID": 257 },
          "outputs": [ { "id": "udp", "url": "udp://127.0.0.1:5000" } ],
          "api": { "enabled": false }
        }
        """

    let share: String
    let log: String

    init() throws {
        let b = try Self.boot.get()
        share = b.share
        log = b.log
        #expect(b.status == 0, "virtual board: \(b.log.suffix(2000))")
    }

    func text(_ name: String) -> String {
        ((try? String(contentsOfFile: "\(share)/\(name)", encoding: .utf8)) ?? "").trimmingCharacters(
            in: .whitespacesAndNewlines)
    }

    @Test(
        "encodes N frames, drains to LAST, restarts, drains again; a stopped queue is an error, not a crash",
        arguments: ["sp", "mp"])
    func encodeAndDrain(api: String) throws {
        #expect(text("\(api).rc") == "0", "\(api): \(text("\(api).err")) \(log.suffix(1000))")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(text("\(api).json").utf8)) as? [String: Any], "\(api).json")
        #expect(report["driver"] as? String == "vicodec")
        #expect(report["multiplanar"] as? Bool == (api == "mp"), "\(report)")
        let runs = try #require(report["runs"] as? [[String: Any]])
        #expect(runs.count == 2)
        for run in runs {
            #expect(run["framesIn"] as? Int == 30 && run["accessUnits"] as? Int == 30, "\(run)")
            #expect(run["drained"] as? Bool == true, "\(run)")
            // After the LAST buffer the kernel answers EPIPE; the backend reports it as such.
            #expect((run["dequeueAfterDrain"] as? String)?.contains("Broken pipe") == true, "\(run)")
        }
        #expect((report["encodeAfterClose"] as? String)?.contains("after close") == true, "\(report)")
        #expect(report["refusedControls"] as? [String] == [], "vicodec refused \(report["refusedControls"] ?? "")")
        #expect(report["ptsInOrder"] as? Bool == true)
        // vicodec flags no buffer KEYFRAME: the backend reads the FWHT header's I-frame bit.
        #expect(report["keyframes"] as? Int == 6, "keyframes in 60 units, GOP 10: \(report["keyframes"] ?? "")")
    }

    @Test(
        "vicodec's decoder (v4l2-ctl) decodes all 60 frames, an I-frame every 10 (the GOP control), ≥ 30 dB PSNR",
        arguments: ["sp", "mp"])
    func decodes(api: String) throws {
        // v4l2-ctl prints one letter per decoded frame: K (key) or P.
        let letters = text("\(api).decode").split(separator: "\n").filter { $0.allSatisfy { $0 == "K" || $0 == "P" } }
            .joined()
        #expect(
            letters == String(repeating: "KPPPPPPPPP", count: 6),
            "decoder saw \(letters) \(text("\(api).decode").suffix(300))")
        // The 60 encoded frames are the 30 input frames twice.
        let psnr = try runProcess(
            [
                "ffmpeg", "-f", "rawvideo", "-s", "640x480", "-pix_fmt", "yuv420p", "-stream_loop", "1", "-i",
                "\(share)/in.yuv",
                "-f", "rawvideo", "-s", "640x480", "-pix_fmt", "yuv420p", "-i", "\(share)/\(api).yuv",
                "-lavfi", "[0][1]psnr", "-f", "null", "-",
            ], timeout: 120)
        let line = psnr.stderr.split(separator: "\n").first { $0.contains("PSNR y:") } ?? ""
        let average =
            line.split(separator: " ").first { $0.hasPrefix("average:") }.flatMap { Double($0.dropFirst(8)) } ?? 0
        #expect(average >= 30, "PSNR: \(line) \(psnr.stderr.suffix(300))")
        let frames = (try? FileManager.default.attributesOfItem(atPath: "\(share)/\(api).yuv")[.size] as? Int) ?? 0
        #expect(frames == 60 * 640 * 480 * 3 / 2, "decoded \(frames) bytes")
        print("vicodec \(api): \(letters.count) frames decoded, \(line)")
    }

    @Test("H.264 from an FWHT-only encoder, or a missing node: exit 1 with the device and the reason")
    func refusals() {
        for api in ["sp", "mp"] {
            #expect(text("\(api)-h264.rc") == "1")
            #expect(text("\(api)-h264.err").contains("does not encode h264"), "\(text("\(api)-h264.err"))")
        }
        #expect(text("missing.rc") == "1")
        #expect(text("missing.err").contains("/dev/video99: open"), "\(text("missing.err"))")
    }

    /// One `rill ring read` record line.
    struct RingRecord {
        var pts: Int64
        var keyframe: Bool
        var length: Int
    }

    func records(_ name: String) -> [RingRecord] {
        text(name).split(separator: "\n").compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                o["event"] as? String == "record", let pts = (o["pts"] as? NSNumber)?.int64Value,
                let length = o["length"] as? Int
            else { return nil }
            return RingRecord(pts: pts, keyframe: o["keyframe"] as? Bool ?? false, length: length)
        }
    }

    @Test(
        "the box's chain with vicodec: vivid → vcap → encode-video → coded ring; vicodec's decoder decodes all 60 units, its key frames are the ring's, every PTS is a captured frame's, ≥ 30 dB against the captured pictures"
    )
    func pipeline() throws {
        let (w, h) = (Self.pipeline.width, Self.pipeline.height)
        let frameBytes = w * h * 3 / 2
        #expect(text("pipeline.rc") == "0", "box exit: \(text("pipeline.log").suffix(1500))")
        let coded = records("pipeline-coded.jsonl")
        let raw = records("pipeline-raw.jsonl")
        try #require(coded.count == 60, "coded ring: \(coded.count) records; \(text("pipeline.log").suffix(1500))")
        try #require(raw.count >= 60, "raw ring: \(raw.count) records")
        #expect(raw.allSatisfy { $0.length == frameBytes }, "raw frames of \(Set(raw.map(\.length))) bytes")
        // The raw copy runs at SCHED_FIFO 99, above the box's real-time stages, so it keeps up with
        // the 8-slot ring even in an emulated guest; were it to fall behind, this says so.
        let rawLost = text("pipeline-raw.jsonl").split(separator: "\n").filter { $0.contains("\"event\":\"lost\"") }
        try #require(rawLost.isEmpty, "the raw copy fell behind the 8-slot ring: \(rawLost)")
        // The encoder keeps capture's PTS (through the buffer index it gives the driver) and order.
        let rawIndex = Dictionary(raw.enumerated().map { ($1.pts, $0) }, uniquingKeysWith: { a, _ in a })
        let matched = coded.compactMap { rawIndex[$0.pts] }
        #expect(
            matched.count == coded.count, "\(coded.count - matched.count) coded units carry a PTS no captured frame had"
        )
        #expect(zip(coded, coded.dropFirst()).allSatisfy { $0.pts < $1.pts }, "coded PTS out of order")
        // The GOP: a keyframe every `keyint` units (the encoder's GOP control), as the ring says.
        let keys = coded.enumerated().filter(\.element.keyframe).map(\.offset)
        #expect(keys.count >= 5, "keyframes at \(keys)")
        #expect(zip(keys, keys.dropFirst()).allSatisfy { $1 - $0 == Self.pipeline.keyint }, "keyframes at \(keys)")
        // vicodec's decoder (v4l2-ctl) prints K or P per decoded frame: the ring's flags, unit by unit.
        let letters = text("pipeline.decode").split(separator: "\n")
            .filter { !$0.isEmpty && $0.allSatisfy { $0 == "K" || $0 == "P" } }.joined()
        #expect(
            letters == String(coded.map { $0.keyframe ? "K" : "P" }),
            "decoder: \(letters) \(text("pipeline.decode").suffix(300))")
        let decoded = try Data(contentsOf: URL(fileURLWithPath: "\(share)/pipeline.yuv"))
        let captured = try Data(contentsOf: URL(fileURLWithPath: "\(share)/pipeline-raw.yuv"))
        // vicodec's decoder rounds the chroma height up to a multiple of 8 lines and the luma to
        // twice that (360 → 368: chroma 180 → 184); the picture is the top of each plane.
        let paddedHeight = (h / 2 + 7) / 8 * 8 * 2
        let decodedBytes = w * paddedHeight * 3 / 2
        try #require(decoded.count == coded.count * decodedBytes, "decoded \(decoded.count) bytes")
        func picture(_ frame: Data) -> Data {
            let base = frame.startIndex
            let luma = frame[base..<(base + w * h)]
            let cb = base + w * paddedHeight
            let cr = cb + w * paddedHeight / 4
            return luma + frame[cb..<(cb + w * h / 4)] + frame[cr..<(cr + w * h / 4)]
        }
        // From the first keyframe on (a unit before it refers to a picture the decoder never saw),
        // each decoded picture against the captured one with its PTS.
        let first = try #require(keys.first)
        var a = Data()
        var b = Data()
        for i in first..<coded.count {
            guard let r = rawIndex[coded[i].pts], (r + 1) * frameBytes <= captured.count else { continue }
            a.append(picture(decoded[(i * decodedBytes)..<((i + 1) * decodedBytes)]))
            b.append(captured[(r * frameBytes)..<((r + 1) * frameBytes)])
        }
        try a.write(to: URL(fileURLWithPath: "\(share)/pipeline-decoded-matched.yuv"))
        try b.write(to: URL(fileURLWithPath: "\(share)/pipeline-captured-matched.yuv"))
        let size = "\(w)x\(h)"
        let psnr = try runProcess(
            [
                "ffmpeg", "-f", "rawvideo", "-s", size, "-pix_fmt", "yuv420p", "-i",
                "\(share)/pipeline-captured-matched.yuv", "-f", "rawvideo", "-s", size, "-pix_fmt", "yuv420p", "-i",
                "\(share)/pipeline-decoded-matched.yuv", "-lavfi", "[0][1]psnr", "-f", "null", "-",
            ], timeout: 120)
        let line = psnr.stderr.split(separator: "\n").first { $0.contains("PSNR y:") } ?? ""
        let average =
            line.split(separator: " ").first { $0.hasPrefix("average:") }.flatMap { Double($0.dropFirst(8)) } ?? 0
        #expect(average >= 30, "PSNR: \(line) \(psnr.stderr.suffix(300))")
        print(
            "vicodec in the box's chain: \(coded.count) units, keyframes at \(keys), \(a.count / frameBytes) compared, \(line)"
        )
    }

    @Test("the mux sends no FWHT as H.264: it logs the refusal, the video PID carries no PES, the audio flows")
    func muxRefusesFWHT() throws {
        #expect(
            text("pipeline.log").contains("fwht cannot be carried as the programme's H.264 video"),
            "\(text("pipeline.log").suffix(1500))")
        let r = try runProcess(
            [
                "ffprobe", "-v", "error", "-count_packets", "-show_entries", "stream=index,codec_type,nb_read_packets",
                "-of", "json", "\(share)/pipeline.ts",
            ], timeout: 60)
        let streams =
            ((try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["streams"]
                as? [[String: Any]]) ?? []
        let packets = { (type: String) in
            streams.filter { $0["codec_type"] as? String == type }.map {
                Int($0["nb_read_packets"] as? String ?? "") ?? 0
            }
        }
        #expect(packets("audio").first ?? 0 > 25, "ffprobe: \(r.stdout) \(r.stderr.prefix(300))")
        #expect(packets("video").allSatisfy { $0 == 0 }, "ffprobe: \(r.stdout)")
    }
}
