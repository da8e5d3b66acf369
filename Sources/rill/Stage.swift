#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CRillShims
import Capture
import Config
import Encode
import FrameRing
import Packager
import Transport

/// `rill stage ROLE`: one stage process, as the supervisor spawns it.
struct Stage: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one stage (testsrc, encode-video, encode-audio, mux, send). Normally spawned by `rill run`.")

    enum Role: String, ExpressibleByArgument, CaseIterable {
        case testsrc, encodeVideo = "encode-video", encodeAudio = "encode-audio", mux, send, recv
    }

    @Argument(help: "The stage: testsrc, encode-video, encode-audio, mux, send, recv.")
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
        let (cfg, _) = try loadConfig(config)
        let instance = cfg.system.instance
        let log = Log(stage: role.rawValue)
        do {
            switch role {
            case .testsrc:
                let source = try TestSource(config: cfg.source, instance: instance)
                log.info("\(cfg.source.width)x\(cfg.source.height)@\(cfg.source.fps) \(cfg.source.pixelFormat), tone \(cfg.source.toneFrequency) Hz \(cfg.source.toneLevel) dBFS, \(cfg.source.channels) ch")
                source.run(frameLimit: frames)
            case .encodeVideo:
                try VideoEncodeStage(config: cfg.encoders.video, instance: instance, cbr: cfg.program.mode == "cbr").run()
            case .encodeAudio:
                try AudioEncodeStage(config: cfg.encoders.audio, instance: instance).run()
            case .mux:
                try MuxStage(config: cfg, instance: instance).run()
            case .recv:
                guard let url = cfg.source.url else {
                    printError("rill stage recv: the config has no gateway source url")
                    throw ExitCode(2)
                }
                try SRTInput(url: url, instance: instance).run()
            case .send:
                guard let id = output, let o = cfg.outputs.first(where: { $0.id == id }) else {
                    printError("rill stage send: --output must name an output of the config")
                    throw ExitCode(2)
                }
                let stats = "\(cfg.system.runDirectory)/\(instance)/stats/\(o.id).json"
                if o.url.scheme == "srt" {
                    try SRTOutput(output: o, instance: instance, statsPath: stats, videoPID: UInt16(cfg.program.videoPID)).run()
                } else {
                    try PacedSender(output: o, instance: instance, statsPath: stats).run()
                }
            }
        } catch let e as ExitCode {
            throw e
        } catch {
            log.error("\(error)")
            throw ExitCode(1)
        }
    }
}
