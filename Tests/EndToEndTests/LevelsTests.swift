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
        let lines = (try? String(contentsOfFile: out, encoding: .utf8))?.split(separator: "\n") ?? []
        func last(_ key: String) -> Double? {
            lines.filter { $0.hasPrefix("lavfi.r128.\(key)=") }.last.flatMap { Double($0.dropFirst(13)) }
        }
        let theirM = try #require(last("M"), "no ebur128 reading")
        let theirS = try #require(last("S"), "no ebur128 reading")
        let momentary = try #require(levels["momentaryLUFS"] as? Double)
        let shortTerm = try #require(levels["shortTermLUFS"] as? Double)
        #expect(abs(momentary - theirM) <= 1, "momentary \(momentary) LUFS, ffmpeg \(theirM)")
        #expect(abs(shortTerm - theirS) <= 1, "short-term \(shortTerm) LUFS, ffmpeg \(theirS)")
        print("levels: \(channels), M \(momentary) S \(shortTerm) LUFS; ffmpeg ebur128 M \(theirM) S \(theirS) LUFS")
    }

    @Test(
        "levels as Server-Sent Events at 10 Hz; AUDIO_SILENCE and AUDIO_CLIP start and end as the tone is turned to −96 dBFS, to 0 dBFS and back through the config API"
    )
    func alarms() throws {
        let dir = makeTemporaryDirectory("alarms")
        let (recorder, log) = try makeEventRecorder(in: dir)
        let ns = try NetworkNamespace("alarms")
        defer { ns.close() }
        let box = try APIBox(
            label: "alarms", port: 18163, outputs: #"{ "id": "u", "url": "udp://127.0.0.1:5163" }"#,
            events: #"{ "on": ["AUDIO_SILENCE", "AUDIO_CLIP"], "handler": "\#(recorder)" }"#, namespace: ns)
        defer { box.box.stop() }
        #expect(
            waitFor(timeout: 20) { (try? box.json("GET", "/api/v1/levels"))?["momentaryLUFS"] is Double },
            "\(box.box.log.suffix(1500))")
        // Two seconds of the stream: about 20 readings, each a full JSON reading.
        let sse = try runProcess(
            ns.command([
                "curl", "-s", "-N", "-m", "2", "-H", "Authorization: Bearer \(box.token)",
                "http://127.0.0.1:18163/api/v1/levels?stream=1",
            ]), timeout: 10)
        let data = sse.stdout.split(separator: "\n").filter { $0.hasPrefix("data: ") }.map { $0.dropFirst(6) }
        #expect(data.count >= 15 && data.count <= 25, "\(data.count) readings in 2 s")
        let parsed = data.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(parsed.count == data.count && parsed.allSatisfy { ($0["channels"] as? [Any])?.count == 2 })
        #expect(sse.stdout.components(separatedBy: "event: levels\n").count - 1 == data.count)

        func logged(_ text: String, within seconds: Double) -> Bool {
            waitFor(timeout: seconds) { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains(text) }
        }
        func tone(_ level: Int) throws {
            let r = try box.curl("PATCH", "/api/v1/config/source", body: #"{ "audio": { "level": \#(level) } }"#)
            #expect(r.status == 200, "PATCH level \(level): \(r)")
        }
        let put = try box.curl(
            "PUT", "/api/v1/config/monitoring", body: #"{ "silenceSeconds": 1, "clipHoldSeconds": 1 }"#)
        #expect(put.status == 200, "\(put)")
        #expect(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").isEmpty, "an alarm on the plain tone")
        try tone(-96)
        #expect(logged("== AUDIO_SILENCE\nstart\n", within: 10), "\(box.box.log.suffix(1500))")
        let quiet = try box.json("GET", "/api/v1/levels")
        let rms = (quiet["channels"] as? [[String: Any]])?.compactMap { $0["rmsDBFS"] as? Double } ?? []
        #expect(rms.allSatisfy { $0 < -60 }, "\(quiet)")
        try tone(0)
        #expect(logged("== AUDIO_CLIP\nstart\n1,2\n", within: 10), "\(box.box.log.suffix(1500))")
        #expect(logged("== AUDIO_SILENCE\nend\n", within: 5))
        try tone(-20)
        #expect(logged("== AUDIO_CLIP\nend\n1,2\n", within: 10), "\(box.box.log.suffix(1500))")
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(text.components(separatedBy: "== ").count - 1 == 4, "exactly four alarm events: \(text)")
        print("alarms: \(text.replacingOccurrences(of: "\n", with: " | "))")
    }

    @Test("a gateway box has no raw audio: 503 with the reason, the API stays up")
    func gatewayHasNoLevels() throws {
        let ns = try NetworkNamespace("levelsgw")
        defer { ns.close() }
        let box = try APIBox(
            label: "levelsgw", port: 18161, outputs: #"{ "id": "u", "url": "udp://127.0.0.1:5161" }"#,
            namespace: ns, source: #"{ "type": "gateway", "url": "udp://127.0.0.1:5162" }"#)
        defer { box.box.stop() }
        #expect(box.answers(within: 20), "\(box.box.log.suffix(1500))")
        let r = try box.curl("GET", "/api/v1/levels")
        #expect(r.status == 503, "\(r)")
        #expect(r.body.contains("no raw audio"), "\(r.body)")
        #expect(try box.curl("GET", "/api/v1/status").status == 200)
    }
}
