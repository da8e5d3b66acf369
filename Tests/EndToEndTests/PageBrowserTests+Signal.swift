import Foundation
import RillTestSupport
import Testing

/// FFmpeg's PSNR (average, dB) of picture `a` against picture `b` scaled to `a`'s size.
private func psnr(_ a: String, _ b: String) throws -> Double {
    let r = try runProcess(
        [
            "ffmpeg", "-nostdin", "-v", "info", "-i", a, "-i", b, "-lavfi", "[1:v][0:v]scale2ref[b][a];[a][b]psnr",
            "-f", "null", "-",
        ], timeout: 30)
    guard let line = r.stderr.split(separator: "\n").last(where: { $0.contains("PSNR") }),
        let range = line.range(of: "average:")
    else { throw TestEnvironmentError("ffmpeg psnr \(a) \(b): \(r.stderr.suffix(400))") }
    let value = line[range.upperBound...].prefix { !$0.isWhitespace }
    return value == "inf" ? 99 : Double(value) ?? 0
}

/// Signal loss on the page (issue 11: "Signal loss … turns the source card red and the program
/// thumbnail shows the slate"), with the test source's NO SIGNAL slate (`source.video.signal`).
extension PageBrowserTests {
    @Test(
        "signal lost: the source card turns to alarm (LOST) and the program thumbnail shows the slate FFmpeg decodes from the wire; back to OK when the signal returns"
    )
    func signalLoss() throws {
        let ns = try NetworkNamespace("pagesig")
        defer { ns.close() }
        let box = try APIBox(
            label: "pagesig", port: 18306, outputs: #"{ "id": "u", "url": "udp://127.0.0.1:5350" }"#, namespace: ns,
            adminPassword: pageTestPassword)
        defer { box.box.stop() }
        #expect(waitFor(timeout: 20) { outputState(box, "u").packets > 100 }, "\(box.box.log.suffix(1500))")
        let dir = box.box.directory
        /// One picture as a receiver of the output decodes it (the first keyframe it gets).
        func wireFrame(_ name: String) throws -> String {
            let png = "\(dir)/\(name).png"
            let r = try runProcess(
                ns.command([
                    "ffmpeg", "-nostdin", "-v", "error", "-i", "udp://127.0.0.1:5350", "-frames:v", "1", "-y", png,
                ]), timeout: 20)
            #expect(r.status == 0, "ffmpeg from the wire: \(r.stderr)")
            return png
        }
        func signal(_ value: String) throws {
            let r = try box.curl("PATCH", "/api/v1/config/source", body: #"{ "video": { "signal": "\#(value)" } }"#)
            #expect(r.status == 200, "PATCH signal \(value): \(r)")
        }
        let run = try BrowserRun("signal_loss.py", box: box, arguments: ["--out", "\(dir)/page"])
        var barsWire = ""
        var slateWire = ""
        if run.reached("lose") {
            barsWire = try wireFrame("wire-bars")
            try signal("lost")
            run.go("lose")
        }
        if run.reached("restore") {
            slateWire = try wireFrame("wire-slate")
            try signal("present")
            run.go("restore")
        }
        let o = run.finish()
        #expect((o["before"] as? [String])?.first == "ok", "\(o["before"] ?? "")")
        #expect((o["lost"] as? [String]) == ["alarm", "LOST", "lost"], "source card: \(o["lost"] ?? "")")
        #expect((o["restored"] as? [String])?.first == "ok", "\(o["restored"] ?? "")")
        // The live event log, newest first: the signal's event above the config change that caused it.
        let kinds = o["eventKinds"] as? [String] ?? []
        #expect(
            kinds.first == "INPUT_SIGNAL" && kinds.dropFirst().contains("CONFIG_CHANGED"), "event log: \(kinds)")
        #expect((o["consoleErrors"] as? [Any])?.isEmpty == true, "\(o["consoleErrors"] ?? "")")

        // The page's program thumbnails against what FFmpeg decoded from the wire: each is much
        // closer to its own moment's picture than to the other one.
        guard let barsPage = o["barsThumb"] as? String, let slatePage = o["slateThumb"] as? String,
            !barsWire.isEmpty, !slateWire.isEmpty
        else { return }
        let slateVsSlate = try psnr(slatePage, slateWire)
        let slateVsBars = try psnr(slatePage, barsWire)
        let barsVsBars = try psnr(barsPage, barsWire)
        let barsVsSlate = try psnr(barsPage, slateWire)
        #expect(
            slateVsSlate > slateVsBars + 6,
            "slate thumbnail: \(slateVsSlate) dB to the slate, \(slateVsBars) dB to the bars")
        #expect(
            barsVsBars > barsVsSlate + 6, "bars thumbnail: \(barsVsBars) dB to the bars, \(barsVsSlate) dB to the slate"
        )
        print(
            "page signal loss: alarm after \(o["alarmSeconds"] ?? "?") s; PSNR slate/slate \(slateVsSlate), slate/bars \(slateVsBars), bars/bars \(barsVsBars), bars/slate \(barsVsSlate) dB; events \(o["eventKinds"] ?? "")"
        )
    }
}
