import Foundation
import RillTestSupport
import Testing

/// A running box driven with curl over its HTTP API.
final class APIBox: @unchecked Sendable {
    let box: BoxUnderTest
    let port: Int
    let namespace: NetworkNamespace?
    /// The file holding the bearer token: the first-run token, or with `adminPassword` a token "tests".
    private var tokenFile = ""
    var token: String {
        ((try? String(contentsOfFile: tokenFile, encoding: .utf8)) ?? "").trimmingCharacters(
            in: .whitespacesAndNewlines)
    }

    /// `adminPassword`: set with `rill passwd` (and a bearer token added) before the box starts.
    init(
        label: String, port: Int, outputs: String, events: String = "", namespace: NetworkNamespace? = nil,
        source: String? = nil, adminPassword: String? = nil
    ) throws {
        let dir = makeTemporaryDirectory("api-\(label)")
        self.port = port
        self.namespace = namespace
        var credentials = "__DIR__/credentials.json"
        if let adminPassword {
            credentials = "\(dir)/credentials.json"
            let set = try runProcess([rillBinary(), "passwd", "--credentials", credentials], stdin: adminPassword)
            let add = try runProcess([rillBinary(), "token", "add", "tests", "--credentials", credentials])
            guard set.status == 0, add.status == 0 else {
                throw TestEnvironmentError("rill passwd/token: \(set) \(add)")
            }
            try add.stdout.write(toFile: "\(dir)/token", atomically: true, encoding: .utf8)
        }
        let config = testConfig(
            instance: "api-\(label)-\(UUID().uuidString.prefix(4))", width: 640, height: 360, fps: 25,
            videoBitrate: 1_000_000, keyint: 25,
            outputs: outputs, runDirectory: "\(dir)/run",
            api: "\"port\": \(port), \"credentials\": \"\(credentials)\"", events: events, source: source)
        box = try BoxUnderTest(config: config, namespace: namespace, label: "api-\(label)", substitutingDirectory: true)
        tokenFile = (adminPassword == nil ? box.directory : dir) + "/token"
    }

    /// curl `method path` with the first-run token (or none); returns status and body.
    func curl(_ method: String, _ path: String, body: String? = nil, auth: Bool = true) throws -> (
        status: Int, body: String
    ) {
        var args = ["curl", "-s", "-m", "10", "-X", method, "-w", "\n%{http_code}"]
        if auth { args += ["-H", "Authorization: Bearer \(token)"] }
        if body != nil { args += ["-H", "Content-Type: application/json", "--data-binary", "@-"] }
        args.append("http://127.0.0.1:\(port)\(path)")
        let r = try runProcess((namespace?.command([]) ?? []) + args, timeout: 15, stdin: body)
        let text = r.stdout
        let cut = text.lastIndex(of: "\n") ?? text.startIndex
        return (Int(text[text.index(after: cut)...]) ?? 0, String(text[..<cut]))
    }

    func json(_ method: String, _ path: String, body: String? = nil) throws -> [String: Any] {
        let r = try curl(method, path, body: body)
        return (try? JSONSerialization.jsonObject(with: Data(r.body.utf8))) as? [String: Any] ?? [:]
    }

    /// Whether the API answers `GET /api/v1/status` with 200 within `timeout` seconds (the box is up).
    func answers(within timeout: Double) -> Bool {
        waitFor(timeout: timeout) { (try? curl("GET", "/api/v1/status").status) == 200 }
    }

    /// An output's packet counter from the status endpoint.
    func packets(_ id: String) -> Int {
        let s = try? json("GET", "/api/v1/status")
        return ((s?["outputs"] as? [[String: Any]])?.first { $0["id"] as? String == id }?["packets"] as? Int) ?? 0
    }

    func stagePID(_ name: String) -> Int32? {
        let s = try? json("GET", "/api/v1/status")
        return ((s?["stages"] as? [[String: Any]])?.first { $0["name"] as? String == name }?["pid"] as? Int).map(
            Int32.init)
    }

    /// A stage's state ("running", "stopped", …) from the status endpoint.
    func stageState(_ name: String) -> String? {
        let s = try? json("GET", "/api/v1/status")
        return (s?["stages"] as? [[String: Any]])?.first { $0["name"] as? String == name }?["state"] as? String
    }
}

/// An event handler that appends `== EVENT` and the payload to a log: (its path, the log's path).
func makeEventRecorder(in dir: String) throws -> (script: String, log: String) {
    let log = "\(dir)/events.log"
    let script = "\(dir)/record.sh"
    try "#!/bin/sh\n{ echo \"== $1\"; cat; } >> \(log)\n".write(toFile: script, atomically: true, encoding: .utf8)
    chmod(script, 0o755)
    return (script, log)
}

/// Each test's box runs in a network namespace of its own: its API and output ports collide with
/// nothing on the host or in a parallel test.
@Suite("Box API (curl against a running box)", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct BoxAPITests {
    @Test(
        "auth, 422 leaves the box running, hot apply moves one output while the other loses 0 packets, kill -9 of a stage"
    )
    func hotApply() async throws {
        let ns = try NetworkNamespace("hot")
        defer { ns.close() }
        let a = #"{ "id": "a", "url": "rtp://127.0.0.1:5100" }"#
        let b = #"{ "id": "b", "url": "rtp://127.0.0.1:5102" }"#
        let box = try APIBox(label: "hot", port: 18101, outputs: "\(a), \(b)", namespace: ns)
        defer { box.box.stop() }
        #expect(
            waitFor(timeout: 20) { box.packets("a") > 1000 && box.packets("b") > 1000 }, "\(box.box.log.suffix(1500))")
        #expect(try box.curl("GET", "/api/v1/status", auth: false).status == 401)
        #expect(try box.curl("GET", "/health", auth: false).status == 200)

        // tshark watches output a for 10 s while b is changed, rejected, moved and killed.
        let dir = box.box.directory
        let capture = Task.detached {
            try tsharkCapture(port: 5100, seconds: 10, prefix: ns.command([]), directory: dir)
        }
        let pcap = "\(dir)/capture-5100.pcap"
        #expect(
            waitFor(timeout: 10) { fileSize(pcap) > 20_000 },
            "tshark did not start capturing")
        let encoderPID = box.stagePID("encode-video")
        let bBefore = box.stagePID("send-b")
        let bad = try box.curl(
            "PUT", "/api/v1/config/outputs",
            body: "[\(a), { \"id\": \"b\", \"url\": \"rtp://127.0.0.1:5102?ttl=999\" }]")
        #expect(bad.status == 422 && bad.body.contains("outputs[1].url"), "\(bad)")
        let moved = try box.curl(
            "PUT", "/api/v1/config/outputs", body: "[\(a), { \"id\": \"b\", \"url\": \"rtp://127.0.0.1:5104\" }]")
        #expect(moved.status == 200 && moved.body.contains("\"send-b\"") && !moved.body.contains("send-a"), "\(moved)")
        // The moved send-b is up (a new process, running) before it is killed.
        #expect(
            waitFor(timeout: 5) {
                box.stagePID("send-b").map { $0 != bBefore && $0 > 0 } ?? false && box.stageState("send-b") == "running"
            }, "send-b did not restart with its new URL")
        let bPID = try #require(box.stagePID("send-b"))
        kill(bPID, SIGKILL)
        #expect(
            waitFor(timeout: 3) { box.stagePID("send-b").map { $0 != bPID && $0 > 0 } ?? false }, "send-b not restarted"
        )
        let wire = try await capture.value

        let seqs = wire.datagrams.compactMap(\.rtpSequence)
        let gaps = zip(seqs, seqs.dropFirst()).filter { ($1 - $0 + 65536) % 65536 != 1 }
        #expect(seqs.count > 800, "\(seqs.count) datagrams of output a")
        #expect(gaps.isEmpty, "output a lost packets: \(gaps.prefix(5))")
        #expect(wire.continuityErrors == 0 && wire.tsharkCCDrops == 0)
        #expect(box.stagePID("encode-video") == encoderPID, "the encoder was restarted by an output change")
        // b moved: its new port carries the stream.
        let movedWire = try tsharkCapture(port: 5104, seconds: 2, prefix: ns.command([]), directory: dir)
        #expect(movedWire.datagrams.count > 100)
        let status = try box.json("GET", "/api/v1/status")
        let sendB = (status["stages"] as? [[String: Any]])?.first { $0["name"] as? String == "send-b" }
        #expect(
            sendB?["restarts"] as? Int == 1 && sendB?["state"] as? String == "running", "\(String(describing: sendB))")
    }

    @Test(
        "power loss: kill -9 of the box during config saves, after hundreds completed, leaves the last saved config or the one in flight, never a broken one"
    )
    func powerLoss() throws {
        for round in 0..<3 {
            let ns = try NetworkNamespace("pl\(round)")
            defer { ns.close() }
            let box = try APIBox(
                label: "pl\(round)", port: 18110, outputs: #"{ "id": "a", "url": "udp://127.0.0.1:5120" }"#,
                namespace: ns)
            defer { box.box.stop() }
            #expect(box.answers(within: 15))
            // Save i names the service "Name i"; each save's HTTP status is logged as "i status"
            // once its answer is in. The saver never stops on its own: it ends when the box dies.
            let progress = makeTemporaryDirectory("pl\(round)") + "/saves"
            let script = """
                i=0
                while true; do
                  i=$((i + 1))
                  code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 -X PATCH -H "Authorization: Bearer \(box.token)" --data-binary "{\\"program\\": {\\"serviceName\\": \\"Name $i\\"}}" http://127.0.0.1:\(box.port)/api/v1/config) || exit 0
                  echo "$i $code" >> \(progress)
                done
                """
            let saver = Process()
            saver.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            saver.arguments = ns.command(["/bin/sh", "-c", script])
            try saver.run()
            func saves() -> [(index: Int, status: Int)] {
                ((try? String(contentsOfFile: progress, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                    let f = $0.split(separator: " ")
                    guard f.count == 2, let i = Int(f[0]), let c = Int(f[1]) else { return nil }
                    return (i, c)
                }
            }
            // Kill at a random point after hundreds of completed saves, while the saver is mid-save.
            let target = Int.random(in: 200...600)
            let reached = waitFor(timeout: 120) { saves().count >= target }
            #expect(reached, "round \(round): only \(saves().count) saves completed in 120 s")
            let savingAtKill = saver.isRunning
            kill(box.box.process.processIdentifier, SIGKILL)
            _ = reap(saver, killAfter: 10)
            _ = box.box.stop()
            #expect(savingAtKill, "round \(round): the saver had stopped before the kill")
            let done = saves()
            let completed = done.filter { $0.status == 200 }
            // Every save before the kill succeeded, in order: 1…c.
            #expect(completed.count >= 200, "round \(round): \(completed.count) completed saves")
            #expect(
                done.map(\.index) == (0..<done.count).map { $0 + 1 } && completed.count == done.count,
                "round \(round): a save failed before the kill: \(done.filter { $0.status != 200 }.prefix(5))")
            let last = completed.last?.index ?? 0
            let text = try String(contentsOfFile: box.box.configPath, encoding: .utf8)
            let doc = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            let name = (doc?["program"] as? [String: Any])?["serviceName"] as? String
            // The last acknowledged save, or the next one that was being written when the box died.
            #expect(
                ["Name \(last)", "Name \(last + 1)"].contains(name),
                "round \(round): last saved \(last), file: \(text.prefix(400))")
            let check = try runProcess([rillBinary(), "check", "--config", box.box.configPath], timeout: 10)
            #expect(check.status == 0, "\(check.stderr)")
        }
    }

    @Test(
        "event handlers: OUTPUT_START/END payloads; a blocking SRT_ACCEPT handler refuses a wrong token and accepts a right one"
    )
    func events() throws {
        let dir = makeTemporaryDirectory("events")
        let (recorder, log) = try makeEventRecorder(in: dir)
        // The seed's PUSH_REWRITE token example: the stream id is a token, the answer names the stream.
        let accept = "\(dir)/accept.sh"
        try """
        #!/bin/sh
        read output; read peer; read streamid
        if [ "$streamid" = "token-0042" ]; then echo "accept studio-a"; else echo "reject unknown token"; fi
        """.write(toFile: accept, atomically: true, encoding: .utf8)
        chmod(accept, 0o755)
        let events = """
            { "on": ["OUTPUT_START", "OUTPUT_END", "OUTPUT_CONNECT"], "handler": "\(recorder)" },
            { "on": ["SRT_ACCEPT"], "handler": "\(accept)", "outputs": ["srt"], "timeout": 2000 }
            """
        let ns = try NetworkNamespace("ev")
        defer { ns.close() }
        let box = try APIBox(
            label: "ev", port: 18120, outputs: #"{ "id": "srt", "url": "srt://:9210?latency=120" }"#, events: events,
            namespace: ns)
        defer { box.box.stop() }
        #expect(waitFor(timeout: 15) { box.box.log.contains("listening on *:9210") })
        let wrong = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "srt://127.0.0.1:9210?streamid=token-9999", "file://con"]),
            output: dir + "/wrong.ts")
        let right = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "srt://127.0.0.1:9210?streamid=token-0042", "file://con"]),
            output: dir + "/right.ts")
        #expect(
            waitFor(timeout: 10) { box.box.log.contains("SRT_ACCEPT: unknown token") }, "\(box.box.log.suffix(800))")
        #expect(waitFor(timeout: 10) { right.bytes > 50_000 }, "the right token got \(right.bytes) bytes")
        wrong.stop()
        right.stop()
        #expect(wrong.bytes == 0, "a wrong token got \(wrong.bytes) bytes")
        #expect(right.bytes > 50_000, "the right token got \(right.bytes) bytes")
        #expect(box.box.log.contains("SRT_ACCEPT: unknown token"))
        #expect(try box.curl("POST", "/api/v1/outputs/srt/stop").status == 202)
        #expect(
            waitFor(timeout: 5) {
                ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("stopped through the API")
            })
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("== OUTPUT_START\nsrt\nsrt://:9210?latency=120\n"), "\(text)")
        #expect(text.contains("== OUTPUT_CONNECT\nsrt\n127.0.0.1:"), "\(text)")
        #expect(text.contains("\nstudio-a\n"), "the connection was not named by the handler: \(text)")
        #expect(text.contains("== OUTPUT_END\nsrt\nsrt://:9210?latency=120\nstopped through the API\n"), "\(text)")
    }

    @Test("/metrics parses strictly and its counters move with traffic")
    func metrics() throws {
        let ns = try NetworkNamespace("met")
        defer { ns.close() }
        let box = try APIBox(
            label: "met", port: 18130, outputs: #"{ "id": "m", "url": "rtp://127.0.0.1:5130" }"#, namespace: ns)
        defer { box.box.stop() }
        #expect(waitFor(timeout: 15) { box.packets("m") > 100 })
        func sample(_ text: String, _ name: String) throws -> Double {
            try parsePrometheusText(text).first { $0.name == name && $0.labels["output"] == "m" }?.value ?? -1
        }
        let first = try box.curl("GET", "/metrics")
        #expect(first.status == 200)
        let p1 = try sample(first.body, "rill_output_packets_sent_total")
        var second = ""
        var p2 = p1
        #expect(
            waitFor(timeout: 10, interval: 0.5) {
                second = (try? box.curl("GET", "/metrics").body) ?? ""
                p2 = (try? sample(second, "rill_output_packets_sent_total")) ?? -1
                return p2 > p1 + 500
            })
        #expect(p1 > 0 && p2 > p1 + 500, "\(p1) → \(p2)")
        #expect(try sample(second, "rill_output_bytes_sent_total") > 0)
        let samples = try parsePrometheusText(second)
        let count =
            samples.first { $0.name == "rill_capture_to_wire_latency_seconds_count" && $0.labels["output"] == "m" }?
            .value ?? 0
        #expect(count > 100, "capture→wire histogram count \(count)")
        #expect(samples.contains { $0.name == "rill_stage_up" && $0.labels["stage"] == "mux" && $0.value == 1 })
        // And rill ctl reads the same API.
        let ctl = try runProcess(
            ns.command([
                rillBinary(), "ctl", "status", "--api", "http://127.0.0.1:18130", "--token-file",
                box.box.directory + "/token",
            ]), timeout: 10)
        #expect(
            ctl.status == 0 && ctl.stdout.contains("send-m") && ctl.stdout.contains("running"),
            "\(ctl.stdout) \(ctl.stderr)")
    }
}
