import Foundation
import RillTestSupport
import Testing

/// The V4L2 mem2mem encoder backend against a real kernel mem2mem driver: vicodec (FWHT) in the
/// virtual board, through both the single- and the multi-planar API. `rill encoder-check` drives
/// the same `V4L2M2MEncoder` the encode stage uses (queues, controls, drain, restart, closed
/// queue); vicodec's decoder, driven by v4l2-ctl, decodes the result, and ffmpeg compares it with
/// the frames ffmpeg generated. Guest: Tests/vm/m2m-guest.sh.
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
            // Under TCG on 2 cores the guest runs in about 30 s.
            let r = try VirtualBoard.boot(guest: "m2m-guest.sh", share: share, vmTimeout: 240)
            status = r.status
            log = ((try? String(contentsOfFile: "\(share)/guest.log", encoding: .utf8)) ?? "") + r.stderr
            try? FileManager.default.removeItem(atPath: "\(share)/rill")
        }
    }

    static let boot = Result { try Boot() }

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
}
