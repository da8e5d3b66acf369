import API
import Box
import Config
import Foundation
import Hummingbird
import HummingbirdTesting
import RillTestSupport
import Runtime
import Testing

/// rilld's HTTP server as `rill run` builds it, and its first-run token policy.
@Suite("API server and first-run credentials")
struct APIServerTests {
    static let log = Log(stage: "test")

    /// The permission bits of `path`.
    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? Int ?? -1) & 0o777
    }

    @Test(
        "first run: one \"first-run\" token, written 0600 to `token` beside the credentials; the next start adds none")
    func firstRunToken() throws {
        let dir = makeTemporaryDirectory("first-run")
        try FileManager.default.createDirectory(atPath: "\(dir)/etc", withIntermediateDirectories: true)
        var api = APISection()
        api.credentials = "\(dir)/etc/credentials.json"
        let (c, tokenFile) = try Credentials.openForBox(api, instanceDirectory: "\(dir)/run", log: Self.log)
        #expect(tokenFile == "\(dir)/etc/token")
        #expect(c.path == api.credentials)
        let text = try String(contentsOfFile: "\(dir)/etc/token", encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        let token = String(text.dropLast())
        #expect(c.verifyToken(token), "the written token must be one the API accepts")
        #expect(c.tokenNames == ["first-run"])
        #expect(try Self.mode("\(dir)/etc/token") == 0o600)

        let (again, secondFile) = try Credentials.openForBox(api, instanceDirectory: "\(dir)/run", log: Self.log)
        #expect(secondFile == nil)
        #expect(again.tokenNames == ["first-run"])
        #expect(again.verifyToken(token))
        #expect(try String(contentsOfFile: "\(dir)/etc/token", encoding: .utf8) == text)
    }

    @Test("credentials that already hold an admin password get no token")
    func adminOnly() throws {
        let dir = makeTemporaryDirectory("admin-only")
        var api = APISection()
        api.credentials = "\(dir)/credentials.json"
        try Credentials(path: api.credentials).setAdminPassword("correct horse")
        let (c, tokenFile) = try Credentials.openForBox(api, instanceDirectory: dir, log: Self.log)
        #expect(tokenFile == nil)
        #expect(c.tokenNames.isEmpty)
        #expect(c.verifyAdmin("correct horse"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/token"))
    }

    @Test("a credentials file that does not exist and cannot be created moves to the instance directory")
    func unwritableFallsBack() throws {
        let dir = makeTemporaryDirectory("cred-fallback")
        try "a regular file".write(toFile: "\(dir)/etc", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: "\(dir)/run/box", withIntermediateDirectories: true)
        var api = APISection()
        api.credentials = "\(dir)/etc/rill/credentials.json"  // below a regular file: not creatable, even by root
        let (c, tokenFile) = try Credentials.openForBox(api, instanceDirectory: "\(dir)/run/box", log: Self.log)
        #expect(c.path == "\(dir)/run/box/credentials.json")
        #expect(tokenFile == "\(dir)/run/box/token")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/run/box/credentials.json"))
    }

    @Test("the application serves the router on the configured address with Server: rill/<version>")
    func application() async throws {
        let f = try APIFixture()
        var api = f.box.store.config.api
        api.address = "127.0.0.1"
        api.port = 0  // the kernel's choice
        let credentials = try Credentials(path: "\(f.dir)/cred.json")
        let app = try RillAPI.application(
            box: f.box, credentials: credentials, metrics: BoxMetrics(), api: api, log: Self.log)
        #expect(RillAPI.serverName == "rill/\(BoxController.version)")
        try await app.test(.live) { client in
            try await client.execute(uri: "/health", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.server] == RillAPI.serverName)
            }
            try await client.execute(uri: "/api/v1/status", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/api/v1/status", method: .get, headers: f.auth) {
                #expect($0.status == .ok)
            }
        }
    }
}
