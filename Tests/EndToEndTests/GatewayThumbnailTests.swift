import Foundation
import RillTestSupport
import Testing

/// The gateway's program thumbnail: the newest keyframe of the TS the box receives (FFmpeg sending
/// over UDP), decoded, as JPEG; FFmpeg decodes it. A gateway has no raw picture.
@Suite("Gateway program thumbnail", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct GatewayThumbnailTests {
    /// FFmpeg sending `input` as MPEG-TS in 1316-byte datagrams to `port` for `seconds`, in real time.
    static func sender(_ ns: NetworkNamespace, _ input: [String], port: Int, seconds: Int, log: String) throws
        -> PeerProcess
    {
        try PeerProcess(
            ns.command(
                ["ffmpeg", "-nostdin", "-v", "error", "-re"] + input + ["-t", "\(seconds)"]
                    + ["-f", "mpegts", "udp://127.0.0.1:\(port)?pkt_size=1316"]),
            output: log)
    }

    /// GET `kind`.jpg`query` into `name`: status, headers, body file, seconds curl took.
    static func fetch(_ box: APIBox, _ kind: String, _ query: String, _ name: String) throws -> (
        status: Int, headers: String, path: String, seconds: Double
    ) {
        let dir = box.box.directory
        let r = try runProcess(
            (box.namespace?.command([]) ?? []) + [
                "curl", "-s", "-m", "10", "-D", "\(dir)/\(name).headers", "-o", "\(dir)/\(name)", "-w",
                "%{http_code} %{time_total}", "-H", "Authorization: Bearer \(box.token)",
                "http://127.0.0.1:\(box.port)/api/v1/thumbnails/\(kind).jpg\(query)",
            ], timeout: 15)
        let parts = r.stdout.split(separator: " ")
        let headers = (try? String(contentsOfFile: "\(dir)/\(name).headers", encoding: .utf8)) ?? ""
        return (
            Int(parts.first ?? "") ?? 0, headers, "\(dir)/\(name)", parts.count > 1 ? Double(parts[1]) ?? 0 : 0
        )
    }

    static func header(_ name: String, _ headers: String) -> String? {
        headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix(name.lowercased() + ":") }.map {
            $0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)
        }
    }

    @Test(
        "a gateway fed H.264 by FFmpeg over UDP: program.jpg?width=320 is a 320-wide JPEG FFmpeg decodes, with the keyframe's arrival time; 2 s later another picture; source.jpg is 503 saying gateway"
    )
    func programFromReceivedTS() throws {
        let ns = try NetworkNamespace("gwthumb")
        defer { ns.close() }
        let box = try APIBox(
            label: "gwthumb", port: 18166, outputs: #"{ "id": "u", "url": "udp://127.0.0.1:5166" }"#,
            namespace: ns, source: #"{ "type": "gateway", "url": "udp://127.0.0.1:5167" }"#)
        defer { box.box.stop() }
        #expect(box.answers(within: 20), "\(box.box.log.suffix(1500))")
        let dir = box.box.directory
        // testsrc: a seconds counter and a moving gradient, 640×360, a keyframe a second.
        let video = [
            "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
            "-pix_fmt", "yuv420p",
        ]
        let sender = try Self.sender(ns, video, port: 5167, seconds: 30, log: "\(dir)/ffmpeg.log")
        defer { sender.stop(SIGKILL) }
        #expect(
            waitFor(timeout: 20) { (try? Self.fetch(box, "program", "?width=320", "p1.jpg"))?.status == 200 },
            "\(box.box.log.suffix(1500))")
        let p1 = try Self.fetch(box, "program", "?width=320", "p1.jpg")
        #expect(p1.status == 200 && p1.headers.lowercased().contains("content-type: image/jpeg"), "\(p1.headers)")
        let first = try ffprobeStreams(p1.path)
        #expect(first.first?.codec == "mjpeg" && first.first?.width == 320 && first.first?.height == 180, "\(first)")
        let t1 = Self.header("X-Rill-Capture-Time", p1.headers).flatMap { Int64($0) }
        let age = Self.header("X-Rill-Picture-Age-Ms", p1.headers).flatMap { Int($0) }
        #expect(t1 != nil && age.map { $0 >= 0 && $0 < 3000 } == true, "\(p1.headers)")
        Thread.sleep(forTimeInterval: 2)
        // Past the 1 s cache: made anew (the time it takes is the figure the README gives).
        let p2 = try Self.fetch(box, "program", "?width=320", "p2.jpg")
        #expect(p2.status == 200, "\(p2.headers)")
        let t2 = Self.header("X-Rill-Capture-Time", p2.headers).flatMap { Int64($0) }
        #expect(
            t1 != nil && t2 != nil && t2! - t1! >= 500_000_000, "capture times \(String(describing: t1)) → \(t2 ?? 0)")
        let psnr = try runProcess([
            "ffmpeg", "-i", p1.path, "-i", p2.path, "-lavfi", "[0][1]psnr", "-f", "null", "-",
        ])
        let line = psnr.stderr.split(separator: "\n").first { $0.contains("PSNR y:") } ?? ""
        #expect(!line.isEmpty && !line.contains("average:inf"), "the two pictures are identical: \(line)")
        // More fresh pictures for the figure: each past the cache.
        var times = [p2.seconds]
        for k in 0..<4 {
            Thread.sleep(forTimeInterval: 1.1)
            let p = try Self.fetch(box, "program", "?width=320", "m\(k).jpg")
            if p.status == 200 { times.append(p.seconds) }
        }
        print("gateway program thumbnail (640x360 H.264 received, 320 wide JPEG), seconds per fresh picture: \(times)")
        let cached = try Self.fetch(box, "program", "?width=320", "cached.jpg")
        print("gateway program thumbnail from the cache: \(cached.seconds) s")
        let source = try box.curl("GET", "/api/v1/thumbnails/source.jpg")
        #expect(source.status == 503 && source.body.contains("gateway"), "\(source)")
    }

    @Test("a gateway fed audio-only TS (AAC): program.jpg is 503 naming no video")
    func audioOnly() throws {
        let ns = try NetworkNamespace("gwaudio")
        defer { ns.close() }
        let box = try APIBox(
            label: "gwaudio", port: 18167, outputs: #"{ "id": "u", "url": "udp://127.0.0.1:5168" }"#,
            namespace: ns, source: #"{ "type": "gateway", "url": "udp://127.0.0.1:5169" }"#)
        defer { box.box.stop() }
        #expect(box.answers(within: 20), "\(box.box.log.suffix(1500))")
        let dir = box.box.directory
        let audio = ["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000", "-c:a", "aac"]
        let sender = try Self.sender(ns, audio, port: 5169, seconds: 30, log: "\(dir)/ffmpeg.log")
        defer { sender.stop(SIGKILL) }
        var last: (status: Int, body: String) = (0, "")
        #expect(
            waitFor(timeout: 20, interval: 0.5) {
                last = (try? box.curl("GET", "/api/v1/thumbnails/program.jpg")) ?? (0, "")
                return last.status == 503 && last.body.contains("no video")
            }, "\(last)")
        #expect(last.body.contains("0x0F"), "the PMT's stream type named: \(last.body)")
    }
}
