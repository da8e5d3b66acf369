import CRillShims
import Events
import FrameRing
import MediaTime
import Runtime
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// rilld's supervisor: runs every stage as its own process, restarts a crashed one with exponential
/// backoff (0.25 s → 8 s, reset after 30 s of good running) and gives up loudly after
/// `maxFailures` short runs in a row (status shows "failed") — the rules are `RestartPolicy`. A
/// stage whose ring heartbeat stops for 3 s while its process lives is killed and restarted.
/// Config changes restart only the stages whose fingerprint changed (hot apply). On a stop request
/// every stage gets SIGTERM, then SIGKILL at 1.5 s (the whole stop ≤ 2 s), and the instance's rings
/// are removed.
///
/// It waits only for its own children, pid by pid (never `waitpid(-1)`): rilld also runs event
/// handlers, whose exit status belongs to `HandlerRunner`.
///
/// One thread runs the loop; the API talks to it through `submit` and reads `status`.
public final class Supervisor: Sendable {
    /// A stage's life cycle as the status shows it.
    public enum StageState: String, Sendable {
        case running, backoff, failed, stopping, stopped
    }

    /// What the API shows of one stage.
    public struct StageStatus: Sendable {
        /// The stage's name (`StageSpec.name`).
        public var name: String
        /// The output it sends, for send stages.
        public var output: String?
        /// Its process id, 0 when not running.
        public var pid: Int32
        /// Where it is in its life cycle.
        public var state: StageState
        /// Restarts after a crash or hang since the box started.
        public var restarts: Int
        /// How its last process ended ("exited with status 1", "killed by signal 9").
        public var lastExit: String?
        /// Wall-clock ns of the last start.
        public var startedAt: Int64
    }

    /// What the API asks of the loop.
    public enum Command: Sendable {
        /// Hot apply of a new stage plan.
        case apply([StageSpec])
        /// Start the send stage of this output id.
        case startOutput(String)
        /// Stop the send stage of this output id (until started again or the box restarts).
        case stopOutput(String)
    }

    final class Child {
        var spec: StageSpec
        var pid: pid_t = 0
        var startedAt: Int64 = 0
        var startedWall: Int64 = 0
        var restarts = 0
        var policy = RestartPolicy()
        var restartAt: Int64? = nil
        var state: StageState = .stopped
        var lastExit: String? = nil
        /// While stopping: what to do once it has exited.
        var replacement: StageSpec? = nil
        var remove = false
        var stopReason = ""
        var killAt: Int64 = 0
        var heartbeatRing: SharedRing? = nil
        init(spec: StageSpec) { self.spec = spec }
    }

    /// Short runs in a row before the supervisor stops trying.
    public static let maxFailures = RestartPolicy.maxFailures
    /// SIGKILL the stages that ignored SIGTERM this long (keeps the whole stop ≤ 2 s).
    static let killAfter: Int64 = 1_500 * MediaTime.millisecond
    /// After SIGKILL, how long the stop waits for the killed processes (ns).
    static let killWait: Int64 = 400 * MediaTime.millisecond
    static let tick: Int64 = 20 * MediaTime.millisecond
    /// The environment variable naming the supervisor's pid to its stages.
    public static let pidEnvironment = "RILL_SUPERVISOR_PID"

    let executable: String
    let instance: String
    let log = Log(stage: "rilld")
    let events: EventDispatcher?
    private let commands = Mutex<[Command]>([])
    private let snapshot = Mutex<[StageStatus]>([])
    private let wake = Doorbell()
    private let stopFlag = Mutex(false)
    // Only the loop's thread touches `children` (hence @unchecked on the box).
    private let childrenBox: ChildrenBox

    final class ChildrenBox: @unchecked Sendable { var list: [Child] = [] }

    /// A supervisor that runs `stages` of `executable` for box `instance`.
    public init(executable: String, instance: String, stages: [StageSpec], events: EventDispatcher? = nil) {
        self.executable = executable
        self.instance = instance
        self.events = events
        childrenBox = ChildrenBox()
        childrenBox.list = stages.map(Child.init)
        publish()
    }

    /// Queues a command for the loop (returns at once; the loop acts within one tick).
    public func submit(_ c: Command) {
        commands.withLock { $0.append(c) }
        wake.ring()
    }

    /// Every stage's state.
    public var status: [StageStatus] { snapshot.withLock { $0 } }

    /// Ends `run` as a process-wide stop request does, for this supervisor only (tests, embedding).
    public func requestStop() {
        stopFlag.withLock { $0 = true }
        wake.ring()
    }

    private var stopping: Bool { StopRequest.isRequested || stopFlag.withLock { $0 } }

    /// Runs until a stop is requested, then stops every stage and cleans up. `everyTick` runs on
    /// the loop's thread each tick (the systemd watchdog).
    public func run(everyTick: () -> Void = {}) {
        setenv(Self.pidEnvironment, String(getpid()), 1)
        for c in childrenBox.list where c.spec.enabled { start(c) }
        publish()
        var nextHeartbeatCheck = MonotonicClock.now()
        while !stopping {
            let cmds = commands.withLock { c -> [Command] in
                defer { c = [] }
                return c
            }
            for c in cmds { handle(c) }
            reap()
            let now = MonotonicClock.now()
            for c in childrenBox.list {
                if c.state == .backoff, let at = c.restartAt, now >= at { start(c) }
                if c.state == .stopping, c.pid > 0, now >= c.killAt {
                    log.warning("\(c.spec.name) ignored SIGTERM; killing")
                    kill(c.pid, SIGKILL)
                    c.killAt = .max
                }
            }
            if now >= nextHeartbeatCheck {
                checkHeartbeats(now: now)
                nextHeartbeatCheck = now + MediaTime.nanosecondsPerSecond
            }
            publish()
            everyTick()
            wake.wait(until: now + Self.tick)
        }
        stopAll()
        publish()
        for name in SharedRing.list(instance: instance) { SharedRing.unlink(name: name) }
        log.notice("stopped; rings of instance \(instance) removed")
    }

    // MARK: Commands

    private func handle(_ command: Command) {
        switch command {
        case .apply(let plan): apply(plan)
        case .startOutput(let id):
            guard let c = childrenBox.list.first(where: { $0.spec.output == id }) else { return }
            c.spec.enabled = true
            if c.state == .stopping {
                c.replacement = c.spec
                return
            }
            if c.state == .stopped || c.state == .failed || c.state == .backoff {
                c.policy.reset()
                start(c)
            }
        case .stopOutput(let id):
            guard let c = childrenBox.list.first(where: { $0.spec.output == id }) else { return }
            c.spec.enabled = false
            c.replacement = nil
            stop(c, reason: "stopped through the API")
        }
    }

    /// Hot apply: stop removed stages, restart changed ones (after the old process is gone, as
    /// they share names and ports), start new ones; untouched stages keep running.
    private func apply(_ plan: [StageSpec]) {
        var starting: [String] = []
        var restarting: [String] = []
        var ending: [String] = []
        for c in childrenBox.list where !plan.contains(where: { $0.name == c.spec.name }) {
            c.remove = true
            if c.pid > 0 { ending.append(c.spec.name) }
            stop(c, reason: "removed from the config")
            if c.pid == 0 { childrenBox.list.removeAll { $0 === c } }
        }
        for spec in plan {
            if let c = childrenBox.list.first(where: { $0.spec.name == spec.name }) {
                let changed = c.spec.fingerprint != spec.fingerprint || c.spec.arguments != spec.arguments
                // Removed by an earlier plan and not gone yet, now back: it stays, and starts
                // again once the old process has exited (a stage never runs twice at once).
                let leaving = c.remove
                c.remove = false
                if !spec.enabled {
                    c.spec = spec
                    c.replacement = nil
                    if c.pid > 0 { ending.append(spec.name) }
                    if c.state != .stopped { stop(c, reason: "disabled in the config") }
                } else if changed || leaving || c.state == .failed || (c.state == .stopped && !c.spec.enabled) {
                    c.policy.reset()
                    if c.pid > 0 {
                        c.replacement = spec
                        c.remove = false
                        stop(c, reason: "config changed")
                        restarting.append(spec.name)
                    } else {
                        c.spec = spec
                        start(c)
                        starting.append(spec.name)
                    }
                } else {
                    c.spec = spec
                }
            } else {
                let c = Child(spec: spec)
                childrenBox.list.append(c)
                if spec.enabled {
                    start(c)
                    starting.append(spec.name)
                }
            }
        }
        // Keep the plan's order (status reads like the pipeline).
        childrenBox.list.sort { a, b in
            (plan.firstIndex { $0.name == a.spec.name } ?? .max) < (plan.firstIndex { $0.name == b.spec.name } ?? .max)
        }
        log.notice("config applied: \(Self.summary(starting: starting, restarting: restarting, stopping: ending))")
    }

    /// "starting a, b; restarting c; stopping d", or "no stage affected".
    static func summary(starting: [String], restarting: [String], stopping: [String]) -> String {
        let parts = [("starting", starting), ("restarting", restarting), ("stopping", stopping)]
            .filter { !$0.1.isEmpty }
            .map { "\($0.0) \($0.1.joined(separator: ", "))" }
        return parts.isEmpty ? "no stage affected" : parts.joined(separator: "; ")
    }

    // MARK: Processes

    private func start(_ c: Child) {
        var argv: [UnsafeMutablePointer<CChar>?] = ([executable] + c.spec.arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: Int32 = 0
        let rc = rill_spawn(&pid, executable, &argv)
        c.restartAt = nil
        c.heartbeatRing = nil
        guard rc == 0 else {
            c.lastExit = "cannot start: \(String(cString: strerror(rc)))"
            log.error("cannot start \(c.spec.name): \(String(cString: strerror(rc)))")
            failed(c, now: MonotonicClock.now())
            return
        }
        c.pid = pid
        c.state = .running
        c.startedAt = MonotonicClock.now()
        c.startedWall = MonotonicClock.wallNow()
        log.info("started \(c.spec.name) (pid \(pid))")
        if let id = c.spec.output, let url = c.spec.urlText {
            events?.post(Event(.outputStart, output: id, values: [id, url]))
        }
    }

    private func stop(_ c: Child, reason: String) {
        c.stopReason = reason
        if c.pid > 0 {
            if c.state != .stopping {
                kill(c.pid, SIGTERM)
                c.killAt = MonotonicClock.now() + Self.killAfter
            }
            c.state = .stopping
        } else {
            c.state = .stopped
            c.restartAt = nil
        }
    }

    /// Collects the stages that exited: `waitpid` on each stage's own pid, never on any child.
    private func reap() {
        for c in childrenBox.list where c.pid > 0 {
            switch Self.collect(c.pid) {
            case .running: continue
            case .exited(let status): exited(c, how: Self.describe(status))
            case .lost: exited(c, how: "exit status lost (ECHILD)")
            }
        }
    }

    private func exited(_ c: Child, how: String) {
        c.pid = 0
        c.lastExit = how
        if let id = c.spec.output, let url = c.spec.urlText {
            let reason = c.state == .stopping ? c.stopReason : how
            events?.post(Event(.outputEnd, output: id, values: [id, url, reason]))
        }
        if stopping { return }
        if c.state == .stopping {
            c.state = .stopped
            if c.remove {
                childrenBox.list.removeAll { $0 === c }
            } else if let next = c.replacement {
                c.spec = next
                c.replacement = nil
                start(c)
            }
            return
        }
        c.restarts += 1
        decide(c, c.policy.exited(startedAt: c.startedAt, now: MonotonicClock.now()))
    }

    /// Schedules a restart with backoff, or gives up after `maxFailures` short runs in a row.
    private func failed(_ c: Child, now: Int64) {
        decide(c, c.policy.failed(now: now))
    }

    private func decide(_ c: Child, _ decision: RestartPolicy.Decision) {
        switch decision {
        case .giveUp:
            c.state = .failed
            c.restartAt = nil
            log.error(
                "\(c.spec.name) \(c.lastExit ?? "failed") — \(c.policy.failuresInARow) failures in a row; giving up until the config changes or the box restarts"
            )
            events?.post(
                Event(
                    .stageRestart, output: c.spec.output,
                    values: [c.spec.name, c.lastExit ?? "failed", "\(c.restarts)", "failed"]))
        case .restart(let at, let delay):
            c.state = .backoff
            c.restartAt = at
            log.warning(
                "\(c.spec.name) \(c.lastExit ?? "failed"); restart \(c.restarts) in \(delay / MediaTime.millisecond) ms"
            )
            events?.post(
                Event(
                    .stageRestart, output: c.spec.output,
                    values: [c.spec.name, c.lastExit ?? "failed", "\(c.restarts)", "restarting"]))
        }
    }

    /// Kills a stage whose ring writer heartbeat has stopped (a hung process is restarted like a
    /// crashed one).
    private func checkHeartbeats(now: Int64) {
        for c in childrenBox.list
        where c.state == .running && c.pid > 0 && now - c.startedAt > RestartPolicy.heartbeatGrace {
            guard let name = c.spec.ring else { continue }
            if c.heartbeatRing == nil || c.heartbeatRing?.writerProcess != UInt32(c.pid) {
                c.heartbeatRing = try? SharedRing.open(name: name)
            }
            guard let ring = c.heartbeatRing, ring.writerProcess == UInt32(c.pid) else { continue }
            let silent = now - ring.lastHeartbeat
            if RestartPolicy.isHung(now: now, startedAt: c.startedAt, lastHeartbeat: ring.lastHeartbeat) {
                log.error(
                    "\(c.spec.name) (pid \(c.pid)): no ring heartbeat for \(silent / MediaTime.millisecond) ms; killing it"
                )
                kill(c.pid, SIGKILL)
            }
        }
    }

    private func publish() {
        let list = childrenBox.list.map {
            StageStatus(
                name: $0.spec.name, output: $0.spec.output, pid: $0.pid, state: $0.state, restarts: $0.restarts,
                lastExit: $0.lastExit, startedAt: $0.startedWall)
        }
        snapshot.withLock { $0 = list }
    }

    /// SIGTERM to every stage, SIGKILL at `killAfter` to those still there; waits for its own
    /// children only (a hung event handler never holds the stop up), `killAfter + killWait` at most.
    private func stopAll() {
        for c in childrenBox.list where c.pid > 0 {
            c.stopReason = "box stopping"
            kill(c.pid, SIGTERM)
        }
        let deadline = MonotonicClock.now() + Self.killAfter
        var killed = false
        while childrenBox.list.contains(where: { $0.pid > 0 }) {
            for c in childrenBox.list where c.pid > 0 {
                guard Self.collect(c.pid) != .running else { continue }
                c.pid = 0
                c.state = .stopped
                if let id = c.spec.output, let url = c.spec.urlText {
                    events?.post(Event(.outputEnd, output: id, values: [id, url, "box stopping"]))
                }
            }
            let now = MonotonicClock.now()
            if !killed && now >= deadline {
                for c in childrenBox.list where c.pid > 0 {
                    log.warning("\(c.spec.name) ignored SIGTERM; killing")
                    kill(c.pid, SIGKILL)
                }
                killed = true
            } else if killed && now >= deadline + Self.killWait {
                for c in childrenBox.list where c.pid > 0 {
                    log.error("\(c.spec.name) (pid \(c.pid)) still there after SIGKILL; leaving it")
                }
                break
            }
            MonotonicClock.sleep(until: now + 10 * MediaTime.millisecond)
        }
        for c in childrenBox.list {
            c.pid = 0
            c.state = .stopped
        }
    }
}
