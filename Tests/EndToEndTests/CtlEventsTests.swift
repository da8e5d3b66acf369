import Foundation
import RillTestSupport
import Testing

/// A TCP port the kernel handed out and took back (free for the box to bind a moment later);
/// `kernelAssignedPort(_:)` of RillTestSupport, 0 if the kernel gave none.
func ephemeralPort() -> Int { (try? kernelAssignedPort(.tcp)) ?? 0 }

/// rilld's shutdown with a hung event handler, its start-up log, and `rill ctl config|outputs|events`.
/// Each box runs in a network namespace of its own, with everything that talks to it.
@Suite("rill ctl and rilld's events", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct CtlEventsTests {
    @Test(
        "rilld stops in ≤ 2 s while an event handler sleeps 60 s, and kills it; the first start says 'starting', not 'restarting'"
    )
    func shutdownWithHungHandler() throws {
        let dir = makeTemporaryDirectory("hung-handler")
        let handler = "\(dir)/hang.sh"
        try "#!/bin/sh\necho $$ > \(dir)/handler.pid\nexec sleep 60\n".write(
            toFile: handler, atomically: true, encoding: .utf8)
        chmod(handler, 0o755)
        let ns = try NetworkNamespace("hung")
        defer { ns.close() }
        let box = try APIBox(
            label: "hung", port: 18140, outputs: #"{ "id": "u", "url": "udp://127.0.0.1:5199" }"#,
            events: #"{ "on": ["OUTPUT_START"], "handler": "\#(handler)" }"#, namespace: ns)
        defer { box.box.stop() }
        #expect(
            waitFor(timeout: 20) { FileManager.default.fileExists(atPath: "\(dir)/handler.pid") },
            "\(box.box.log.suffix(1500))")
        let handlerPID = try #require(
            Int32(
                String(contentsOfFile: "\(dir)/handler.pid", encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines)))
        #expect(processAlive(handlerPID), "the handler is not running")
        let applied = box.box.log.split(separator: "\n").first { $0.contains("config applied:") } ?? ""
        #expect(
            applied.contains("starting") && applied.contains("send-u") && !applied.contains("restarting"), "\(applied)")

        let start = Date()
        kill(box.box.process.processIdentifier, SIGTERM)
        let exit = reap(box.box.process, killAfter: 10)
        let seconds = Date().timeIntervalSince(start)
        #expect(!exit.killed && seconds <= 2, "rilld took \(seconds) s to stop (status \(exit.status))")
        #expect(
            waitFor(timeout: 1) { !processAlive(handlerPID) }, "the hung handler (pid \(handlerPID)) outlived the box")
        #expect(box.box.log.contains("handlers still running killed"), "\(box.box.log.suffix(800))")
    }

    @Test("rill ctl config get/set, outputs stop/start and events follow the box's API")
    func ctl() throws {
        let port = 18150
        let ns = try NetworkNamespace("ctl")
        defer { ns.close() }
        let box = try APIBox(
            label: "ctl", port: port, outputs: #"{ "id": "c", "url": "udp://127.0.0.1:5197" }"#, namespace: ns)
        defer { box.box.stop() }
        #expect(box.answers(within: 20), "\(box.box.log.suffix(1500))")
        let api = ["--api", "http://127.0.0.1:\(port)", "--token-file", box.box.directory + "/token"]
        func ctl(_ args: [String], stdin: String? = nil) throws -> ProcessResult {
            try runProcess(ns.command([rillBinary(), "ctl"] + args + api), timeout: 15, stdin: stdin)
        }
        // Follow the events from here on.
        let eventsLog = "\(box.box.directory)/ctl-events.jsonl"
        _ = FileManager.default.createFile(atPath: eventsLog, contents: nil)
        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        follower.arguments = ns.command([rillBinary(), "ctl", "events", "--json"] + api)
        follower.standardOutput = FileHandle(forWritingAtPath: eventsLog)
        follower.standardInput = FileHandle.nullDevice
        try follower.run()
        defer {
            kill(follower.processIdentifier, SIGKILL)
            _ = reap(follower, killAfter: 5)
        }
        let seen = {
            ((try? String(contentsOfFile: eventsLog, encoding: .utf8)) ?? "").split(separator: "\n")
                .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
        // Subscribed once a config change shows up in its output.
        var round = 0
        let following = waitFor(timeout: 10, interval: 0.2) {
            round += 1
            _ = try? box.curl("PATCH", "/api/v1/config", body: #"{ "program": { "providerName": "Ready \#(round)" } }"#)
            return seen().contains { $0["event"] as? String == "CONFIG_CHANGED" }
        }
        #expect(following, "rill ctl events printed nothing")
        func state(_ stage: String) -> String? {
            let line = (try? ctl(["status"]).stdout)?.split(separator: "\n").first { $0.hasPrefix(stage + " ") }
            return line?.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.map(String.init)
        }

        let get = try ctl(["config", "get", "outputs"])
        #expect(get.status == 0 && get.stdout.contains("127.0.0.1:5197"), "\(get.stdout) \(get.stderr)")
        let set = try ctl(["config", "set", "--merge", "program", "-"], stdin: #"{ "serviceName": "Ctl Test" }"#)
        #expect(set.status == 0 && set.stdout == "changed: program\n", "\(set.stdout) \(set.stderr)")
        let apiChange = try ctl(["config", "set", "--merge", "api", "-"], stdin: #"{ "maxBodyBytes": 100000 }"#)
        #expect(
            apiChange.stdout == "changed: api (takes effect at the next start)\n",
            "\(apiChange.stdout) \(apiChange.stderr)")
        let bad = try ctl(["config", "set", "--merge", "program", "-"], stdin: #"{ "serviceNme": "x" }"#)
        #expect(bad.status == 1 && bad.stderr.contains("program.serviceNme"), "\(bad.stderr)")
        #expect(try ctl(["config", "get", "program"]).stdout.contains("\"Ctl Test\""))

        #expect(try ctl(["outputs", "stop", "c"]).stdout == "output c: stop requested\n")
        #expect(waitFor(timeout: 5) { state("send-c") == "stopped" }, "\(String(describing: state("send-c")))")
        #expect(try ctl(["outputs", "start", "c"]).status == 0)
        #expect(waitFor(timeout: 5) { state("send-c") == "running" }, "\(String(describing: state("send-c")))")
        #expect(try ctl(["outputs", "stop", "nope"]).status == 1)

        #expect(waitFor(timeout: 5) { seen().contains { $0["event"] as? String == "OUTPUT_START" } }, "\(seen())")
        let kinds = seen().compactMap { $0["event"] as? String }
        #expect(kinds.contains("CONFIG_CHANGED") && kinds.contains("OUTPUT_END"), "\(kinds)")
        let end = seen().first { $0["event"] as? String == "OUTPUT_END" }
        #expect(
            (end?["payload"] as? [String: String])?["reason"] == "stopped through the API", "\(String(describing: end))"
        )
    }
}
