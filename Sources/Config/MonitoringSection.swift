/// `monitoring`: confidence monitoring in rilld (audio alarms). Applied at once, no stage restarts.
public struct MonitoringSection: Sendable, Equatable {
    /// `monitoring.silenceLevel`: every channel's RMS below this many dBFS is silence.
    public var silenceLevel = -60.0
    /// `monitoring.silenceSeconds`: silence this long raises `AUDIO_SILENCE`.
    public var silenceSeconds = 10.0
    /// `monitoring.clipLevel`: a sample peak at or above this many dBFS is clipping (`AUDIO_CLIP`).
    public var clipLevel = -0.1
    /// `monitoring.clipHoldSeconds`: `AUDIO_CLIP` ends after this long without a clipped block.
    public var clipHoldSeconds = 5.0
    /// The defaults: silence below −60 dBFS for 10 s, clipping at −0.1 dBFS held 5 s.
    public init() {}

    static func decode(_ o: inout ObjectReader) throws(ConfigError) -> MonitoringSection {
        var s = MonitoringSection()
        if let l = try o.double("silenceLevel", in: -96 ... -20) { s.silenceLevel = l }
        if let t = try o.double("silenceSeconds", in: 0.5...3600) { s.silenceSeconds = t }
        if let l = try o.double("clipLevel", in: -20...0) { s.clipLevel = l }
        if let t = try o.double("clipHoldSeconds", in: 0.5...3600) { s.clipHoldSeconds = t }
        try o.finish()
        return s
    }
}
