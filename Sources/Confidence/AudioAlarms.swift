/// Silence and clipping alarms from the meter's 100 ms readings, with hysteresis: silence starts
/// after every channel has stayed below the level for the whole time and ends once one channel
/// has stayed `silenceHysteresis` above it for a second; clipping starts at the first block whose
/// sample peak reaches the level and ends after the hold time without one.
public struct AudioAlarms: Sendable {
    /// Thresholds (the config's `monitoring` section).
    public struct Settings: Sendable, Equatable {
        /// Every channel's RMS below this many dBFS is silence (`monitoring.silenceLevel`).
        public var silenceLevel: Double
        /// Silence this long starts `AUDIO_SILENCE` (`monitoring.silenceSeconds`).
        public var silenceSeconds: Double
        /// A sample peak at or above this many dBFS is clipping (`monitoring.clipLevel`).
        public var clipLevel: Double
        /// Clipping ends after this long without a clipped block (`monitoring.clipHoldSeconds`).
        public var clipHoldSeconds: Double
        /// Thresholds in dBFS and seconds.
        public init(silenceLevel: Double, silenceSeconds: Double, clipLevel: Double, clipHoldSeconds: Double) {
            (self.silenceLevel, self.silenceSeconds) = (silenceLevel, silenceSeconds)
            (self.clipLevel, self.clipHoldSeconds) = (clipLevel, clipHoldSeconds)
        }
    }

    /// A change of alarm state.
    public enum Change: Sendable, Equatable {
        /// Silence began or ended (`level`: the loudest channel's RMS, nil for digital silence;
        /// `seconds`: how long it had lasted).
        case silence(started: Bool, level: Double?, seconds: Double)
        /// Clipping began on `channels` (1-based) or ended; `peak`: the highest sample peak seen.
        case clip(started: Bool, channels: [Int], peak: Double)
    }

    /// How far above the silence level the audio must rise to end a silence, dB.
    public static let silenceHysteresis = 6.0
    /// How long it must stay there, in 100 ms readings (one second).
    static let recoveryReadings = 10
    /// Readings per second (one per 100 ms block, LoudnessMeter.blockMilliseconds).
    static let readingsPerSecond = 10.0

    /// Whether a silence alarm is on.
    public private(set) var silent = false
    /// Whether a clipping alarm is on.
    public private(set) var clipping = false
    var quietReadings = 0
    var loudReadings = 0
    var silentReadings = 0  // readings since the first quiet one of the current silence
    var sinceClip = 0
    var clippedChannels: Set<Int> = []
    var clipPeak = -Double.infinity

    /// No alarm.
    public init() {}

    /// The changes this reading brings under `settings`.
    public mutating func update(_ reading: LevelReading, settings: Settings) -> [Change] {
        var changes: [Change] = []
        let loudest = reading.channels.compactMap(\.rmsDBFS).max()
        let quiet = loudest.map { $0 < settings.silenceLevel } ?? true
        let loud = loudest.map { $0 >= settings.silenceLevel + Self.silenceHysteresis } ?? false
        quietReadings = quiet ? quietReadings + 1 : 0
        loudReadings = loud ? loudReadings + 1 : 0
        let silenceReadings = Int((settings.silenceSeconds * Self.readingsPerSecond).rounded(.up))
        if silent { silentReadings += 1 }
        if !silent && quietReadings >= silenceReadings {
            silent = true
            silentReadings = quietReadings
            changes.append(
                .silence(started: true, level: loudest, seconds: Double(quietReadings) / Self.readingsPerSecond))
        } else if silent && loudReadings >= Self.recoveryReadings {
            // Its length: from the first quiet reading to the first of the loud second that ended it.
            silent = false
            let seconds = Double(silentReadings - Self.recoveryReadings) / Self.readingsPerSecond
            changes.append(.silence(started: false, level: loudest, seconds: seconds))
        }

        let clipped = reading.channels.enumerated().filter { ($0.element.peakDBFS ?? -.infinity) >= settings.clipLevel }
        if clipped.isEmpty {
            sinceClip += 1
        } else {
            sinceClip = 0
            let peak = clipped.compactMap(\.element.peakDBFS).max() ?? settings.clipLevel
            if !clipping {
                clipping = true
                clippedChannels = Set(clipped.map { $0.offset + 1 })
                clipPeak = peak
                changes.append(.clip(started: true, channels: clippedChannels.sorted(), peak: peak))
            } else {
                clippedChannels.formUnion(clipped.map { $0.offset + 1 })
                clipPeak = max(clipPeak, peak)
            }
        }
        let holdReadings = Int((settings.clipHoldSeconds * Self.readingsPerSecond).rounded(.up))
        if clipping && sinceClip >= holdReadings {
            clipping = false
            changes.append(.clip(started: false, channels: clippedChannels.sorted(), peak: clipPeak))
            clippedChannels = []
            clipPeak = -.infinity
        }
        return changes
    }
}
