#if canImport(Glibc)
import Glibc
#endif
import CRillShims
import Config
import FrameRing
import MediaTime

/// One stage process the supervisor runs.
public struct StageSpec: Sendable, Equatable {
    /// "testsrc", "encode-video", "encode-audio", "mux", "send-<id>".
    public var name: String
    /// Arguments after the executable.
    public var arguments: [String]
}

/// The minimal supervisor of `rill run`: starts every stage as its own process, restarts a crashed
/// one with exponential backoff (0.25 s → 8 s, reset after 30 s of good running), and on
/// SIGTERM/SIGINT stops all of them within 2 s (SIGTERM, then SIGKILL at 1.5 s), removes the
/// instance's shared-memory rings and returns.
public final class Supervisor {
    final class Child {
        let spec: StageSpec
        var pid: pid_t = 0
        var startedAt: Int64 = 0
        var restarts = 0
        var backoff: Int64 = Supervisor.initialBackoff
        var restartAt: Int64? = nil
        init(spec: StageSpec) { self.spec = spec }
    }

    static let initialBackoff: Int64 = 250 * MediaTime.millisecond
    static let maxBackoff: Int64 = 8 * MediaTime.nanosecondsPerSecond
    static let stableAfter: Int64 = 30 * MediaTime.nanosecondsPerSecond
    /// SIGKILL the stages that ignored SIGTERM this long (keeps the whole stop ≤ 2 s).
    static let killAfter: Int64 = 1_500 * MediaTime.millisecond

    let executable: String
    let instance: String
    let log = Log(stage: "rilld")
    private var children: [Child]

    /// A supervisor that runs `stages` of `executable` for box `instance`.
    public init(executable: String, instance: String, stages: [StageSpec]) {
        self.executable = executable
        self.instance = instance
        self.children = stages.map(Child.init)
    }

    /// The stages for `config`, read by each from `configPath`.
    public static func stages(for config: RillConfig, configPath: String) -> [StageSpec] {
        var s: [StageSpec]
        switch config.source.type {
        case .testsrc:
            s = [
                StageSpec(name: "testsrc", arguments: ["stage", "testsrc", "--config", configPath]),
                StageSpec(name: "encode-video", arguments: ["stage", "encode-video", "--config", configPath]),
                StageSpec(name: "encode-audio", arguments: ["stage", "encode-audio", "--config", configPath]),
                StageSpec(name: "mux", arguments: ["stage", "mux", "--config", configPath]),
            ]
        case .gateway:
            // The input writes the received TS straight into the TS ring that every output reads.
            s = [StageSpec(name: "recv", arguments: ["stage", "recv", "--config", configPath])]
        }
        for o in config.outputs where o.enabled {
            s.append(StageSpec(name: "send-\(o.id)", arguments: ["stage", "send", "--config", configPath, "--output", o.id]))
        }
        return s
    }

    /// Runs until a stop is requested, then stops every stage and cleans up.
    public func run() {
        for c in children { start(c) }
        while !StopRequest.isRequested {
            reap()
            let now = MonotonicClock.now()
            for c in children where c.pid == 0 {
                if let at = c.restartAt, now >= at { start(c) }
            }
            MonotonicClock.sleep(until: now + 50 * MediaTime.millisecond)
        }
        stopAll()
        for name in SharedRing.list(instance: instance) { SharedRing.unlink(name: name) }
        log.notice("stopped; rings of instance \(instance) removed")
    }

    private func start(_ c: Child) {
        var argv: [UnsafeMutablePointer<CChar>?] = ([executable] + c.spec.arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: Int32 = 0
        let rc = rill_spawn(&pid, executable, &argv)
        c.restartAt = nil
        guard rc == 0 else {
            log.error("cannot start \(c.spec.name): \(String(cString: strerror(rc)))")
            scheduleRestart(c, now: MonotonicClock.now())
            return
        }
        c.pid = pid
        c.startedAt = MonotonicClock.now()
        log.info("started \(c.spec.name) (pid \(pid))")
    }

    private func reap() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { return }
            guard let c = children.first(where: { $0.pid == pid }) else { continue }
            c.pid = 0
            let now = MonotonicClock.now()
            let how = Self.describe(status)
            if StopRequest.isRequested { continue }
            if now - c.startedAt >= Self.stableAfter { c.backoff = Self.initialBackoff }
            c.restarts += 1
            log.warning("\(c.spec.name) \(how); restart \(c.restarts) in \(c.backoff / MediaTime.millisecond) ms")
            scheduleRestart(c, now: now)
        }
    }

    private func scheduleRestart(_ c: Child, now: Int64) {
        c.restartAt = now + c.backoff
        c.backoff = min(c.backoff * 2, Self.maxBackoff)
    }

    static func describe(_ status: Int32) -> String {
        let sig = status & 0x7F
        if sig == 0 { return "exited with status \((status >> 8) & 0xFF)" }
        return "killed by signal \(sig)"
    }

    private func stopAll() {
        let running = children.filter { $0.pid > 0 }
        for c in running { kill(c.pid, SIGTERM) }
        let deadline = MonotonicClock.now() + Self.killAfter
        while children.contains(where: { $0.pid > 0 }) {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0 {
                children.first { $0.pid == pid }?.pid = 0
                continue
            }
            if pid < 0 && errno == ECHILD { break }
            if MonotonicClock.now() >= deadline {
                for c in children where c.pid > 0 {
                    log.warning("\(c.spec.name) ignored SIGTERM; killing")
                    kill(c.pid, SIGKILL)
                }
                while waitpid(-1, &status, 0) > 0 {}
                break
            }
            MonotonicClock.sleep(until: MonotonicClock.now() + 10 * MediaTime.millisecond)
        }
        for c in children { c.pid = 0 }
    }
}
