import Foundation
import RillTestSupport
import Testing

/// A `rill ring write|read` process whose JSON-line output is collected.
final class RingProcess: @unchecked Sendable {
    let process = Process()
    let path: String

    init(_ arguments: [String]) throws {
        path = makeTemporaryDirectory("ring") + "/out.jsonl"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let out = FileHandle(forWritingAtPath: path)!
        process.executableURL = URL(fileURLWithPath: rillBinary())
        process.arguments = ["ring"] + arguments
        process.standardOutput = out
        process.standardError = out
        try process.run()
    }

    var events: [[String: Any]] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    func events(_ kind: String) -> [[String: Any]] { events.filter { $0["event"] as? String == kind } }
    var summary: [String: Any]? { events("summary").last }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func wait(timeout: Double) -> Bool {
        let ok = waitFor(timeout: timeout) { !process.isRunning }
        if !ok { kill9() }
        return ok
    }
}

func ringName(_ label: String) -> String { "/rill.test-\(label)-\(UUID().uuidString.prefix(6))" }

@Suite("Ring across processes", .serialized)
struct RingProcessTests {
    @Test("several readers get every record in order; kill -9 of one disturbs neither writer nor the others")
    func readersAndKilledReader() throws {
        let name = ringName("readers")
        defer { unlink("/dev/shm" + name) }
        let writer = try RingProcess(["write", "--name", name, "--records", "3000", "--rate", "1000", "--slots", "256"])
        #expect(waitFor(timeout: 5) { !writer.events("ready").isEmpty })
        let readers = try (0..<3).map { _ in
            try RingProcess([
                "read", "--name", name, "--records", "2000", "--quiet", "true", "--seconds", "20", "--start", "next",
            ])
        }
        #expect(waitFor(timeout: 5) { readers.allSatisfy { !$0.events("ready").isEmpty } })
        Thread.sleep(forTimeInterval: 0.5)
        readers[0].kill9()
        #expect(writer.wait(timeout: 15))
        #expect(writer.events("done").first?["written"] as? Int == 3000)
        for r in readers.dropFirst() {
            #expect(r.wait(timeout: 15))
            let s = try #require(r.summary)
            #expect(s["records"] as? Int == 2000)
            #expect(s["lost"] as? Int == 0)
            #expect(s["outOfOrder"] as? Int == 0)
        }
    }

    @Test("kill -9 of the writer is seen within 500 ms; a restarted writer is followed")
    func writerDeathAndRestart() throws {
        let name = ringName("writer")
        defer { unlink("/dev/shm" + name) }
        let first = try RingProcess(["write", "--name", name, "--records", "0", "--rate", "500"])
        #expect(waitFor(timeout: 5) { !first.events("ready").isEmpty })
        let reader = try RingProcess(["read", "--name", name, "--seconds", "8", "--quiet", "true", "--start", "next"])
        #expect(waitFor(timeout: 5) { !reader.events("ready").isEmpty })
        Thread.sleep(forTimeInterval: 0.5)
        let killedAt = Date()
        first.kill9()
        #expect(waitFor(timeout: 2) { !reader.events("writerGone").isEmpty })
        let seenAfter = Date().timeIntervalSince(killedAt)
        let gone = try #require(reader.events("writerGone").first)
        #expect((gone["msSinceLastRecord"] as? Int ?? 9999) <= 500, "writer death seen \(gone) after the last record")
        #expect(seenAfter <= 1.0)
        let second = try RingProcess([
            "write", "--name", name, "--records", "200", "--rate", "500", "--first", "100000",
        ])
        #expect(second.wait(timeout: 10))
        #expect(waitFor(timeout: 3) { !reader.events("writerRestarted").isEmpty })
        #expect(reader.wait(timeout: 12))
        let s = try #require(reader.summary)
        #expect((s["records"] as? Int ?? 0) >= 200 + 200)  // ≥ 0.4 s of the first writer + all of the second
        #expect(s["outOfOrder"] as? Int == 0)
    }

    @Test("a slow reader is told how many records it lost")
    func slowReader() throws {
        let name = ringName("slow")
        defer { unlink("/dev/shm" + name) }
        let writer = try RingProcess(["write", "--name", name, "--records", "2000", "--rate", "2000", "--slots", "32"])
        #expect(waitFor(timeout: 5) { !writer.events("ready").isEmpty })
        let reader = try RingProcess([
            "read", "--name", name, "--slow-ms", "5", "--seconds", "6", "--quiet", "true", "--start", "next",
        ])
        #expect(writer.wait(timeout: 10))
        #expect(reader.wait(timeout: 10))
        let s = try #require(reader.summary)
        let lost = s["lost"] as? Int ?? 0
        let got = s["records"] as? Int ?? 0
        #expect(lost > 0)
        #expect(!reader.events("lost").isEmpty)
        let first = s["first"] as? Int ?? -1
        #expect(first >= 0)
        // Every record from the first one the reader saw is either read or reported lost.
        #expect(got + lost == 2000 - first, "first \(first), records \(got), lost \(lost)")
    }

    @Test(
        "a foreign or corrupt shm object gets a clear error, not a crash", arguments: ["garbage", "truncated-header"])
    func foreignObject(kind: String) throws {
        let name = ringName("foreign")
        let path = "/dev/shm" + name
        defer { unlink(path) }
        switch kind {
        case "garbage":
            try Data(repeating: 0x5A, count: 100_000).write(to: URL(fileURLWithPath: path))
        default:
            // A real ring's first bytes, cut short.
            let w = try RingProcess(["write", "--name", name, "--records", "1", "--rate", "0"])
            #expect(w.wait(timeout: 10))
            let h = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            try h.truncate(atOffset: 8192)
            try h.close()
        }
        let r = try runProcess([rillBinary(), "ring", "read", "--name", name, "--seconds", "1"], timeout: 10)
        #expect(r.status == 3)
        #expect(r.stdout.contains("not a Rill ring"), "\(r.stdout)")
    }
}
