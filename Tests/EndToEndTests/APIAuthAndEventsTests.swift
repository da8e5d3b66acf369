import Foundation
import RillTestSupport
import Testing

/// The API's Server-Sent Events stream read by a plain HTTP client (curl -N), `api.authOnLocalhost`
/// and a token made by `rill token add`. Each box runs in a network namespace of its own.
@Suite("API: SSE, authOnLocalhost, rill token", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct APIAuthAndEventsTests {
    static let apiPort = 18_210
    static let srtPort = 9000
    /// A second address on the namespace's loopback: a peer that is not 127.0.0.0/8.
    static let otherAddress = "10.77.0.1"

    /// `rill token add NAME` on a fresh credentials file; returns the file and the token.
    func addToken(_ name: String) throws -> (credentials: String, token: String) {
        let credentials = makeTemporaryDirectory("api-cred") + "/credentials.json"
        let r = try runProcess([rillBinary(), "token", "add", name, "--credentials", credentials], timeout: 30)
        let token = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard r.status == 0, token.hasPrefix("rill_") else {
            throw TestEnvironmentError("rill token add: \(r.status) \(r.stdout) \(r.stderr)")
        }
        return (credentials, token)
    }

    func box(
        _ ns: NetworkNamespace, label: String, credentials: String, api extra: String, outputs: String = ""
    ) throws -> BoxUnderTest {
        let dir = makeTemporaryDirectory(label)
        let config = testConfig(
            instance: ns.name, width: 320, height: 180, fps: 25, videoBitrate: 500_000, keyint: 25, outputs: outputs,
            runDirectory: "\(dir)/run",
            api: "\"port\": \(Self.apiPort), \"credentials\": \"\(credentials)\"\(extra)")
        let b = try BoxUnderTest(config: config, namespace: ns, label: label)
        guard waitFor(timeout: 20, { portListening(Self.apiPort, .tcp, in: ns) }) else {
            b.stop()
            throw TestEnvironmentError("the API did not listen: \(b.log.suffix(800))")
        }
        return b
    }

    /// The HTTP status of GET `path` from inside `ns`, to `host`, with `token` as bearer (none if nil).
    func status(_ ns: NetworkNamespace, _ path: String, host: String = "127.0.0.1", token: String?) throws -> Int {
        var args = ["curl", "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}"]
        if host != "127.0.0.1" { args += ["--interface", host] }
        if let token { args += ["-H", "Authorization: Bearer \(token)"] }
        args.append("http://\(host):\(Self.apiPort)\(path)")
        return Int(try ns.run(args, timeout: 15).stdout) ?? 0
    }

    @Test(
        "rill token add: its token opens the API, a tampered one does not; authOnLocalhost true or unset asks localhost for it, false lets 127.0.0.1 in without and still asks any other address"
    )
    func tokenAndLocalhost() throws {
        let (credentials, token) = try addToken("script")
        var tampered = token
        tampered.removeLast()
        tampered.append(token.last == "A" ? "B" : "A")
        let ns = try NetworkNamespace("apiauth")
        defer { ns.close() }
        #expect(try ns.run(["ip", "addr", "add", "\(Self.otherAddress)/32", "dev", "lo"]).status == 0)

        for (setting, extra) in [("unset", ""), ("true", ", \"authOnLocalhost\": true")] {
            let b = try box(ns, label: "apiauth-\(setting)", credentials: credentials, api: extra)
            #expect(try status(ns, "/health", token: nil) == 200)
            #expect(try status(ns, "/api/v1/status", token: nil) == 401, "authOnLocalhost \(setting), no token")
            #expect(try status(ns, "/api/v1/status", token: token) == 200, "authOnLocalhost \(setting), the token")
            #expect(try status(ns, "/api/v1/status", token: tampered) == 401, "authOnLocalhost \(setting), tampered")
            b.stop()
        }
        // A credentials file with a token means no first-run token is made beside it.
        let firstRun = URL(fileURLWithPath: credentials).deletingLastPathComponent().appendingPathComponent("token")
        #expect(!FileManager.default.fileExists(atPath: firstRun.path))

        let open = try box(
            ns, label: "apiauth-false", credentials: credentials,
            api: ", \"authOnLocalhost\": false, \"address\": \"0.0.0.0\"")
        defer { open.stop() }
        #expect(try status(ns, "/api/v1/status", token: nil) == 200, "authOnLocalhost false, 127.0.0.1")
        #expect(try status(ns, "/metrics", token: nil) == 200, "authOnLocalhost false, 127.0.0.1, /metrics")
        #expect(
            try status(ns, "/api/v1/status", host: Self.otherAddress, token: nil) == 401,
            "authOnLocalhost false, \(Self.otherAddress) without a token")
        #expect(try status(ns, "/api/v1/status", host: Self.otherAddress, token: token) == 200)
    }

    @Test(
        "GET /api/v1/events with curl -N: OUTPUT_CONNECT and OUTPUT_DISCONNECT of a srt-live-transmit client arrive as event:/data: with the peer and stream id; without the token 401"
    )
    func eventStream() throws {
        let (credentials, token) = try addToken("sse")
        let ns = try NetworkNamespace("apisse")
        defer { ns.close() }
        let b = try box(
            ns, label: "apisse", credentials: credentials, api: "",
            outputs: #"{ "id": "srt", "url": "srt://:\#(Self.srtPort)" }"#)
        defer { b.stop() }
        #expect(try status(ns, "/api/v1/events", token: nil) == 401)
        let stream = try PeerProcess(
            ns.command([
                "curl", "-s", "-N", "-H", "Authorization: Bearer \(token)",
                "http://127.0.0.1:\(Self.apiPort)/api/v1/events",
            ]), output: "\(b.directory)/events.txt")
        defer { stream.stop(SIGKILL) }
        func text() -> String { (try? String(contentsOfFile: stream.output, encoding: .utf8)) ?? "" }
        #expect(waitFor(timeout: 10) { text().hasPrefix(": rill events") }, "no stream: \(text().prefix(300))")
        #expect(waitFor(timeout: 20) { b.log.contains("listening on") }, "\(b.log.suffix(800))")

        let client = try PeerProcess(
            ns.command([
                "srt-live-transmit", "-q", "srt://127.0.0.1:\(Self.srtPort)?port=9501&streamid=sse-probe", "file://con",
            ]), output: "\(b.directory)/client.ts")
        defer { client.stop(SIGKILL) }
        /// The JSON of the first `data:` line after `event: KIND`.
        func event(_ kind: String) -> [String: Any]? {
            let lines = text().components(separatedBy: "\n")
            guard let i = lines.firstIndex(of: "event: \(kind)"), i + 1 < lines.count, lines[i + 1].hasPrefix("data: ")
            else { return nil }
            return try? JSONSerialization.jsonObject(with: Data(lines[i + 1].dropFirst(6).utf8)) as? [String: Any]
        }
        #expect(waitFor(timeout: 10) { event("OUTPUT_CONNECT") != nil }, "\(text().suffix(800))")
        let connect = try #require(event("OUTPUT_CONNECT"))
        let payload = connect["payload"] as? [String: Any] ?? [:]
        #expect(connect["event"] as? String == "OUTPUT_CONNECT" && connect["output"] as? String == "srt", "\(connect)")
        #expect(payload["peer"] as? String == "127.0.0.1:9501", "\(connect)")
        #expect(payload["streamid"] as? String == "sse-probe", "\(connect)")
        client.stop()
        #expect(waitFor(timeout: 10) { event("OUTPUT_DISCONNECT") != nil }, "\(text().suffix(800))")
        let disconnect = try #require(event("OUTPUT_DISCONNECT"))
        #expect((disconnect["payload"] as? [String: Any])?["peer"] as? String == "127.0.0.1:9501", "\(disconnect)")
        #expect(stream.process.isRunning, "the event stream ended")
    }
}
