import Foundation
import RillTestSupport
import Testing

/// The admin password of every browser test's box.
let pageTestPassword = "correct horse battery"

/// A browser scenario (`Tests/browser/<script>`: Selenium driving Debian's chromium through
/// chromedriver) running in the background with the browser venv's Python, inside the box's network
/// namespace, against the box's page. It stops at its checkpoints until the test has looked at the
/// wire (`reached`, then `go`); `finish` returns the JSON object it prints as its last line.
final class BrowserRun: @unchecked Sendable {
    let process = Process()
    let script: String
    /// Where the scenario and the test meet: NAME.ready (scenario) and NAME.go (test).
    let sync: String
    private let stdoutPath: String
    private let stderrPath: String
    private var finished = false

    init(_ script: String, box: APIBox, arguments: [String] = []) throws {
        let root = packageRoot()
        let python = "\(root)/.build/browser-venv/bin/python"
        if !FileManager.default.isExecutableFile(atPath: python) {
            let setup = try runProcess(["\(root)/Tests/browser/setup.sh"], timeout: 300)
            guard setup.status == 0 else { throw TestEnvironmentError("Tests/browser/setup.sh: \(setup.stderr)") }
        }
        self.script = script
        sync = makeTemporaryDirectory("browser-sync")
        stdoutPath = "\(sync)/stdout"
        stderrPath = "\(sync)/stderr"
        for path in [stdoutPath, stderrPath] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            (box.namespace?.command([]) ?? []) + [
                python, "\(root)/Tests/browser/\(script)", "--base", "http://127.0.0.1:\(box.port)", "--password",
                pageTestPassword, "--sync", sync,
            ] + arguments
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// What the scenario wrote on stderr so far (a failed step says "FAILED: step: detail").
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits until the scenario reaches checkpoint `name`; false (recorded) when it failed or timed out first.
    func reached(_ name: String, timeout: Double = 60) -> Bool {
        let ready = "\(sync)/\(name).ready"
        let ok = waitFor(timeout: timeout, interval: 0.1) {
            FileManager.default.fileExists(atPath: ready) || stderr.contains("FAILED") || stderr.contains("Traceback")
        }
        let there = ok && FileManager.default.fileExists(atPath: ready)
        #expect(there, "\(script) did not reach \(name): \(stderr.suffix(1500))")
        return there
    }

    /// Lets the scenario go on from checkpoint `name`.
    func go(_ name: String) { _ = FileManager.default.createFile(atPath: "\(sync)/\(name).go", contents: nil) }

    /// Waits for the scenario's end (killed after `timeout` s); its last stdout line as JSON (empty and
    /// recorded as a failure when it failed).
    func finish(timeout: Double = 120) -> [String: Any] {
        let (status, killed) = reap(process, killAfter: timeout)
        finished = true
        let out = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
        let last = out.split(separator: "\n").last.map(String.init) ?? ""
        let json = (try? JSONSerialization.jsonObject(with: Data(last.utf8))) as? [String: Any]
        #expect(
            status == 0 && json != nil,
            "\(script) exited \(status)\(killed ? " (killed)" : ""): \(stderr.suffix(1500)) \(out.suffix(300))")
        return json ?? [:]
    }

    /// A scenario the test left early is killed (its chromedriver and chromium end with the namespace).
    deinit {
        if !finished {
            kill(process.processIdentifier, SIGKILL)
            _ = reap(process, killAfter: 2)
        }
    }
}

/// Runs a scenario without checkpoints to its end: its JSON observations.
func browserScenario(
    _ script: String, box: APIBox, arguments: [String] = [], timeout: Double = 240
) throws -> [String: Any] {
    try BrowserRun(script, box: box, arguments: arguments).finish(timeout: timeout)
}

/// An output's (state, packets) from the status endpoint, with the box's bearer token.
func outputState(_ box: APIBox, _ id: String) -> (state: String?, packets: Int) {
    let s = try? box.json("GET", "/api/v1/status")
    let o = (s?["outputs"] as? [[String: Any]])?.first { $0["id"] as? String == id }
    return (o?["state"] as? String, o?["packets"] as? Int ?? 0)
}
