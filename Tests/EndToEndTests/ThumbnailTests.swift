import Foundation
import RillTestSupport
import Testing

/// The source thumbnail on a running box: JPEG of the raw picture, decoded by FFmpeg.
@Suite("Source thumbnail on the API", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct ThumbnailTests {
    @Test(
        "source.jpg: ffmpeg decodes 320x180 (default) and 640x360 (?width=640 of a 640x360 source); no-store and a capture time; the picture changes between fetches a second apart; a bad width is 400 naming it"
    )
    func sourceThumbnail() throws {
        let ns = try NetworkNamespace("thumb")
        defer { ns.close() }
        let box = try APIBox(
            label: "thumb", port: 18164, outputs: #"{ "id": "u", "url": "udp://127.0.0.1:5164" }"#, namespace: ns)
        defer { box.box.stop() }
        let dir = box.box.directory
        /// Fetches the thumbnail into `name`, returning the status and the response headers.
        func fetch(_ query: String, _ name: String) throws -> (status: Int, headers: String) {
            let r = try runProcess(
                ns.command([
                    "curl", "-s", "-m", "10", "-D", "\(dir)/\(name).headers", "-o", "\(dir)/\(name)", "-w",
                    "%{http_code}",
                    "-H", "Authorization: Bearer \(box.token)",
                    "http://127.0.0.1:18164/api/v1/thumbnails/source.jpg\(query)",
                ]), timeout: 15)
            let headers = (try? String(contentsOfFile: "\(dir)/\(name).headers", encoding: .utf8)) ?? ""
            return (Int(r.stdout) ?? 0, headers)
        }
        #expect(waitFor(timeout: 20) { (try? fetch("", "a.jpg"))?.status == 200 }, "\(box.box.log.suffix(1500))")
        let a = try fetch("", "a.jpg")
        #expect(a.headers.lowercased().contains("content-type: image/jpeg"), "\(a.headers)")
        #expect(a.headers.lowercased().contains("cache-control: no-store"), "\(a.headers)")
        #expect(a.headers.lowercased().contains("x-rill-capture-time: "), "\(a.headers)")
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
        for bad in ["?width=10", "?width=abc", "?width=4000"] {
            let r = try box.curl("GET", "/api/v1/thumbnails/source.jpg\(bad)")
            #expect(r.status == 400, "\(bad): \(r)")
            let problem = (try? JSONSerialization.jsonObject(with: Data(r.body.utf8))) as? [String: Any] ?? [:]
            #expect(problem["path"] as? String == "width", "\(bad): \(r.body)")
        }
    }
}
