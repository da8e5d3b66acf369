import Config
import Runtime

/// The work of one transport stage process (`rill stage send|recv`): an output's sender or the
/// gateway's input. Runs on the calling thread until a stop is requested (`StopRequest`).
public protocol TransportStage: AnyObject {
    /// Sends or receives until a stop is requested; throws when its socket, file or ring cannot be set up.
    func run() throws
}

extension PacedSender: TransportStage {}
extension RISTOutput: TransportStage {}
extension SRTOutput: TransportStage {}
extension FileRecorder: TransportStage {}
extension RTPInput: TransportStage {}
extension RISTInput: TransportStage {}
extension SRTInput: TransportStage {}

/// Chooses a sender or an input by the scheme of its configured URL: the one place that maps
/// `rtp`/`udp`/`srt`/`rist`/`file` to an implementation.
public enum TransportStages {
    /// Output schemes with a sender, in the order error messages list them.
    public static let outputSchemes = ["rtp", "udp", "srt", "rist", "file"]
    /// Gateway input schemes with a receiver, in the order error messages list them.
    public static let inputSchemes = ["srt", "rist", "rtp", "udp"]

    /// Where the send stage of `output` writes its statistics (`rill status`, the API):
    /// `<runDirectory>/<instance>/stats/<id>.json`.
    public static func statisticsPath(of output: OutputSection, config: RillConfig) -> String {
        "\(config.system.runDirectory)/\(config.system.instance)/stats/\(output.id).json"
    }

    /// The sender of `output` (one of `config.outputs`): `PacedSender` for `rtp://` and `udp://`,
    /// `SRTOutput`, `RISTOutput`, or `FileRecorder` for `file://`. `events` receives connection and
    /// recording reports and answers SRT_ACCEPT. Throws a `ConfigError` naming
    /// `outputs[<id>].url` for a scheme without a sender or options its implementation refuses.
    public static func sender(
        for output: OutputSection, config: RillConfig, events: (any TransportEventSink)?
    ) throws -> any TransportStage {
        let instance = config.system.instance
        let stats = statisticsPath(of: output, config: config)
        switch output.url.scheme {
        case "rtp", "udp":
            return PacedSender(output: output, instance: instance, statsPath: stats)
        case "srt":
            return try SRTOutput(
                output: output, instance: instance, statsPath: stats, videoPID: UInt16(config.program.videoPID),
                events: events)
        case "rist":
            return RISTOutput(output: output, instance: instance, statsPath: stats)
        case "file":
            return FileRecorder(
                output: output, instance: instance, serviceName: config.program.serviceName, statsPath: stats,
                events: events)
        default:
            throw ConfigError(
                path: "outputs[\(output.id)].url",
                reason: "scheme \"\(output.url.scheme)\" has no sender (\(outputSchemes.joined(separator: ", ")))")
        }
    }

    /// The gateway input of `config.source` (`source.url`): `SRTInput`, `RISTInput`, or `RTPInput`
    /// for `rtp://` and `udp://`, writing `statistics` and the TS ring of the config's instance.
    /// `events` answers SRT_ACCEPT for an SRT listener. Throws a `ConfigError` naming `source.url`
    /// when it is missing, has a scheme without an input, or has options the input refuses.
    public static func input(
        config: RillConfig, statistics: StageStatistics, events: (any TransportEventSink)?
    ) throws -> any TransportStage {
        guard let url = config.source.url else {
            throw ConfigError(
                path: "source.url", reason: "a gateway source needs a url (\(inputSchemes.joined(separator: ", ")))")
        }
        let instance = config.system.instance
        switch url.scheme {
        case "srt":
            let input = try SRTInput(url: url, instance: instance, events: events)
            input.statistics = statistics
            return input
        case "rist":
            let input = RISTInput(urlText: config.source.urlText ?? "", instance: instance)
            input.statistics = statistics
            return input
        case "rtp", "udp":
            let input = try RTPInput(url: url, instance: instance)
            input.statistics = statistics
            return input
        default:
            throw ConfigError(
                path: "source.url",
                reason: "scheme \"\(url.scheme)\" has no gateway input (\(inputSchemes.joined(separator: ", ")))")
        }
    }
}
