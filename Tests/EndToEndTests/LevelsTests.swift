import Foundation
import RillTestSupport
import Testing

/// The box's audio meters (`GET /api/v1/levels`) on the test source's tone, against FFmpeg's
/// `ebur128` on the same programme received from an output.
@Suite("Audio levels on the API", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct LevelsTests {
    @Test(
        "the 1 kHz −20 dBFS tone: peak −20 ± 1 dBFS, RMS −23 ± 1 dBFS per channel; loudness within 1 LU of ffmpeg's ebur128 on the received programme"
    )
    func toneLevels() throws {
        let ns = try NetworkNamespace("levels")
        defer { ns.close() }
        let box = try APIBox(
            label: "levels", port: 18160, outputs: #"{ "id": "u", "url": "udp://127.0.0.1:5160" }"#, namespace: ns)
        defer { box.box.stop() }
        // Short-term loudness needs 3 s of audio.
        var levels: [String: Any] = [:]
        #expect(
            waitFor(timeout: 20) {
                levels = (try? box.json("GET", "/api/v1/levels")) ?? [:]
                return levels["shortTermLUFS"] is Double
            }, "levels: \(levels) \(box.box.log.suffix(1500))")
        let dir = box.box.directory
        let recording = "\(dir)/programme.ts"
        let r = try runProcess(
            ns.command([
                "ffmpeg", "-nostdin", "-v", "error", "-i", "udp://127.0.0.1:5160", "-t", "6", "-map", "0:a", "-c",
                "copy", "-f", "mpegts", "-y", recording,
            ]), timeout: 30)
        #expect(r.status == 0, "ffmpeg: \(r.stderr)")
        levels = try box.json("GET", "/api/v1/levels")
        let channels = try #require(levels["channels"] as? [[String: Any]], "\(levels)")
        #expect(channels.count == 2)
        for c in channels {
            let peak = try #require(c["peakDBFS"] as? Double, "\(c)")
            let rms = try #require(c["rmsDBFS"] as? Double, "\(c)")
            #expect(abs(peak + 20) <= 1, "peak \(peak) dBFS")
            #expect(abs(rms + 23) <= 1, "RMS \(rms) dBFS")
        }
        #expect(levels["sampleRate"] as? Int == 48_000)
        let age = levels["ageMs"] as? Int ?? .max
        #expect(age <= 200, "the reading is \(age) ms old (10 readings a second)")
        // FFmpeg decodes the programme's AAC and measures it; its last short-term reading.
        let out = "\(dir)/r128.txt"
        let m = try runProcess(
            [
                "ffmpeg", "-v", "error", "-i", recording, "-af", "ebur128=metadata=1,ametadata=print:file=\(out)",
                "-f", "null", "-",
            ], timeout: 60)
        #expect(m.status == 0, "ffmpeg ebur128: \(m.stderr)")
        let theirs =
            (try? String(contentsOfFile: out, encoding: .utf8))?.split(separator: "\n")
            .filter { $0.hasPrefix("lavfi.r128.S=") }.last.flatMap { Double($0.dropFirst(13)) }
        let reference = try #require(theirs, "no ebur128 reading")
        let momentary = try #require(levels["momentaryLUFS"] as? Double)
        let shortTerm = try #require(levels["shortTermLUFS"] as? Double)
        #expect(abs(shortTerm - reference) <= 1, "short-term \(shortTerm) LUFS, ffmpeg \(reference)")
        #expect(abs(momentary - reference) <= 1, "momentary \(momentary) LUFS, ffmpeg \(reference)")
        print("levels: \(channels), M \(momentary) S \(shortTerm) LUFS; ffmpeg ebur128 S \(reference) LUFS")
    }

    @Test("a gateway box has no raw audio: 503 with the reason, the API stays up")
    func gatewayHasNoLevels() throws {
        let ns = try NetworkNamespace("levelsgw")
        defer { ns.close() }
        let box = try APIBox(
            label: "levelsgw", port: 18161, outputs: #"{ "id": "u", "url": "udp://127.0.0.1:5161" }"#,
            namespace: ns, source: #"{ "type": "gateway", "url": "udp://127.0.0.1:5162" }"#)
        defer { box.box.stop() }
        #expect(
            waitFor(timeout: 20) { (try? box.curl("GET", "/api/v1/status").status) == 200 },
            "\(box.box.log.suffix(1500))")
        let r = try box.curl("GET", "/api/v1/levels")
        #expect(r.status == 503, "\(r)")
        #expect(r.body.contains("no raw audio"), "\(r.body)")
        #expect(try box.curl("GET", "/api/v1/status").status == 200)
    }
}
