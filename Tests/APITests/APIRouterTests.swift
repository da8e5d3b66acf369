import API
import Box
import Config
import Foundation
import Hummingbird
import HummingbirdTesting
import RillTestSupport
import Testing

/// A box controller on a temp directory (no stage processes: the supervisor loop is not run), its
/// credentials with one token, and the router.
struct APIFixture {
    let dir: String
    let box: BoxController
    let token: String
    let app: Application<RouterResponder<RillRequestContext>>

    init(maxBody: Int = 4096) throws {
        dir = makeTemporaryDirectory("api")
        try FileManager.default.createDirectory(atPath: "\(dir)/conf.d", withIntermediateDirectories: true)
        try """
        { "system": { "instance": "apitest", "runDirectory": "\(dir)/run" },
          "program": { "serviceName": "API test" },
          "api": { "maxBodyBytes": \(maxBody), "credentials": "\(dir)/cred.json" } }
        """.write(toFile: "\(dir)/rill.json", atomically: true, encoding: .utf8)
        try """
        { "outputs": [ { "id": "mc", "url": "rtp://239.255.42.9:5000?ttl=1" }, { "id": "uni", "url": "udp://127.0.0.1:5010" } ] }
        """.write(toFile: "\(dir)/conf.d/50-outputs.json", atomically: true, encoding: .utf8)
        let store = try ConfigStore(mainFile: "\(dir)/rill.json", directory: "\(dir)/conf.d")
        box = try BoxController(store: store, executable: "/bin/false", runDirectory: "\(dir)/run")
        let credentials = try Credentials(path: "\(dir)/cred.json")
        token = try credentials.addToken(name: "tests")
        try credentials.setAdminPassword("correct horse")
        app = Application(router: RillAPI.router(box: box, credentials: credentials, metrics: BoxMetrics()))
    }

    var auth: HTTPFields { [.authorization: "Bearer \(token)"] }
}

func json(_ r: TestResponse) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(String(buffer: r.body).utf8))) as? [String: Any] ?? [:]
}

@Suite("API (Hummingbird test client)")
struct APIRouterTests {
    @Test("every endpoint but /health refuses a request without valid credentials")
    func authRequired() async throws {
        let f = try APIFixture()
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            for uri in ["/api/v1/status", "/api/v1/config", "/metrics", "/api/v1/devices", "/api/v1/outputs/mc/sdp"] {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status == .unauthorized, "\(uri)")
                    #expect(r.headers[.contentType] == "application/problem+json")
                    #expect(r.headers[.wwwAuthenticate]?.contains("Bearer") == true)
                }
                try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer rill_0000_bad"]) {
                    #expect($0.status == .unauthorized, "\(uri) with a wrong token")
                }
                try await client.execute(uri: uri, method: .get, headers: f.auth) {
                    #expect($0.status == .ok, "\(uri) with the token")
                }
            }
            let basic = "Basic " + Data("admin:correct horse".utf8).base64EncodedString()
            try await client.execute(uri: "/api/v1/status", method: .get, headers: [.authorization: basic]) {
                #expect($0.status == .ok)
            }
            let wrong = "Basic " + Data("admin:wrong".utf8).base64EncodedString()
            try await client.execute(uri: "/api/v1/status", method: .get, headers: [.authorization: wrong]) {
                #expect($0.status == .unauthorized)
            }
            // The levels: refused without credentials; with them, a box without a level monitor says why.
            for uri in ["/api/v1/levels", "/api/v1/levels?stream=1"] {
                try await client.execute(uri: uri, method: .get) { #expect($0.status == .unauthorized, "\(uri)") }
            }
            try await client.execute(uri: "/api/v1/levels", method: .get, headers: f.auth) { r in
                #expect(r.status == .serviceUnavailable)
                #expect(r.headers[.contentType] == "application/problem+json")
                #expect((json(r)["detail"] as? String)?.contains("no raw audio") == true, "\(json(r))")
            }
        }
    }

    @Test("an invalid section is refused with 422 naming the JSON path; nothing is written")
    func invalidSection() async throws {
        let f = try APIFixture()
        let before = try String(contentsOfFile: "\(f.dir)/conf.d/50-outputs.json", encoding: .utf8)
        try await f.app.test(.router) { client in
            let bad =
                #"[ { "id": "mc", "url": "rtp://239.255.42.9:5000" }, { "id": "x", "url": "rtp://127.0.0.1:70000" } ]"#
            try await client.execute(
                uri: "/api/v1/config/outputs", method: .put, headers: f.auth, body: ByteBuffer(string: bad)
            ) { r in
                #expect(r.status == .unprocessableContent)
                let p = json(r)
                #expect(p["path"] as? String == "outputs[1].url")
                #expect((p["detail"] as? String)?.contains("65535") == true)
            }
            try await client.execute(
                uri: "/api/v1/config/program", method: .patch, headers: f.auth,
                body: ByteBuffer(string: #"{"pcrInterval": 80}"#)
            ) { r in
                #expect(r.status == .unprocessableContent)
                #expect(json(r)["path"] as? String == "program.pcrInterval")
            }
            try await client.execute(uri: "/api/v1/config/nosuch", method: .get, headers: f.auth) {
                #expect($0.status == .notFound)
            }
        }
        #expect(try String(contentsOfFile: "\(f.dir)/conf.d/50-outputs.json", encoding: .utf8) == before)
        #expect(f.box.store.config.outputs.count == 2)
    }

    @Test("malformed JSON gets 400 with line and column; an oversized body gets 413")
    func malformedAndTooLarge() async throws {
        let f = try APIFixture(maxBody: 1024)
        try await f.app.test(.router) { client in
            try await client.execute(
                uri: "/api/v1/config/program", method: .put, headers: f.auth,
                body: ByteBuffer(string: "{\n  \"mode\": cbr\n}")
            ) { r in
                #expect(r.status == .badRequest)
                let p = json(r)
                #expect(p["line"] as? Int == 2)
                #expect(p["column"] as? Int == 11)
            }
            let big = "{\"serviceName\": \"" + String(repeating: "x", count: 4000) + "\"}"
            try await client.execute(
                uri: "/api/v1/config/program", method: .put, headers: f.auth, body: ByteBuffer(string: big)
            ) {
                #expect($0.status == .contentTooLarge)
            }
        }
    }

    @Test("a valid change is saved atomically into the section's own file and reported")
    func validChangeSaved() async throws {
        let f = try APIFixture()
        try await f.app.test(.router) { client in
            let body =
                #"[ { "id": "mc", "url": "rtp://239.255.42.9:5002?ttl=1" }, { "id": "uni", "url": "udp://127.0.0.1:5010" } ]"#
            try await client.execute(
                uri: "/api/v1/config/outputs", method: .put, headers: f.auth, body: ByteBuffer(string: body)
            ) { r in
                #expect(r.status == .ok)
                #expect(json(r)["changed"] as? [String] == ["outputs"])
            }
            try await client.execute(
                uri: "/api/v1/config", method: .patch, headers: f.auth,
                body: ByteBuffer(string: #"{"program": {"serviceName": "Renamed"}}"#)
            ) {
                #expect($0.status == .ok)
            }
        }
        let outputs = try String(contentsOfFile: "\(f.dir)/conf.d/50-outputs.json", encoding: .utf8)
        #expect(outputs.contains("5002") && !outputs.contains("serviceName"))
        let main = try String(contentsOfFile: "\(f.dir)/rill.json", encoding: .utf8)
        #expect(main.contains("Renamed") && !main.contains("5002"))
        // What was saved loads again as the same config.
        let reloaded = try ConfigStore(mainFile: "\(f.dir)/rill.json", directory: "\(f.dir)/conf.d")
        #expect(reloaded.config == f.box.store.config)
    }

    @Test("a read-only section file gets 409 naming the file, and is left unchanged")
    func readOnlySection() async throws {
        let f = try APIFixture()
        let file = "\(f.dir)/conf.d/50-outputs.json"
        chmod(file, 0o444)
        defer { chmod(file, 0o644) }
        let before = try String(contentsOfFile: file, encoding: .utf8)
        try await f.app.test(.router) { client in
            let body = #"[ { "id": "mc", "url": "rtp://239.255.42.9:5004" } ]"#
            try await client.execute(
                uri: "/api/v1/config/outputs", method: .put, headers: f.auth, body: ByteBuffer(string: body)
            ) { r in
                #expect(r.status == .conflict)
                #expect(json(r)["file"] as? String == file)
            }
            // Other sections stay writable.
            try await client.execute(
                uri: "/api/v1/config/program", method: .patch, headers: f.auth,
                body: ByteBuffer(string: #"{"psiInterval": 50}"#)
            ) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/api/v1/config/files", method: .get, headers: f.auth) { r in
                let files =
                    (try? JSONSerialization.jsonObject(with: Data(String(buffer: r.body).utf8))) as? [[String: Any]]
                    ?? []
                #expect(files.first { $0["section"] as? String == "outputs" }?["writable"] as? Bool == false)
            }
        }
        #expect(try String(contentsOfFile: file, encoding: .utf8) == before)
    }

    @Test("the SDP of an rtp output is served as application/sdp; other outputs get 404")
    func sdp() async throws {
        let f = try APIFixture()
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/v1/outputs/mc/sdp", method: .get, headers: f.auth) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "application/sdp")
                let text = String(buffer: r.body)
                #expect(
                    text.contains("c=IN IP4 239.255.42.9/1") && text.contains("m=video 5000 RTP/AVP 33")
                        && text.contains("s=API test"))
            }
            try await client.execute(uri: "/api/v1/outputs/uni/sdp", method: .get, headers: f.auth) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/api/v1/outputs/nope/start", method: .post, headers: f.auth) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/api/v1/outputs/mc/stop", method: .post, headers: f.auth) {
                #expect($0.status == .accepted)
            }
        }
    }

    @Test("/metrics is valid Prometheus text")
    func metricsFormat() async throws {
        let f = try APIFixture()
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get, headers: f.auth) { r in
                #expect(r.status == .ok)
                let samples = try parsePrometheusText(String(buffer: r.body))
                #expect(samples.contains { $0.name == "rill_up" && $0.value == 1 })
                #expect(samples.contains { $0.name == "rill_output_up" && $0.labels["output"] == "mc" })
            }
        }
    }
}
