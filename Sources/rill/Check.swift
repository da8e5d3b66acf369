import ArgumentParser
import Box
import Config

/// `rill check --config FILE [--config-dir DIR]`: validates a config (split or not) and exits 2
/// naming the file and the field.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate a config (main file plus section files).")

    @Option(name: .long, help: "Main config file (JSON).")
    var config: String

    @Option(name: .long, help: "Directory of section files (default: conf.d beside the main file, if present).")
    var configDir: String?

    func run() throws {
        let dir = configDir ?? ConfigStore.defaultDirectory(for: config)
        let cfg: RillConfig
        do {
            cfg = try ConfigStore(mainFile: config, directory: dir).config
        } catch {
            printError("rill: config: \(error)")
            throw ExitCode(2)
        }
        print(
            "config OK: \(cfg.outputs.count) output(s), \(cfg.program.mode) mux, required muxrate \(cfg.requiredMuxrate) b/s"
        )
    }
}
