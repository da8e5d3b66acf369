import Config
import Events
import MediaTime
import Runtime
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The supervisor's event hub. Events come from the supervisor itself and from stages (over the
/// event channel); each goes at once to the API's Server-Sent-Event subscribers and into a bounded
/// queue that one worker thread drains through the configured handlers. Posting never blocks: when
/// the queue is full the oldest event is dropped and counted, so a slow handler never stalls the box.
public final class EventDispatcher: Sendable {
    /// Queued events at most (handlers that fall this far behind lose the oldest).
    public static let queueLimit = 1024

    struct State {
        var queue: [Event] = []
        var handlers: [EventHandlerSection] = []
        var subscribers: [Int: @Sendable (Event) -> Void] = [:]
        var nextSubscriber = 0
        var dropped: UInt64 = 0
        var delivered: UInt64 = 0
        var failed: UInt64 = 0
        var stopping = false
        /// A handler run is in progress (drain waits for it).
        var busy = false
    }

    private let state = Mutex(State())
    private let wake = Doorbell()
    private let log = Log(stage: "events")
    /// The executable handlers running now (killed when a drain runs out of time).
    private let processes = HandlerProcesses()

    /// A hub running `handlers` (the config's `events` section).
    public init(handlers: [EventHandlerSection]) {
        state.withLock { $0.handlers = handlers }
    }

    /// Replaces the handlers (config change).
    public func setHandlers(_ h: [EventHandlerSection]) { state.withLock { $0.handlers = h } }

    /// Counters for status and metrics: (delivered, failed, dropped).
    public var counters: (delivered: UInt64, failed: UInt64, dropped: UInt64) {
        state.withLock { ($0.delivered, $0.failed, $0.dropped) }
    }

    /// Publishes `event` (never blocks).
    public func post(_ event: Event) {
        var e = event
        if e.time == 0 { e.time = MonotonicClock.wallNow() }
        let subscribers = state.withLock { s -> [@Sendable (Event) -> Void] in
            if !e.kind.isBlocking, s.handlers.contains(where: { $0.matches(e.kind, output: e.output) }) {
                if s.queue.count >= Self.queueLimit {
                    s.queue.removeFirst()
                    s.dropped += 1
                }
                s.queue.append(e)
            }
            return Array(s.subscribers.values)
        }
        log.info(
            "\(e.kind.rawValue)\(e.output.map { " [\($0)]" } ?? ""): \(e.values.map { Event.escape($0) }.joined(separator: " | "))"
        )
        for s in subscribers { s(e) }
        wake.ring()
    }

    /// Registers an SSE subscriber; returns its id for `unsubscribe`.
    public func subscribe(_ f: @escaping @Sendable (Event) -> Void) -> Int {
        state.withLock { s in
            let id = s.nextSubscriber
            s.nextSubscriber += 1
            s.subscribers[id] = f
            return id
        }
    }

    /// Removes the SSE subscriber `id`.
    public func unsubscribe(_ id: Int) { state.withLock { _ = $0.subscribers.removeValue(forKey: id) } }

    /// Starts the handler worker and the receiver of stage events on `channel`.
    public func start(channel: EventChannel?) {
        _ = StageThread(name: "rill-events") { [self] in self.work() }
        if let channel {
            _ = StageThread(name: "rill-evrecv") { [self] in
                while !self.state.withLock({ $0.stopping }) {
                    if let e = channel.receive(timeoutMs: 200) { self.post(e) }
                }
            }
        }
    }

    /// Events waiting for the worker, oldest first.
    var queued: [Event] { state.withLock { $0.queue } }

    /// Lets the worker finish what is queued (up to `timeoutMs`), then stops it and kills the
    /// executable handlers still running: returns within `timeoutMs` (+ one 10 ms step) whatever a
    /// handler does. An HTTP handler still waiting is left to its own timeout (it holds no process).
    public func drain(timeoutMs: Int64) {
        let end = MonotonicClock.now() + timeoutMs * MediaTime.millisecond
        while MonotonicClock.now() < end, !state.withLock({ $0.queue.isEmpty && !$0.busy }) {
            MonotonicClock.sleep(until: min(end, MonotonicClock.now() + 10 * MediaTime.millisecond))
        }
        let dropped = state.withLock { s -> Int in
            s.stopping = true
            defer { s.queue = [] }
            return s.queue.count
        }
        wake.ring()
        let killed = processes.killAll()
        if dropped > 0 || killed > 0 {
            log.warning("stopping: \(dropped) events not handled, \(killed) handlers still running killed")
        }
    }

    private func work() {
        while true {
            let next = state.withLock { s -> (Event, [EventHandlerSection])? in
                s.busy = false
                guard !s.queue.isEmpty, !s.stopping else { return nil }
                s.busy = true
                let e = s.queue.removeFirst()
                return (e, s.handlers.filter { $0.matches(e.kind, output: e.output) })
            }
            guard let (event, handlers) = next else {
                if state.withLock({ $0.stopping }) { return }
                wake.wait(until: MonotonicClock.now() + 500_000_000)
                continue
            }
            for h in handlers {
                if state.withLock({ $0.stopping }) { break }
                let o = HandlerRunner.run(h, event, processes: processes)
                state.withLock {
                    if o.failure == nil { $0.delivered += 1 } else { $0.failed += 1 }
                }
                if let f = o.failure { log.warning("\(event.kind.rawValue) handler \(h.handler): \(f)") }
            }
        }
    }
}
