import Foundation
import RillTestSupport
import Testing

/// An SRT caller output whose listener is absent: it retries with a backoff that doubles from
/// 1 s to 10 s (`SRTOutput.minBackoff`, `maxBackoff`), says why each time, and connects to a
/// srt-live-transmit listener that appears later.
@Suite("SRT caller backoff", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct SRTCallerBackoffTests {
    static let port = 9000
    /// The caller's connection timeout (SRTO_CONNTIMEO, ms): each failed attempt takes this long.
    static let connectTimeoutMs = 500

    @Test(
        "no listener: retries logged at 1, 2, 4, 8, 10 s, spaced by backoff + one constant connect attempt; a listener that appears is connected within one backoff and receives a stream"
    )
    func backoffThenConnect() throws {
        let ns = try NetworkNamespace("srtbackoff")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("srtbackoff")
        let config = testConfig(
            instance: ns.name, fps: 25, videoBitrate: 1_000_000, keyint: 25,
            outputs: #"{ "id": "srt", "url": "srt://127.0.0.1:\#(Self.port)?conntimeo=\#(Self.connectTimeoutMs)" }"#,
            runDirectory: "\(dir)/run")
        let b = try BoxUnderTest(config: config, namespace: ns, label: "srtbackoff")
        defer { b.stop() }

        // Each "retrying in N ms" line, with the time this test first saw it (polled every 20 ms).
        var seen: [(ms: Int, at: Date)] = []
        func poll() {
            let lines = b.log.split(separator: "\n").filter { $0.contains("send-srt") && $0.contains("retrying in ") }
            for line in lines.dropFirst(seen.count) {
                let tail = line[line.range(of: "retrying in ")!.upperBound...]
                seen.append((Int(tail.prefix { $0.isNumber }) ?? -1, Date()))
            }
        }
        #expect(
            waitFor(timeout: 40, interval: 0.02) {
                poll()
                return seen.count >= 5
            }, "\(b.log.suffix(1200))")
        #expect(seen.map(\.ms) == [1000, 2000, 4000, 8000, 10_000], "\(seen.map(\.ms))")
        // Between two failures: the previous backoff, then one connect attempt, which takes the
        // same time every round (libsrt gives up after conntimeo, rounded up to its 1 s check
        // here): interval − backoff is one constant, so the spacing grows exactly as the backoff.
        let attempts = (1..<seen.count).map { k in
            seen[k].at.timeIntervalSince(seen[k - 1].at) - Double(seen[k - 1].ms) / 1000
        }
        let attempt = attempts.reduce(0, +) / Double(max(attempts.count, 1))
        #expect(attempt >= 0.3 && attempt <= 1.5, "a connect attempt took \(attempt) s (conntimeo 0.5 s)")
        #expect(attempts.allSatisfy { abs($0 - attempt) <= 0.3 }, "interval − backoff per retry: \(attempts)")
        // Each retry says why (libsrt's reason) and where.
        let why = b.log.split(separator: "\n").first { $0.contains("retrying in ") } ?? ""
        #expect(why.contains("caller 127.0.0.1:\(Self.port)"), "\(why)")

        // The listener appears now; the next attempt, ≤ 10 s + conntimeo away, connects.
        let appeared = Date()
        let listener = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "srt://:\(Self.port)", "file://con"]), output: "\(dir)/l.ts")
        defer { listener.stop(SIGKILL) }
        #expect(
            waitFor(timeout: 13) { b.log.contains("connected to 127.0.0.1:\(Self.port)") }, "\(b.log.suffix(800))")
        let connectedAfter = Date().timeIntervalSince(appeared)
        #expect(
            connectedAfter <= 10.0 + Double(Self.connectTimeoutMs) / 1000 + 0.5, "connected \(connectedAfter) s later")
        #expect(waitFor(timeout: 10) { listener.bytes > 100_000 }, "the listener received \(listener.bytes) bytes")
        listener.stop()
        let frames = try ffprobeDecodedVideoFrames(listener.output)
        #expect(frames.first?.keyFrame == true && frames.count >= 25, "\(frames.count) frames")
    }
}
