import ArgumentParser
import Config

/// `rill check --config FILE`: validates a config and exits non-zero naming the field.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate a config file.")

    @Option(name: .long, help: "Config file (JSON).")
    var config: String

    func run() throws {
        let (cfg, _) = try loadConfig(config)
        print("config OK: \(cfg.outputs.count) output(s), \(cfg.program.mode) mux, required muxrate \(cfg.requiredMuxrate) b/s")
    }
}
