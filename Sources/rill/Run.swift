import API
import ArgumentParser
import Box
import Confidence
import Config
import Events
import FrameRing
import Logging
import MediaTime
import Runtime
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// `rill run`: the box (rilld) in the foreground — config store, supervisor, events, HTTP API.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the box in the foreground (the built-in test source when no --config is given).")

    @Option(name: .long, help: "Main config file (JSON). Without it, the embedded default runs on the test source.")
    var config: String?

    @Option(name: .long, help: "Directory of section files (default: conf.d beside the main file, if present).")
    var configDir: String?

    @Option(
        name: .long,
        help:
            "Without --config: where the default config, its SDP and statistics go (default /run/rill; if that is not writable, $XDG_RUNTIME_DIR/rill, then /tmp/rill-UID)."
    )
    var runDirectory: String = "/run/rill"

    func run() async throws {
        // rilld's signals are the service group's (graceful shutdown); stages install StopRequest's.
        // Every Logger of the process (Hummingbird's, NIO's, service-lifecycle's) writes journal lines.
        JournalLogHandler.bootstrap()
        let log = Log(stage: "rilld")
        let mainFile = try defaultConfigIfNeeded(log: log)
        let directory = configDir ?? ConfigStore.defaultDirectory(for: mainFile)
        let store: ConfigStore
        do {
            store = try ConfigStore(mainFile: mainFile, directory: directory)
        } catch {
            printError("rill: config: \(error)")
            throw ExitCode(2)
        }
        let cfg = store.config
        LogLevel.apply(named: cfg.system.logLevel)
        let runDir = RunDirectory.usable(cfg.system.runDirectory, log: log)
        // Leftover rings of a previous run of this instance would be taken over; start clean.
        for name in SharedRing.list(instance: cfg.system.instance) { SharedRing.unlink(name: name) }
        let box = try BoxController(store: store, executable: executablePath(), runDirectory: runDir)
        let channel = try EventChannel(receivingAt: EventChannel.path(instanceDirectory: box.instanceDirectory))
        box.events.start(channel: channel)
        box.events.post(Event(.systemStart, values: [box.instance, BoxController.version]))
        box.submit(box.plan(cfg))

        let systemd = SystemdNotify()
        // Confidence monitoring beside the media path: a reader of the raw audio ring (none in a gateway).
        let levels = LevelAlarms.monitor(for: box, instance: cfg.system.instance)
        levels.start()
        defer { levels.stop() }
        // Services stop in reverse order: the supervisor (last) stops every stage while the API still answers.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if cfg.api.enabled {
            let credentials = try Credentials.openForBox(
                cfg.api, instanceDirectory: box.instanceDirectory, log: log
            ).credentials
            // An API that cannot start (port taken, an unusable certificate) is logged; the media
            // keeps flowing without it (never on plain HTTP instead of the TLS the config asked for).
            do {
                let app = try RillAPI.application(
                    box: box, credentials: credentials, metrics: BoxMetrics(), api: cfg.api, log: log, levels: levels,
                    thumbnails: ThumbnailSource(
                        instance: cfg.system.instance,
                        gateway: { [store = box.store] in store.config.source.type == .gateway }),
                    sessions: SessionFile.store(
                        path: SessionFile.path(instanceDirectory: box.instanceDirectory), log: log,
                        password: { credentials.adminFingerprint }))
                services.append(
                    .init(
                        service: LoggedService(name: "API", service: app, log: log), successTerminationBehavior: .ignore
                    ))
            } catch {
                log.error("API not started: \(error)")
            }
        }
        services.append(
            .init(
                service: SupervisorService(box: box, systemd: systemd),
                successTerminationBehavior: .gracefullyShutdownGroup))
        // SIGTERM/SIGINT begin a graceful shutdown.
        let groupLogger = Logger(label: "lifecycle")
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint], logger: groupLogger))
        do { try await group.run() } catch { log.error("\(error)") }
        box.events.drain(timeoutMs: 1000)
    }

    /// The main config file: `--config`, or the embedded default written to the run directory.
    func defaultConfigIfNeeded(log: Log) throws -> String {
        if let config {
            guard access(config, R_OK) == 0 else {
                printError("rill: cannot read config \(config): \(String(cString: strerror(errno)))")
                throw ExitCode(2)
            }
            return config
        }
        let runDir = RunDirectory.usable(runDirectory, log: log)
        let made = DefaultConfig.make(runDirectory: runDir, multicastRoute: DefaultConfig.hasMulticastRoute())
        let path = "\(runDir)/default/rill.json"
        try AtomicFile.makeDirectories("\(runDir)/default")
        try AtomicFile.write(made.json, to: path)
        log.notice("no --config: test source, output mc is \(made.explanation); config in \(path)")
        return path
    }
}

/// The supervisor as a service: its loop runs on its own thread (it waits on a condition, never on
/// the event loop); a graceful shutdown stops every stage, then the service returns.
struct SupervisorService: Service {
    let box: BoxController
    let systemd: SystemdNotify

    func run() async throws {
        let box = self.box
        let systemd = self.systemd
        let readyAt = MonotonicClock.now() + 500 * MediaTime.millisecond
        let done = AsyncStream<Void>.makeStream()
        let thread = StageThread(name: "rill-supervisor") {
            var ready = false
            box.supervisor.run {
                systemd.watchdogTick()
                // READY once every enabled output's stage is up (or after 10 s, with status saying why not).
                if !ready, MonotonicClock.now() >= readyAt {
                    let sends = box.supervisor.status.filter { $0.output != nil && $0.state != .stopped }
                    if sends.allSatisfy({ $0.state == .running })
                        || MonotonicClock.now() > readyAt + 10 * MediaTime.nanosecondsPerSecond
                    {
                        ready = true
                        systemd.send("READY=1\nSTATUS=\(sends.filter { $0.state == .running }.count) outputs up")
                    }
                }
            }
            done.continuation.finish()
        }
        // Until a shutdown signal (or the supervisor ending by itself, e.g. a stage's stop request).
        await withGracefulShutdownHandler {
            for await _ in done.stream {}
        } onGracefulShutdown: {
            systemd.send("STOPPING=1")
            box.events.post(Event(.systemStop, values: [box.instance, "stop requested"]))
            box.supervisor.requestStop()
        }
        thread.join()
    }
}

/// A service whose failure is logged instead of ending the group.
struct LoggedService<S: Service>: Service {
    let name: String
    let service: S
    let log: Log

    func run() async throws {
        do { try await service.run() } catch { log.error("\(name): \(error)") }
    }
}
