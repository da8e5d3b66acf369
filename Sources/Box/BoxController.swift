import Config
import Events
import Runtime
import Synchronization
import Transport

#if canImport(Glibc)
import Glibc
#endif

/// rilld's core, shared by the supervisor loop and the API: the config store, the supervisor, the
/// event hub and the run-time files (the stages' config copy, SDP files, stage statistics).
public final class BoxController: Sendable {
    /// rill's version, reported by the API and SYSTEM_START.
    public static let version = "0.4.0"

    /// The config files.
    public let store: ConfigStore
    /// The stage processes.
    public let supervisor: Supervisor
    /// The event hub (handlers and SSE subscribers).
    public let events: EventDispatcher
    /// The run directory in use (the configured one, or a fallback when it is not writable).
    public let runDirectory: String
    /// The instance fixed at start (`system` changes take effect at the next start).
    public let instance: String
    /// `runDirectory/instance`: the stages' config copy, statistics and the event socket.
    public let instanceDirectory: String
    /// The copy of the config every stage reads (validated, with the settled run directory).
    public let stageConfigPath: String
    /// Wall-clock ns at start.
    public let startedAt: Int64
    let startupSystem: SystemSection
    let log = Log(stage: "rilld")
    /// The plan last submitted (to name the stages a change restarts).
    private let lastPlan = Mutex<[StageSpec]>([])

    /// Prepares the run-time files for the store's config; `executable` is what stages run as.
    public init(store: ConfigStore, executable: String, runDirectory: String) throws {
        self.store = store
        let cfg = store.config
        self.runDirectory = runDirectory
        instance = cfg.system.instance
        instanceDirectory = "\(runDirectory)/\(instance)"
        stageConfigPath = "\(instanceDirectory)/config.json"
        startupSystem = {
            var s = cfg.system
            s.runDirectory = runDirectory
            return s
        }()
        startedAt = MonotonicClock.wallNow()
        try AtomicFile.makeDirectories(instanceDirectory + "/stats")
        events = EventDispatcher(handlers: cfg.events)
        supervisor = Supervisor(
            executable: executable, instance: instance, stages: [], events: events)
        try writeRunFiles(effective(cfg), document: store.document)
    }

    /// `config` as the stages see it: the system section fixed at start.
    public func effective(_ config: RillConfig) -> RillConfig {
        var c = config
        c.system = startupSystem
        return c
    }

    /// The stage plan of `config`.
    public func plan(_ config: RillConfig) -> [StageSpec] {
        Supervisor.stages(for: effective(config), configPath: stageConfigPath)
    }

    /// Submits `plan` to the supervisor; returns the stages it starts, stops or restarts.
    @discardableResult
    public func submit(_ plan: [StageSpec]) -> [String] {
        let old = lastPlan.withLock { p in
            defer { p = plan }
            return p
        }
        supervisor.submit(.apply(plan))
        let changed = plan.filter { s in
            guard let o = old.first(where: { $0.name == s.name }) else { return true }
            return o.fingerprint != s.fingerprint || o.arguments != s.arguments || o.enabled != s.enabled
        }.map(\.name)
        return changed + old.filter { o in !plan.contains { $0.name == o.name } }.map(\.name)
    }

    /// Writes the stages' config copy and the SDP files.
    func writeRunFiles(_ cfg: RillConfig, document: JSON) throws {
        let system: JSON = .object([
            ("instance", .string(startupSystem.instance)), ("runDirectory", .string(runDirectory)),
        ])
        let doc = document.merged(with: .object([("system", system)]))
        try AtomicFile.write(doc.pretty, to: stageConfigPath, mode: 0o600)
        for o in cfg.outputs where o.sdp != nil {
            do {
                try OutputSDP.write(o, serviceName: cfg.program.serviceName)
            } catch {
                log.error("output \(o.id): cannot write SDP file \(o.sdp!): \(error)")
            }
        }
    }

    /// The outcome of a config change.
    public struct Change: Sendable {
        /// Sections whose value changed.
        public var sections: [String]
        /// Whether a changed section (system, api) only takes effect at the next start.
        public var restartRequired: Bool
        /// Stages started, stopped or restarted by the change.
        public var stages: [String] = []
    }

    /// Validates, saves and applies a change of whole sections (nil removes one). An invalid
    /// change is refused before anything is written and the running box is untouched.
    public func change(_ changes: [(String, JSON?)]) throws(ConfigStore.Failure) -> Change {
        let (cfg, changed) = try store.update(changes)
        guard !changed.isEmpty else { return Change(sections: [], restartRequired: false) }
        do {
            try writeRunFiles(effective(cfg), document: store.document)
        } catch {
            log.error("cannot write the stages' config: \(error)")
        }
        events.setHandlers(cfg.events)
        // rilld at once; stages take it from the environment when they next start.
        LogLevel.apply(named: cfg.system.logLevel)
        let restarted = submit(plan(cfg))
        events.post(Event(.configChanged, values: [changed.joined(separator: ","), restarted.joined(separator: ",")]))
        return Change(
            sections: changed, restartRequired: changed.contains { $0 == "system" || $0 == "api" }, stages: restarted)
    }

    /// A stage's or an output's statistics file, parsed (nil when absent or unreadable).
    public func statistics(_ name: String) -> JSON? {
        guard let text = try? AtomicFile.read("\(instanceDirectory)/stats/\(name).json") else { return nil }
        return try? JSONParser.parse(text)
    }

    /// The SDP of an `rtp://` output (the file when it has one, else generated).
    public func sdp(output id: String) -> String? {
        guard let o = store.config.outputs.first(where: { $0.id == id }), o.url.scheme == "rtp" else { return nil }
        if let path = o.sdp, let text = try? AtomicFile.read(path) { return text }
        return OutputSDP.describe(o, serviceName: store.config.program.serviceName).text
    }
}
