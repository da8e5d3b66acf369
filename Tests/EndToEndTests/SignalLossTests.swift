import Foundation
import RillTestSupport
import Testing

/// The test source's own signal-loss control (`source.video.signal`): what a lost input looks like
/// to the status, the events and the program picture, checked with FFmpeg's signalstats.
@Suite("Test source signal loss", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct SignalLossTests {
    @Test(
        "signal \"lost\" through the config API: status says lost, INPUT_SIGNAL lost is raised, the program picture is the grey NO SIGNAL slate; \"present\" brings the bars back"
    )
    func slate() throws {
        let dir = makeTemporaryDirectory("signal")
        let (recorder, log) = try makeEventRecorder(in: dir)
        let ns = try NetworkNamespace("signal")
        defer { ns.close() }
        let box = try APIBox(
            label: "signal", port: 18165, outputs: #"{ "id": "u", "url": "udp://127.0.0.1:5165" }"#,
            events: #"{ "on": ["INPUT_SIGNAL"], "handler": "\#(recorder)" }"#, namespace: ns)
        defer { box.box.stop() }
        func signal() -> String? {
            (try? box.json("GET", "/api/v1/status"))?["source"].flatMap { ($0 as? [String: Any])?["signal"] as? String }
        }
        /// The program thumbnail's average colour saturation (FFmpeg signalstats SATAVG, 0 for grey).
        func programSaturation(_ name: String) throws -> Double? {
            let path = "\(box.box.directory)/\(name).jpg"
            let r = try runProcess(
                ns.command([
                    "curl", "-s", "-m", "10", "-o", path, "-w", "%{http_code}", "-H",
                    "Authorization: Bearer \(box.token)",
                    "http://127.0.0.1:18165/api/v1/thumbnails/program.jpg",
                ]), timeout: 15)
            guard r.stdout == "200" else { return nil }
            let stats = try runProcess([
                "ffprobe", "-v", "error", "-f", "lavfi", "-i", "movie=\(path),signalstats", "-show_entries",
                "frame_tags=lavfi.signalstats.SATAVG", "-of", "csv=p=0",
            ])
            return Double(stats.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(waitFor(timeout: 20) { signal() == "present" }, "\(box.box.log.suffix(1500))")
        var bars: Double? = nil
        #expect(
            waitFor(timeout: 10, interval: 0.5) {
                bars = try? programSaturation("bars")
                return bars != nil
            })
        #expect((bars ?? 0) > 20, "the colour bars are saturated: SATAVG \(bars ?? -1)")

        let lost = try box.curl("PATCH", "/api/v1/config", body: #"{ "source": { "video": { "signal": "lost" } } }"#)
        #expect(lost.status == 200, "\(lost)")
        #expect(waitFor(timeout: 10) { signal() == "lost" }, "status: \(signal() ?? "none")")
        var slate: Double? = nil
        #expect(
            waitFor(timeout: 10, interval: 0.5) {
                slate = try? programSaturation("slate")
                return slate.map { $0 < 2 } == true
            }, "the program picture is the grey slate: SATAVG \(slate ?? -1)")
        #expect(
            waitFor(timeout: 5) {
                ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("== INPUT_SIGNAL\nlost\n")
            }, "INPUT_SIGNAL: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "none")")

        let back = try box.curl("PATCH", "/api/v1/config", body: #"{ "source": { "video": { "signal": "present" } } }"#)
        #expect(back.status == 200)
        #expect(waitFor(timeout: 10) { signal() == "present" })
        var again: Double? = nil
        #expect(
            waitFor(timeout: 10, interval: 0.5) {
                again = try? programSaturation("again")
                return again.map { $0 > 20 } == true
            }, "the bars are back: SATAVG \(again ?? -1)")
        print("program picture saturation: bars \(bars ?? -1), slate \(slate ?? -1), bars again \(again ?? -1)")
    }
}
