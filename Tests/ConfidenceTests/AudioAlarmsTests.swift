import Testing

@testable import Confidence

/// The silence and clipping alarms over sequences of 100 ms readings.
@Suite("Audio alarms (silence, clipping) with hysteresis")
struct AudioAlarmsTests {
    static let settings = AudioAlarms.Settings(
        silenceLevel: -60, silenceSeconds: 2, clipLevel: -0.1, clipHoldSeconds: 1)

    static func reading(rms: Double?, peak: Double? = nil, channels: Int = 2) -> LevelReading {
        LevelReading(
            channels: Array(repeating: .init(peakDBFS: peak ?? rms.map { $0 + 3 }, rmsDBFS: rms), count: channels),
            momentaryLUFS: nil, shortTermLUFS: nil)
    }

    /// Feeds `count` copies of `reading`; returns the changes with the reading index they came at.
    static func feed(
        _ alarms: inout AudioAlarms, _ reading: LevelReading, count: Int, settings: AudioAlarms.Settings = settings
    ) -> [(Int, AudioAlarms.Change)] {
        (0..<count).flatMap { i in alarms.update(reading, settings: settings).map { (i, $0) } }
    }

    @Test("silence starts after exactly silenceSeconds below the level, digital silence included")
    func silenceStarts() {
        for rms: Double? in [-70, nil] {
            var a = AudioAlarms()
            let changes = Self.feed(&a, Self.reading(rms: rms), count: 30)
            #expect(changes.count == 1)
            #expect(changes.first?.0 == 19, "20 readings = 2 s: \(changes)")
            #expect(changes.first?.1 == .silence(started: true, level: rms, seconds: 2))
        }
    }

    @Test("one loud reading restarts the count; one quiet channel is no silence while the other is loud")
    func silenceNeedsAllTheTime() {
        var a = AudioAlarms()
        #expect(Self.feed(&a, Self.reading(rms: -70), count: 19).isEmpty)
        #expect(Self.feed(&a, Self.reading(rms: -20), count: 1).isEmpty)
        #expect(Self.feed(&a, Self.reading(rms: -70), count: 19).isEmpty)
        let mixed = LevelReading(
            channels: [.init(peakDBFS: nil, rmsDBFS: nil), .init(peakDBFS: -17, rmsDBFS: -20)], momentaryLUFS: nil,
            shortTermLUFS: nil)
        var b = AudioAlarms()
        #expect(Self.feed(&b, mixed, count: 100).isEmpty)
    }

    @Test("silence ends only after a second 6 dB above the level (hysteresis), reporting its length")
    func silenceEnds() {
        var a = AudioAlarms()
        _ = Self.feed(&a, Self.reading(rms: -70), count: 30)  // silent from reading 19; 3 s of quiet
        // Above the level but inside the hysteresis band: still silent.
        #expect(Self.feed(&a, Self.reading(rms: -57), count: 50).isEmpty)
        #expect(a.silent)
        let changes = Self.feed(&a, Self.reading(rms: -50), count: 20)
        #expect(changes.count == 1 && changes.first?.0 == 9, "\(changes)")
        // 30 quiet readings and 50 in the band: 8 s of silence.
        #expect(changes.first?.1 == .silence(started: false, level: -50, seconds: 8))
        #expect(!a.silent)
    }

    @Test("clipping starts at the first clipped block, collects channels, ends after the hold time")
    func clipping() {
        var a = AudioAlarms()
        let left = LevelReading(
            channels: [.init(peakDBFS: 0, rmsDBFS: -3), .init(peakDBFS: -20, rmsDBFS: -23)], momentaryLUFS: nil,
            shortTermLUFS: nil)
        let right = LevelReading(
            channels: [.init(peakDBFS: -20, rmsDBFS: -23), .init(peakDBFS: -0.05, rmsDBFS: -3)], momentaryLUFS: nil,
            shortTermLUFS: nil)
        let start = Self.feed(&a, left, count: 1)
        #expect(start.map(\.1) == [.clip(started: true, channels: [1], peak: 0)])
        #expect(Self.feed(&a, right, count: 1).isEmpty, "already clipping")
        #expect(Self.feed(&a, Self.reading(rms: -23), count: 9).isEmpty, "held")
        let end = Self.feed(&a, Self.reading(rms: -23), count: 5)
        #expect(end.count == 1 && end.first?.0 == 0, "\(end)")
        #expect(end.first?.1 == .clip(started: false, channels: [1, 2], peak: 0))
        #expect(Self.feed(&a, Self.reading(rms: -23, peak: -0.2), count: 20).isEmpty, "−0.2 dBFS is below −0.1")
    }

    @Test("new thresholds apply at the next reading")
    func settingsChange() {
        var a = AudioAlarms()
        #expect(Self.feed(&a, Self.reading(rms: -50), count: 100).isEmpty)
        var louder = Self.settings
        louder.silenceLevel = -40
        let changes = Self.feed(&a, Self.reading(rms: -50), count: 20, settings: louder)
        #expect(changes.map(\.1) == [.silence(started: true, level: -50, seconds: 2)])
    }
}
