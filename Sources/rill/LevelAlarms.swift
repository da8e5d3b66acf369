import Box
import Confidence
import Config
import Events
import Foundation
import Runtime

/// rilld's level monitor with its alarms wired to the box: thresholds read from the config's
/// `monitoring` section at every reading (a change applies at once), each alarm change posted as an
/// `AUDIO_SILENCE` / `AUDIO_CLIP` event and logged.
enum LevelAlarms {
    static func monitor(for box: BoxController, instance: String) -> LevelMonitor {
        let log = Log(stage: "levels")
        return LevelMonitor(
            instance: instance,
            settings: { [store = box.store] in
                let m = store.config.monitoring
                return .init(
                    silenceLevel: m.silenceLevel, silenceSeconds: m.silenceSeconds, clipLevel: m.clipLevel,
                    clipHoldSeconds: m.clipHoldSeconds)
            },
            alarm: { [events = box.events] change in
                let event = Self.event(change)
                if event.values.first == "start" {
                    log.warning("\(event.kind.rawValue) \(event.values.joined(separator: " "))")
                } else {
                    log.notice("\(event.kind.rawValue) \(event.values.joined(separator: " "))")
                }
                events.post(event)
            })
    }

    /// The event of an alarm change, its payload in `EventKind.fields` order.
    static func event(_ change: AudioAlarms.Change) -> Event {
        func dB(_ v: Double?) -> String { v.map { String(format: "%.1f", $0) } ?? "-inf" }
        switch change {
        case .silence(let started, let level, let seconds):
            return Event(
                .audioSilence, values: [started ? "start" : "end", dB(level), String(format: "%.1f", seconds)])
        case .clip(let started, let channels, let peak):
            return Event(
                .audioClip,
                values: [started ? "start" : "end", channels.map(String.init).joined(separator: ","), dB(peak)])
        }
    }
}
