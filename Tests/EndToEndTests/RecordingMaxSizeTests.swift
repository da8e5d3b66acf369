import Foundation
import RillTestSupport
import Testing

/// Recording with `maxsize=` (MB = MiB, FileRecorder.maxBytes): each file is cut at the first
/// video random access point after the size, so it is at least the size and at most one GOP
/// more, and ffprobe decodes it from its first frame. On a small tmpfs the disk fills: the
/// recorder logs the reason and retries every 5 s (FileRecorder.retryNs) until space is freed.
@Suite("Recording maxsize= and retry", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct RecordingMaxSizeTests {
    static let mebibyte = 1 << 20
    /// The TS rate (CBR: null packets fill it), so the disk fills at a known pace: 500 kB/s.
    static let muxrate = 4_000_000

    @Test(
        "maxsize=1 at CBR 4 Mb/s on a 4 MiB tmpfs: files of 1 MiB … 1 MiB + one GOP, each decodable from a keyframe; the full disk is logged and retried every 5 s; freed space is recorded to again within one retry"
    )
    func maxSizeThenFullDiskThenRetry() throws {
        let dir = makeTemporaryDirectory("recmax")
        let rec = "\(dir)/rec"
        try FileManager.default.createDirectory(atPath: rec, withIntermediateDirectories: true)
        let mount = try runProcess(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", rec])
        try #require(mount.status == 0, "tmpfs: \(mount.stderr)")
        defer { _ = try? runProcess(["umount", "-l", rec]) }
        let box = try BoxUnderTest(
            config: testConfig(
                instance: "recmax-\(UUID().uuidString.prefix(6))", fps: 25, videoBitrate: 2_000_000, keyint: 25,
                program: "\"mode\": \"cbr\", \"muxrate\": \(Self.muxrate)",
                outputs: #"{ "id": "rec", "url": "file://\#(rec)/$datetime.ts?maxsize=1" }"#,
                runDirectory: "\(dir)/run"),
            label: "recmax")
        defer { box.stop() }
        func lines(_ needle: String) -> [String] {
            box.log.split(separator: "\n").filter { $0.contains("send-rec") && $0.contains(needle) }.map(String.init)
        }

        // The disk fills after three files or so; then each retry (one per 5 s) fails again.
        var retries: [Date] = []
        #expect(
            waitFor(timeout: 40, interval: 0.05) {
                let n = lines("retrying in 5 s").count
                while retries.count < n { retries.append(Date()) }
                return n >= 3
            }, "\(box.log.suffix(1500))")
        #expect(lines("No space left on device").count >= 1, "\(box.log.suffix(1500))")
        // A retry comes 5 s after a failure, at the next keyframe (≤ 1 GOP = 1 s later).
        for k in retries.indices.dropFirst() {
            let interval = retries[k].timeIntervalSince(retries[k - 1])
            #expect(interval >= 4.9 && interval <= 6.3, "retry \(k) came \(interval) s after the previous failure")
        }

        // Every file cut for its size: between 1 MiB and 1 MiB + one GOP, decodable from its first frame.
        let split = lines("(split)").compactMap { line -> String? in
            guard let r = line.range(of: "closed "), let end = line.range(of: " (split)") else { return nil }
            return String(line[r.upperBound..<end.lowerBound])
        }
        #expect(split.count >= 2, "\(box.log.suffix(1500))")
        let oneGOP = Self.muxrate / 8 + 20_000  // 1 s (keyint 25 at 25 fps) at the mux rate, and a chunk
        for path in split {
            let size = Int(fileSize(path))
            #expect(size >= Self.mebibyte && size <= Self.mebibyte + oneGOP, "\(path): \(size) bytes")
            let frames = try ffprobeDecodedVideoFrames(path)
            #expect(frames.first?.keyFrame == true && frames.count >= 25, "\(path): \(frames.count) frames")
        }

        // Free the space: the next retry records again, and keeps recording.
        let opensBefore = lines("recording to ").count
        for path in split { try FileManager.default.removeItem(atPath: path) }
        let freedAt = Date()
        #expect(
            waitFor(timeout: 8, interval: 0.05) { lines("recording to ").count > opensBefore }, "\(box.log.suffix(800))"
        )
        let resumedAfter = Date().timeIntervalSince(freedAt)
        #expect(resumedAfter <= 6.3, "recording again \(resumedAfter) s after space was freed")
        let failuresAtResume = lines("retrying in 5 s").count
        let last = try #require(lines("recording to ").last?.components(separatedBy: "recording to ").last)
        #expect(waitFor(timeout: 10) { fileSize(last) > 500_000 }, "\(last): \(fileSize(last)) bytes")
        #expect(lines("retrying in 5 s").count == failuresAtResume, "\(box.log.suffix(800))")
    }
}
