import Foundation
import RillTestSupport
import Testing

/// The thumbnails on a running box: JPEGs of the raw picture and of the newest coded keyframe,
/// decoded by FFmpeg.
@Suite("Thumbnails on the API", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct ThumbnailTests {
    @Test(
        "source.jpg: ffmpeg decodes 320x180 (default) and 640x360 (?width=640 of a 640x360 source); no-store and a capture time; the picture changes between fetches a second apart; program.jpg shows the same bars decoded from the newest keyframe, a newer one a second later; a bad width is 400 naming it"
    )
    func sourceThumbnail() throws {
        let ns = try NetworkNamespace("thumb")
        defer { ns.close() }
        let box = try APIBox(
            label: "thumb", port: 18164, outputs: #"{ "id": "u", "url": "udp://127.0.0.1:5164" }"#, namespace: ns)
        defer { box.box.stop() }
        let dir = box.box.directory
        /// Fetches the thumbnail into `name`, returning the status and the response headers.
        func fetch(_ query: String, _ name: String, _ kind: String = "source") throws -> (status: Int, headers: String)
        {
            let r = try runProcess(
                ns.command([
                    "curl", "-s", "-m", "10", "-D", "\(dir)/\(name).headers", "-o", "\(dir)/\(name)", "-w",
                    "%{http_code}",
                    "-H", "Authorization: Bearer \(box.token)",
                    "http://127.0.0.1:18164/api/v1/thumbnails/\(kind).jpg\(query)",
                ]), timeout: 15)
            let headers = (try? String(contentsOfFile: "\(dir)/\(name).headers", encoding: .utf8)) ?? ""
            return (Int(r.stdout) ?? 0, headers)
        }
        #expect(waitFor(timeout: 20) { (try? fetch("", "a.jpg"))?.status == 200 }, "\(box.box.log.suffix(1500))")
        let a = try fetch("", "a.jpg")
        #expect(a.headers.lowercased().contains("content-type: image/jpeg"), "\(a.headers)")
        #expect(a.headers.lowercased().contains("cache-control: no-store"), "\(a.headers)")
        #expect(a.headers.lowercased().contains("x-rill-capture-time: "), "\(a.headers)")
        let age = a.headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-rill-picture-age-ms:") }
            .flatMap { Int($0.split(separator: " ").last ?? "") }
        #expect(age.map { $0 >= 0 && $0 < 1000 } == true, "picture age: \(a.headers)")
        let small = try ffprobeStreams("\(dir)/a.jpg")
        #expect(small.first?.codec == "mjpeg" && small.first?.width == 320 && small.first?.height == 180, "\(small)")
        Thread.sleep(forTimeInterval: 1.2)  // past the 1 s cache: a newer picture
        let b = try fetch("", "b.jpg")
        #expect(b.status == 200)
        // The test source's frame counter and moving bar: the two pictures differ (FFmpeg's PSNR < 60 dB).
        let psnr = try runProcess([
            "ffmpeg", "-i", "\(dir)/a.jpg", "-i", "\(dir)/b.jpg", "-lavfi", "[0][1]psnr", "-f", "null", "-",
        ])
        let line = psnr.stderr.split(separator: "\n").first { $0.contains("PSNR y:") } ?? ""
        #expect(!line.contains("average:inf") && !line.isEmpty, "the pictures are identical: \(line)")
        let big = try fetch("?width=640", "c.jpg")
        #expect(big.status == 200)
        let full = try ffprobeStreams("\(dir)/c.jpg")
        #expect(full.first?.width == 640 && full.first?.height == 360, "\(full)")
        // The program picture: the newest coded keyframe as libavcodec decodes it. The same bars as
        // the source (the top 110 of 180 lines: below them the counter and the moving square are of
        // other instants), so ≥ 30 dB there; a picture decoded wrong would not be.
        let p1 = try fetch("", "p1.jpg", "program")
        #expect(p1.status == 200 && p1.headers.lowercased().contains("x-rill-capture-time: "), "\(p1)")
        let program = try ffprobeStreams("\(dir)/p1.jpg")
        #expect(program.first?.width == 320 && program.first?.height == 180, "\(program)")
        let similar = try runProcess([
            "ffmpeg", "-i", "\(dir)/b.jpg", "-i", "\(dir)/p1.jpg", "-lavfi",
            "[0]crop=320:110:0:0[a];[1]crop=320:110:0:0[b];[a][b]psnr", "-f", "null", "-",
        ])
        let psnrLine = similar.stderr.split(separator: "\n").first { $0.contains("PSNR y:") } ?? ""
        let average =
            psnrLine.split(separator: " ").first { $0.hasPrefix("average:") }.flatMap { Double($0.dropFirst(8)) } ?? 0
        #expect(average >= 30, "program vs source, bars: \(psnrLine)")
        Thread.sleep(forTimeInterval: 1.2)  // a second later: the next keyframe (keyint 25 at 25 fps)
        let p2 = try fetch("", "p2.jpg", "program")
        func captureTime(_ headers: String) -> String? {
            headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-rill-capture-time:") }.map(
                String.init)
        }
        #expect(p2.status == 200 && captureTime(p2.headers) != captureTime(p1.headers), "\(p1.headers) \(p2.headers)")
        print("program thumbnail vs source: \(psnrLine)")
        for bad in ["?width=10", "?width=abc", "?width=4000"] {
            let r = try box.curl("GET", "/api/v1/thumbnails/source.jpg\(bad)")
            #expect(r.status == 400, "\(bad): \(r)")
            let problem = (try? JSONSerialization.jsonObject(with: Data(r.body.utf8))) as? [String: Any] ?? [:]
            #expect(problem["path"] as? String == "width", "\(bad): \(r.body)")
        }
    }
}
