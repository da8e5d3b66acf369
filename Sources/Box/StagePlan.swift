import Config
import FrameRing

/// One stage process the supervisor runs.
public struct StageSpec: Sendable, Equatable {
    /// "testsrc" or "vcap" + "acap", "encode-video", "encode-audio", "mux", "recv", "send-<id>".
    public var name: String
    /// Arguments after the executable.
    public var arguments: [String]
    /// Everything of the config this stage depends on: a stage restarts on a config change only
    /// when its fingerprint changes (hot apply).
    public var fingerprint: String = ""
    /// The ring this stage writes (its heartbeat tells the supervisor the stage is alive).
    public var ring: String? = nil
    /// The output this stage sends (send stages) and its URL as written.
    public var output: String? = nil
    /// The output's URL as written in the config (send stages; nil otherwise).
    public var urlText: String? = nil
    /// Whether it starts with the box (disabled outputs wait for an API start).
    public var enabled = true

    /// Stage `name` run with `arguments`: enabled, with no fingerprint, ring or output yet.
    public init(name: String, arguments: [String]) {
        self.name = name
        self.arguments = arguments
    }
}

extension Supervisor {
    /// The stages for `config`, each reading it from `configPath`.
    public static func stages(for config: RillConfig, configPath: String) -> [StageSpec] {
        let c = config
        func stage(_ role: String, _ track: String?, _ deps: Any...) -> StageSpec {
            var s = StageSpec(name: role, arguments: ["stage", role, "--config", configPath])
            s.fingerprint = deps.map { "\($0)" }.joined(separator: "|")
            s.ring = track.map { SharedRing.name(instance: c.system.instance, track: $0) }
            return s
        }
        var s: [StageSpec]
        switch c.source.type {
        case .testsrc:
            s = [
                stage("testsrc", Track.rawVideo, c.system, c.source),
                stage("encode-video", Track.codedVideo, c.system, c.source, c.encoders.video, c.program.mode),
                stage("encode-audio", Track.codedAudio, c.system, c.source, c.encoders.audio),
                stage("mux", Track.transportStream, c.system, c.source, c.encoders, c.program),
            ]
        case .capture:
            s = [
                stage(
                    "vcap", Track.rawVideo, c.system, c.source,
                    c.events.filter { $0.matches(.inputSignal, output: nil) }),
                stage("acap", Track.rawAudio, c.system, c.source),
                stage("encode-video", Track.codedVideo, c.system, c.source, c.encoders.video, c.program.mode),
                stage("encode-audio", Track.codedAudio, c.system, c.source, c.encoders.audio),
                stage("mux", Track.transportStream, c.system, c.source, c.encoders, c.program),
            ]
        case .gateway:
            // The input writes the received TS straight into the TS ring that every output reads.
            s = [
                stage(
                    "recv", Track.transportStream, c.system, c.source,
                    c.events.filter { $0.matches(.srtAccept, output: nil) })
            ]
        }
        for o in c.outputs {
            let accept = c.events.filter { $0.matches(.srtAccept, output: o.id) }
            var spec = stage("send-\(o.id)", nil, c.system, o.url, o.urlText, o.sdp as Any, c.program.videoPID, accept)
            spec.arguments = ["stage", "send", "--config", configPath, "--output", o.id]
            spec.output = o.id
            spec.urlText = o.urlText
            spec.enabled = o.enabled
            s.append(spec)
        }
        return s
    }
}
