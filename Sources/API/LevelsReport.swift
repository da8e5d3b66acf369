import Confidence
import Config
import Hummingbird
import NIOCore
import Runtime
import ServiceLifecycle
import Synchronization

/// `GET /api/v1/levels`: the audio meters of the raw audio ring as JSON (dBFS, LUFS; null where
/// there is no signal or not yet a full window); with `?stream=1` as Server-Sent Events.
enum LevelsReport {
    /// EBU Tech 3341 ("EBU Mode"): a meter updates at least 10 times a second.
    static let streamInterval: Duration = .milliseconds(100)

    /// `event: levels` every 100 ms with the reading as `data` (`null` while there is none), until
    /// the client goes away or, for a page session's stream, the session ends (checked each second).
    static func stream(_ monitor: LevelMonitor?, alive: @escaping @Sendable () -> Bool = { true }) -> Response {
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: ": rill levels\n\n"))
            // A stopping box ends the stream (the server waits for open responses before it exits).
            let stopping = Mutex(false)
            var tick = 0
            try await withGracefulShutdownHandler {
                while !Task.isCancelled, !stopping.withLock({ $0 }) {
                    tick += 1
                    if tick % 10 == 0, !alive() { break }
                    let data = (try? make(monitor))?.serialized ?? "null"
                    try await writer.write(ByteBuffer(string: "event: levels\ndata: \(data)\n\n"))
                    try await Task.sleep(for: streamInterval)
                }
            } onGracefulShutdown: {
                stopping.withLock { $0 = true }
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    static func make(_ monitor: LevelMonitor?) throws -> JSON {
        guard let s = monitor?.snapshot else {
            throw Problem(
                .serviceUnavailable,
                "no audio level reading: the source has no raw audio (source.type gateway) or it has stopped")
        }
        func value(_ v: Double?) -> JSON { v.map { .number(($0 * 100).rounded() / 100) } ?? .null }
        return .object([
            ("sampleRate", .number(Double(s.sampleRate))),
            ("captureTimeMs", .number(Double(s.captureTime / 1_000_000))),
            ("ageMs", .number(Double((MonotonicClock.now() - s.madeAt) / 1_000_000))),
            ("momentaryLUFS", value(s.reading.momentaryLUFS)),
            ("shortTermLUFS", value(s.reading.shortTermLUFS)),
            (
                "channels",
                .array(
                    s.reading.channels.map { c in
                        .object([("peakDBFS", value(c.peakDBFS)), ("rmsDBFS", value(c.rmsDBFS))])
                    })
            ),
        ])
    }
}
