import ArgumentParser
import Box
import Config
import Runtime

/// `rill status --config FILE`: every output's statistics (RTP/UDP counters, latency and pacing
/// histograms; SRT per-connection srt_bstats) as one JSON document.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the running box's output statistics as JSON.")

    @Option(name: .long, help: "Config file (JSON) of the running box.")
    var config: String

    func run() throws {
        let (cfg, _) = try loadConfig(config)
        // The supervisor may have moved to a fallback run directory; look where it would.
        let dirs = RunDirectory.candidates(preferred: cfg.system.runDirectory)
        var outputs: [String] = []
        for o in cfg.outputs {
            let text = dirs.lazy.compactMap { try? AtomicFile.read("\($0)/\(cfg.system.instance)/stats/\(o.id).json") }
                .first
            var entry = text ?? "{\"id\":\(JSON.string(o.id).serialized),\"state\":\"unknown\"}"
            while entry.last == "\n" { entry.removeLast() }
            outputs.append(entry)
        }
        print(
            "{\"instance\":\(JSON.string(cfg.system.instance).serialized),\"outputs\":[\(outputs.joined(separator: ","))]}"
        )
    }
}
