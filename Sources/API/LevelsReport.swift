import Confidence
import Config
import Runtime

/// `GET /api/v1/levels`: the audio meters of the raw audio ring as JSON (dBFS, LUFS; null where
/// there is no signal or not yet a full window).
enum LevelsReport {
    static func make(_ monitor: LevelMonitor?) throws -> JSON {
        guard let s = monitor?.snapshot else {
            throw Problem(
                .serviceUnavailable,
                "no audio level reading: the source has no raw audio (source.type gateway) or it has stopped")
        }
        func value(_ v: Double?) -> JSON { v.map { .number(($0 * 100).rounded() / 100) } ?? .null }
        return .object([
            ("sampleRate", .number(Double(s.sampleRate))),
            ("captureTime", .number(Double(s.captureTime))),
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
