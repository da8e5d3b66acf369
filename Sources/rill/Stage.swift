import ArgumentParser
import Box
import CRillShims
import Capture
import Config
import Encode
import Events
import Packager
import Runtime
import Transport

#if canImport(Glibc)
import Glibc
#endif

/// `rill stage ROLE`: one stage process, as the supervisor spawns it.
struct Stage: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one stage (testsrc, encode-video, encode-audio, mux, send). Normally spawned by `rill run`.")

    enum Role: String, ExpressibleByArgument, CaseIterable {
        case testsrc, vcap, acap, encodeVideo = "encode-video", encodeAudio = "encode-audio", mux, send, recv
    }

    @Argument(help: "The stage: testsrc, vcap, acap, encode-video, encode-audio, mux, send, recv.")
    var role: Role

    @Option(name: .long, help: "Config file (JSON).")
    var config: String

    @Option(name: .long, help: "Output id (send stage).")
    var output: String?

    @Option(name: .long, help: "Stop after this many frames (testsrc; for tests and benchmarks).")
    var frames: Int64?

    func run() throws {
        StopRequest.install()
        _ = rill_set_parent_death_signal(SIGTERM)  // never outlive the supervisor
        // The supervisor may have died between our spawn and the prctl (the signal would then never
        // come): it names itself in the environment, so a stage whose parent is not it stops at once.
        if let s = getenv(Supervisor.pidEnvironment), let pid = Int32(String(cString: s)), pid != getppid() {
            printError("rill stage \(role.rawValue): the supervisor (pid \(pid)) is gone; exiting")
            throw ExitCode(1)
        }
        let (cfg, _) = try loadConfig(config)
        let instance = cfg.system.instance
        // The config's level, unless rilld passed the one now in force.
        LogLevel.apply(named: cfg.system.logLevel)
        LogLevel.adoptEnvironment()
        let log = Log(stage: role.rawValue)
        let instanceDir = "\(cfg.system.runDirectory)/\(instance)"
        let stats = { (stage: String) in
            StageStatistics(
                path: StageStatistics.path(runDirectory: cfg.system.runDirectory, instance: instance, stage: stage))
        }
        do {
            switch role {
            case .testsrc:
                let source = try TestSource(config: cfg.source, instance: instance)
                source.statistics = stats("source")
                if cfg.source.signalLost {
                    log.warning("source.video.signal is \"lost\": sending the NO SIGNAL slate")
                    StageEvents(handlers: cfg.events, instanceDirectory: instanceDir, log: log).post(
                        Event(.inputSignal, values: ["lost", "testsrc"]))
                }
                log.info(
                    "\(cfg.source.width)x\(cfg.source.height)@\(cfg.source.fps) \(cfg.source.pixelFormat), tone \(cfg.source.toneFrequency) Hz \(cfg.source.toneLevel) dBFS, \(cfg.source.channels) ch"
                )
                source.run(frameLimit: frames)
            case .vcap:
                let capture = try VideoCapture(config: cfg.source, instance: instance)
                capture.statistics = stats("source")
                let events = StageEvents(handlers: cfg.events, instanceDirectory: instanceDir, log: log)
                let device = cfg.source.videoDevice ?? ""
                capture.onSignal = { present in
                    events.post(Event(.inputSignal, values: [present ? "present" : "lost", device]))
                }
                do {
                    try capture.run()
                } catch let e as UnsupportedFormat {
                    log.error("\(e)")
                    throw ExitCode(2)  // the supervisor gives up on exit 2 only after its retries; retrying cannot help
                }
            case .acap:
                let capture = try AudioCapture(config: cfg.source, instance: instance)
                capture.statistics = stats("audio-source")
                capture.run()
            case .encodeVideo:
                let stage = VideoEncodeStage(
                    config: cfg.encoders.video, instance: instance, cbr: cfg.program.mode == "cbr")
                stage.statistics = stats("encode-video")
                try stage.run()
            case .encodeAudio:
                let stage = AudioEncodeStage(config: cfg.encoders.audio, instance: instance)
                stage.statistics = stats("encode-audio")
                try stage.run()
            case .mux:
                let stage = MuxStage(config: cfg, instance: instance)
                stage.statistics = stats("mux")
                try stage.run()
            case .recv:
                let events = StageEvents(handlers: cfg.events, instanceDirectory: instanceDir, log: log)
                try Self.transport { try TransportStages.input(config: cfg, statistics: stats("recv"), events: events) }
                    .run()
            case .send:
                guard let id = output, let o = cfg.outputs.first(where: { $0.id == id }) else {
                    printError("rill stage send: --output must name an output of the config")
                    throw ExitCode(2)
                }
                let events = StageEvents(handlers: cfg.events, instanceDirectory: instanceDir, log: log)
                try Self.transport { try TransportStages.sender(for: o, config: cfg, events: events) }.run()
            }
        } catch let e as ExitCode {
            throw e
        } catch {
            log.error("\(error)")
            throw ExitCode(1)
        }
    }

    /// Makes a transport stage; a config it refuses (no URL, a scheme without an implementation)
    /// exits 2 naming the field: restarting cannot help.
    static func transport(_ make: () throws -> any TransportStage) throws -> any TransportStage {
        do {
            return try make()
        } catch let e as ConfigError {
            printError("rill stage: config: \(e)")
            throw ExitCode(2)
        }
    }
}
