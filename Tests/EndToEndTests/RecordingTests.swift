import Foundation
import RillTestSupport
import Testing

/// Recording to files: rotation at a GOP boundary, files that ffprobe reads from their first byte,
/// durations that add up, RECORDING_END with path/duration/bytes, and a full disk or an unwritable
/// path that stops neither the box nor the other outputs.
@Suite("Recording to file", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct RecordingTests {
    /// First and last video PTS (s) and decoded frame count of a file, from ffprobe.
    static func span(_ file: String) throws -> (first: Double, last: Double, frames: Int, firstKey: Bool) {
        let r = try runProcess(
            [
                "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time,key_frame", "-of",
                "csv=p=0", file,
            ],
            timeout: 60)
        let rows = r.stdout.split(separator: "\n").map { $0.split(separator: ",") }.filter { $0.count >= 2 }
        let times = rows.compactMap { Double($0[1]) }
        return (times.min() ?? 0, times.max() ?? 0, rows.count, rows.first?[0] == "1")
    }

    @Test(
        "split=10 over 27 s: each file decodes from its first frame (a keyframe); spans join frame to frame; RECORDING_END per file; a full disk and an unwritable path are logged, the recording beside them goes on"
    )
    func rotation() throws {
        let dir = makeTemporaryDirectory("rec")
        let full = "\(dir)/full"
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        let mount = try runProcess(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", full])
        try #require(mount.status == 0, "tmpfs: \(mount.stderr)")
        defer { _ = try? runProcess(["umount", "-l", full]) }
        let events = "\(dir)/events.log"
        let handler = "\(dir)/event.sh"
        try "#!/bin/sh\n{ echo \"== $1\"; cat; } >> \(events)\n".write(
            toFile: handler, atomically: true, encoding: .utf8)
        chmod(handler, 0o755)
        let box = try BoxUnderTest(
            config: testConfig(
                instance: "rec-\(UUID().uuidString.prefix(6))", fps: 25, videoBitrate: 1_500_000, keyint: 25,
                outputs: """
                    { "id": "rec", "url": "file://\(dir)/rec/$output-$datetime.ts?split=10" },
                    { "id": "disk", "url": "file://\(full)/$datetime.ts?split=10" },
                    { "id": "ro", "url": "file:///proc/rill-cannot/$datetime.ts" }
                    """,
                runDirectory: "\(dir)/run", events: #"{ "on": ["RECORDING_END"], "handler": "\#(handler)" }"#),
            label: "rec")
        Thread.sleep(forTimeInterval: 27)
        let stop = box.stop()
        #expect(stop.status == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/rec").filter { $0.hasSuffix(".ts") }
            .sorted()
        #expect(files.count >= 2 && files.allSatisfy { $0.hasPrefix("rec-") }, "\(files) \(box.log.suffix(1500))")
        var spans: [(first: Double, last: Double, frames: Int, firstKey: Bool)] = []
        for f in files { spans.append(try Self.span("\(dir)/rec/\(f)")) }
        for (f, s) in zip(files, spans) {
            #expect(s.firstKey, "\(f) does not start with a keyframe")
            #expect(s.frames > 50, "\(f): \(s.frames) frames")
        }
        for k in 1..<spans.count {  // the next file starts one frame after the last one ends
            let gap = spans[k].first - spans[k - 1].last
            #expect(abs(gap - 0.04) < 0.021, "gap \(gap) s between \(files[k - 1]) and \(files[k])")
        }
        let total = spans.last!.last - spans.first!.first + 0.04
        let sum = spans.reduce(0) { $0 + ($1.last - $1.first + 0.04) }
        #expect(abs(total - sum) <= 1.0, "files add up to \(sum) s of a \(total) s span (one GOP = 1 s)")
        #expect(spans.prefix(spans.count - 1).allSatisfy { abs(($0.last - $0.first + 0.04) - 10) <= 0.5 }, "\(spans)")
        // RECORDING_END: output, path, duration, bytes (= the file's size) for every closed file.
        let text = (try? String(contentsOfFile: events, encoding: .utf8)) ?? ""
        for f in files {
            let path = "\(dir)/rec/\(f)"
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
            #expect(
                text.contains("rec\n\(path)\n") && text.contains("\n\(size)\n"),
                "no RECORDING_END for \(path) with \(size) bytes in:\n\(text.prefix(1500))")
        }
        // The full tmpfs and the unwritable path are reported; the box and `rec` carried on.
        #expect(box.log.contains("No space left on device"), "\(box.log.suffix(1500))")
        #expect(box.log.contains("cannot open /proc/rill-cannot/"), "\(box.log.suffix(1500))")
        #expect(text.contains("disk\n\(full)/"), "the file cut short by the full disk gets its RECORDING_END")
    }
}
