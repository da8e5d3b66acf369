import Box
import Config
import Events
import Foundation
import RillTestSupport
import Testing

/// rilld runs stages and event handlers as children of one process: each waiter must collect only
/// its own children (issue 15, defect 1).
@Suite("Supervisor and handlers share a process", .serialized)
struct SupervisorReapTests {
    /// A supervisor on its own thread, running `stages` (`/bin/sh -c SCRIPT` each).
    final class Running: @unchecked Sendable {
        let supervisor: Supervisor
        let thread: Thread
        let done = DispatchSemaphore(value: 0)

        init(instance: String, stages: [(String, String)], events: EventDispatcher?) {
            supervisor = Supervisor(executable: "/bin/sh", instance: instance, stages: [], events: events)
            supervisor.submit(.apply(stages.map { StageSpec(name: $0.0, arguments: ["-c", $0.1]) }))
            let (s, d) = (supervisor, done)
            thread = Thread {
                s.run()
                d.signal()
            }
            thread.start()
        }

        /// Asks the loop to stop; returns the seconds until it returned.
        func stop() -> Double {
            let start = Date()
            supervisor.requestStop()
            _ = done.wait(timeout: .now() + 10)
            return Date().timeIntervalSince(start)
        }

        func restarts(_ name: String) -> Int { supervisor.status.first { $0.name == name }?.restarts ?? 0 }
    }

    static func script(_ dir: String, _ name: String, _ body: String) throws -> String {
        let path = "\(dir)/\(name)"
        try "#!/bin/sh\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    @Test("a handler that always exits 3, run 40 times while crashing stages are being reaped: 40 failed, 0 delivered")
    func failingHandlerNeverCountsAsDelivered() throws {
        let dir = makeTemporaryDirectory("reap")
        // It closes its stdout before it exits: the runner then polls for the exit while the
        // supervisor's loop reaps, the window where a `waitpid(-1)` took the status.
        let handler = try Self.script(dir, "fail.sh", "cat > /dev/null; exec >&-; sleep 0.05; exit 3")
        let events = EventDispatcher(handlers: [EventHandlerSection(on: [.inputSignal], handler: handler)])
        events.start(channel: nil)
        // Three stages that die at once and are restarted all the time: the loop reaps every 20 ms.
        let box = Running(
            instance: "reap-\(getpid())",
            stages: [("crash-a", "exit 1"), ("crash-b", "kill -9 $$"), ("crash-c", "exit 2")], events: events)
        let runs: UInt64 = 40
        for i in 0..<runs { events.post(Event(.inputSignal, values: ["lost", "run \(i)"])) }
        let finished = waitFor(timeout: 60) {
            let c = events.counters
            return c.delivered + c.failed == runs
        }
        let restarts = box.restarts("crash-a") + box.restarts("crash-b") + box.restarts("crash-c")
        let seconds = box.stop()
        events.drain(timeoutMs: 100)
        let c = events.counters
        #expect(finished, "only \(c.delivered + c.failed) of \(runs) handler runs finished")
        // The impairment happened: the supervisor reaped its stages while the handlers ran.
        #expect(restarts >= 4, "the stages were restarted only \(restarts) times")
        #expect(c.failed == runs && c.delivered == 0, "failed \(c.failed), delivered \(c.delivered)")
        #expect(seconds < 2, "stop took \(seconds) s")
    }

    @Test(
        "stopping takes ≤ 2 s with a stage that ignores SIGTERM and a handler that sleeps 60 s; the handler is killed")
    func shutdownNeverWaitsForAHungHandler() throws {
        let dir = makeTemporaryDirectory("hung")
        let handler = try Self.script(dir, "hang.sh", "echo $$ > \(dir)/handler.pid; exec sleep 60")
        let events = EventDispatcher(handlers: [EventHandlerSection(on: [.inputSignal], handler: handler)])
        events.start(channel: nil)
        let box = Running(
            instance: "hung-\(getpid())",
            stages: [("stubborn", "trap '' TERM; echo $$ > \(dir)/stage.pid; while :; do sleep 1; done")],
            events: events)
        events.post(Event(.inputSignal, values: ["lost", "hang"]))
        let pidFile = "\(dir)/handler.pid"
        #expect(
            waitFor(timeout: 10) {
                FileManager.default.fileExists(atPath: pidFile)
                    && FileManager.default.fileExists(atPath: "\(dir)/stage.pid")
            })
        let handlerPID = try #require(
            Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(handlerPID, 0) == 0, "the handler is not running")

        // rilld's order: the supervisor stops its stages, then the events drain for at most 1 s.
        let start = Date()
        let supervisorSeconds = box.stop()
        events.drain(timeoutMs: 400)
        let seconds = Date().timeIntervalSince(start)
        #expect(supervisorSeconds > 1.4, "the stage should have needed SIGKILL at 1.5 s (took \(supervisorSeconds) s)")
        #expect(seconds <= 2, "stopping took \(seconds) s")
        #expect(
            waitFor(timeout: 2) { kill(handlerPID, 0) != 0 }, "the hung handler (pid \(handlerPID)) is still running")
        #expect(
            waitFor(timeout: 2) { events.counters.failed == 1 },
            "the killed handler was not counted as failed: \(events.counters)")
        #expect(events.counters.delivered == 0)
    }

    @Test("a stage removed by one plan and put back by the next while it is still stopping runs again")
    func removedThenRestoredWhileStopping() throws {
        // The stage takes 0.5 s to stop after SIGTERM, so the second plan arrives while it stops.
        let stage = ("send-a", "trap 'sleep 0.5; exit 0' TERM; while :; do sleep 0.05; done")
        let box = Running(instance: "restore-\(getpid())", stages: [stage], events: nil)
        defer { _ = box.stop() }
        func state() -> (String?, Int32) {
            let s = box.supervisor.status.first { $0.name == "send-a" }
            return (s?.state.rawValue, s?.pid ?? 0)
        }
        #expect(waitFor(timeout: 5) { state().0 == "running" })
        let firstPID = state().1
        box.supervisor.submit(.apply([]))
        #expect(waitFor(timeout: 2) { state().0 == "stopping" }, "\(state())")
        box.supervisor.submit(.apply([StageSpec(name: stage.0, arguments: ["-c", stage.1])]))
        // The old process exits after its 0.5 s, then a new one runs; it is never dropped.
        #expect(
            waitFor(timeout: 5) { state().0 == "running" && state().1 != firstPID && state().1 > 0 }, "\(state())")
        #expect(kill(firstPID, 0) != 0, "the old process is gone before the new one runs")
    }
}
