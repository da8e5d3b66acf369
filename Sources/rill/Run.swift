#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Box
import Config
import FrameRing
import Transport

/// `rill run`: the whole box in the foreground.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the box in the foreground (the built-in test source when no --config is given).")

    @Option(name: .long, help: "Config file (JSON). Without it, the embedded default runs on the test source.")
    var config: String?

    func run() throws {
        StopRequest.install()
        let log = Log(stage: "rilld")
        var text: String
        var cfg: RillConfig
        if let path = config {
            (cfg, text) = try loadConfig(path)
        } else {
            let runDir = Self.usableRunDirectory("/run/rill", log: log)
            let made = DefaultConfig.make(runDirectory: runDir, multicastRoute: DefaultConfig.hasMulticastRoute())
            text = made.json
            cfg = try RillConfig.decode(text)
            log.notice("no --config: test source, output mc is \(made.explanation)")
        }
        let runDir = Self.usableRunDirectory(cfg.system.runDirectory, log: log)
        if runDir != cfg.system.runDirectory {
            cfg.system.runDirectory = runDir
        }
        let instanceDir = "\(runDir)/\(cfg.system.instance)"
        try AtomicFile.makeDirectories(instanceDir + "/stats")
        // Stages read the config the supervisor validated, with the run directory it settled on.
        if case .object(var members) = try JSONParser.parse(text) {
            var system: [(String, JSON)] = [("instance", .string(cfg.system.instance)), ("runDirectory", .string(runDir))]
            if let i = members.firstIndex(where: { $0.0 == "system" }) {
                if case .object(let old) = members[i].1 {
                    system += old.filter { $0.0 != "instance" && $0.0 != "runDirectory" }
                }
                members[i].1 = .object(system)
            } else {
                members.insert(("system", .object(system)), at: 0)
            }
            text = JSON.object(members).serialized
        }
        let stageConfig = "\(instanceDir)/config.json"
        try AtomicFile.write(text, to: stageConfig)
        for o in cfg.outputs where o.sdp != nil {
            do {
                try OutputSDP.write(o, serviceName: cfg.program.serviceName)
                log.info("output \(o.id): \(o.urlText), SDP file \(o.sdp!)")
            } catch {
                log.error("output \(o.id): cannot write SDP file \(o.sdp!): \(error)")
            }
        }
        // Leftover rings of a previous run of this instance would be taken over; start clean.
        for name in SharedRing.list(instance: cfg.system.instance) { SharedRing.unlink(name: name) }
        let supervisor = Supervisor(
            executable: executablePath(), instance: cfg.system.instance,
            stages: Supervisor.stages(for: cfg, configPath: stageConfig))
        supervisor.run()
    }

    /// `preferred` if it can be created and written, else `$XDG_RUNTIME_DIR/rill` or `/tmp/rill-<uid>`.
    static func usableRunDirectory(_ preferred: String, log: Log) -> String {
        var candidates = [preferred]
        if let xdg = getenv("XDG_RUNTIME_DIR") { candidates.append(String(cString: xdg) + "/rill") }
        candidates.append("/tmp/rill-\(getuid())")
        for c in candidates {
            if (try? AtomicFile.makeDirectories(c)) != nil, access(c, W_OK) == 0 {
                if c != preferred { log.notice("\(preferred) is not writable; using \(c)") }
                return c
            }
        }
        return preferred
    }
}
