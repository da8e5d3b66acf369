import API
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The page's login, CSRF and origin checks through the router (Hummingbird's test client).
@Suite("Page login, CSRF and origin (Hummingbird test client)")
struct SessionRouteTests {
    static let csrfHeader = HTTPFields.Element.Name("X-CSRF-Token")!

    /// Logs in; returns the `Cookie` header value and the CSRF token.
    static func login(_ client: some TestClientProtocol, password: String = "correct horse") async throws -> (
        cookie: String, csrf: String
    ) {
        try await client.execute(
            uri: "/api/v1/session", method: .post, headers: [.contentType: "application/json"],
            body: ByteBuffer(string: #"{"password":"\#(password)"}"#)
        ) { r in
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            let setCookie = try #require(r.headers[.setCookie])
            let csrf = try #require(json(r)["csrf"] as? String)
            return (String(setCookie.prefix { $0 != ";" }), csrf)
        }
    }

    @Test("login: a wrong password is 401 naming the field; the right one sets an HttpOnly SameSite=Strict cookie")
    func loginCookie() async throws {
        let f = try APIFixture()
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/v1/session", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(
                uri: "/api/v1/session", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"password":"wrong"}"#)
            ) { r in
                #expect(r.status == .unauthorized)
                #expect(r.headers[.setCookie] == nil)
                #expect(json(r)["path"] as? String == "password")
            }
            try await client.execute(
                uri: "/api/v1/session", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"pass":"x"}"#)
            ) { r in
                #expect(r.status == .unprocessableContent)
                #expect(json(r)["path"] as? String == "password")
            }
            try await client.execute(
                uri: "/api/v1/session", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "password=correct+horse")
            ) { r in
                #expect(r.status == .ok)
                let c = r.headers[.setCookie] ?? ""
                #expect(
                    c.hasPrefix("rill_session_8080=") && c.contains("HttpOnly") && c.contains("SameSite=Strict"), "\(c)"
                )
                #expect(c.contains("Max-Age=43200") && !c.contains("Secure"), "\(c)")
            }
            let (cookie, csrf) = try await Self.login(client)
            try await client.execute(uri: "/api/v1/session", method: .get, headers: [.cookie: cookie]) { r in
                #expect(r.status == .ok)
                #expect(json(r)["csrf"] as? String == csrf)
            }
            try await client.execute(uri: "/api/v1/status", method: .get, headers: [.cookie: cookie]) {
                #expect($0.status == .ok)
            }
        }
    }

    @Test("with the session cookie, a change needs the CSRF token: none or a wrong one is 403 and changes nothing")
    func csrf() async throws {
        let f = try APIFixture()
        try await f.app.test(.router) { client in
            let (cookie, csrf) = try await Self.login(client)
            let patch = ByteBuffer(string: #"{"program":{"serviceName":"forged"}}"#)
            // No token, and one that differs from the session's in its first character only.
            let wrong = (csrf.first == "0" ? "1" : "0") + csrf.dropFirst()
            for token in [nil, wrong] {
                var h: HTTPFields = [.cookie: cookie, .contentType: "application/json"]
                if let token { h[Self.csrfHeader] = token }
                try await client.execute(uri: "/api/v1/config", method: .patch, headers: h, body: patch) { r in
                    #expect(r.status == .forbidden)
                    #expect((json(r)["detail"] as? String)?.contains("CSRF") == true)
                }
            }
            #expect(f.box.store.config.program.serviceName == "API test")
            try await client.execute(
                uri: "/api/v1/config", method: .patch,
                headers: [.cookie: cookie, .contentType: "application/json", Self.csrfHeader: csrf], body: patch
            ) { #expect($0.status == .ok) }
            #expect(f.box.store.config.program.serviceName == "forged")
        }
    }

    @Test("a request from another origin is 403 even with a valid session and token; bearer scripts are unaffected")
    func crossOrigin() async throws {
        let f = try APIFixture()
        try await f.app.test(.router) { client in
            let (cookie, csrf) = try await Self.login(client)
            let forged: [HTTPFields] = [
                [.origin: "http://evil.example:8080"], [.origin: "null"],
                [HTTPFields.Element.Name("Sec-Fetch-Site")!: "cross-site"],
                [HTTPFields.Element.Name("Sec-Fetch-Site")!: "same-site"],
            ]
            for extra in forged {
                var h: HTTPFields = [.cookie: cookie, Self.csrfHeader: csrf]
                h.append(contentsOf: extra)
                try await client.execute(uri: "/api/v1/outputs/mc/stop", method: .post, headers: h) { r in
                    #expect(r.status == .forbidden, "\(extra)")
                    #expect((json(r)["detail"] as? String)?.contains("cross-origin") == true)
                }
            }
            try await client.execute(
                uri: "/api/v1/outputs/mc/stop", method: .post,
                headers: [
                    .cookie: cookie, Self.csrfHeader: csrf, HTTPFields.Element.Name("Sec-Fetch-Site")!: "same-origin",
                ]
            ) { #expect($0.status == .accepted) }
            try await client.execute(uri: "/api/v1/outputs/mc/start", method: .post, headers: f.auth) {
                #expect($0.status == .accepted)
            }
            // A link from elsewhere to the page itself opens it.
            try await client.execute(
                uri: "/", method: .get,
                headers: [
                    HTTPFields.Element.Name("Sec-Fetch-Site")!: "cross-site",
                    HTTPFields.Element.Name("Sec-Fetch-Mode")!: "navigate",
                ]
            ) { #expect($0.status == .ok) }
        }
    }

    @Test("logout ends the session; a password change ends every session and the old password stops working")
    func logoutAndPasswordChange() async throws {
        let f = try APIFixture()
        try await f.app.test(.router) { client in
            let (cookie, csrf) = try await Self.login(client)
            try await client.execute(
                uri: "/api/v1/session", method: .delete, headers: [.cookie: cookie, Self.csrfHeader: csrf]
            ) { r in
                #expect(r.status == .noContent)
                #expect(r.headers[.setCookie]?.contains("Max-Age=0") == true)
            }
            try await client.execute(uri: "/api/v1/status", method: .get, headers: [.cookie: cookie]) { r in
                #expect(r.status == .unauthorized)
            }
            let a = try await Self.login(client)
            let b = try await Self.login(client)
            func change(_ body: String, _ status: HTTPResponse.Status, path: String? = nil) async throws {
                try await client.execute(
                    uri: "/api/v1/password", method: .post,
                    headers: [.cookie: a.cookie, Self.csrfHeader: a.csrf, .contentType: "application/json"],
                    body: ByteBuffer(string: body)
                ) { r in
                    #expect(r.status == status, "\(body): \(String(buffer: r.body))")
                    if let path { #expect(json(r)["path"] as? String == path) }
                }
            }
            try await change(#"{"current":"correct horse","new":"short"}"#, .unprocessableContent, path: "new")
            try await change(#"{"current":"wrong one","new":"battery staple"}"#, .forbidden, path: "current")
            try await change(#"{"current":"correct horse","new":"battery staple"}"#, .noContent)
            for s in [a, b] {
                try await client.execute(uri: "/api/v1/status", method: .get, headers: [.cookie: s.cookie]) {
                    #expect($0.status == .unauthorized)
                }
            }
            try await client.execute(
                uri: "/api/v1/session", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"password":"correct horse"}"#)
            ) { #expect($0.status == .unauthorized) }
            _ = try await Self.login(client, password: "battery staple")
        }
    }

    @Test("the page and its files are public, with the security headers; every file of Sources/API/Page is served")
    func page() async throws {
        let f = try APIFixture()
        let dir = "Sources/API/Page"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(files.contains("index.html"))
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "text/html; charset=utf-8")
                let csp = r.headers[.contentSecurityPolicy] ?? ""
                #expect(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "\(csp)")
                #expect(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"))
                #expect(r.headers[HTTPFields.Element.Name("X-Frame-Options")!] == "DENY")
                #expect(r.headers[.xContentTypeOptions] == "nosniff")
                let html = String(buffer: r.body)
                let disk = try String(contentsOfFile: "\(dir)/index.html", encoding: .utf8)
                #expect(html == disk)
            }
            for name in files where name != "index.html" {
                try await client.execute(uri: "/ui/\(name)", method: .get) { r in
                    #expect(r.status == .ok, "/ui/\(name)")
                    let disk = try String(contentsOfFile: "\(dir)/\(name)", encoding: .utf8)
                    #expect(String(buffer: r.body) == disk, "/ui/\(name) is the file")
                }
            }
            try await client.execute(uri: "/ui/nothing.js", method: .get) { #expect($0.status == .notFound) }
            // Errors carry the headers too.
            try await client.execute(uri: "/api/v1/status", method: .get) { r in
                #expect(r.status == .unauthorized)
                #expect(r.headers[.contentSecurityPolicy] != nil && r.headers[.xContentTypeOptions] == "nosniff")
            }
        }
    }

    @Test(
        "HTTP Basic goes through the login throttle: after 5 wrong passwords 429 with Retry-After, the right one refused too until the wait is over"
    )
    func basicThrottled() async throws {
        let f = try APIFixture()
        @Sendable func basic(_ password: String) -> HTTPFields {
            [.authorization: "Basic " + Data("admin:\(password)".utf8).base64EncodedString()]
        }
        try await f.app.test(.router) { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<8 {
                try await client.execute(uri: "/api/v1/status", method: .get, headers: basic("guess")) { r in
                    statuses.append(r.status)
                    if r.status == .tooManyRequests { #expect(r.headers[.retryAfter] != nil) }
                    if r.status == .unauthorized { #expect(r.headers[.wwwAuthenticate] == "Bearer realm=\"rill\"") }
                }
            }
            #expect(statuses.prefix(5).allSatisfy { $0 == .unauthorized }, "\(statuses)")
            #expect(statuses.contains(.tooManyRequests), "\(statuses)")
            try await client.execute(uri: "/api/v1/status", method: .get, headers: basic("correct horse")) {
                #expect($0.status == .tooManyRequests, "the right password waits its turn too")
            }
            // A bearer token is never held up by its address's throttle.
            try await client.execute(uri: "/api/v1/status", method: .get, headers: f.auth) { #expect($0.status == .ok) }
        }
    }

    @Test(
        "a browser that logged in before (its device cookie) logs in while its address is throttled by someone else's guesses"
    )
    func deviceCookie() async throws {
        let f = try APIFixture()
        try await f.app.test(.router) { client in
            let device = try await client.execute(
                uri: "/api/v1/session", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"password":"correct horse"}"#)
            ) { r in
                let cookies = r.headers[values: .setCookie]
                let device = try #require(cookies.first { $0.hasPrefix("rill_device_8080=") }, "\(cookies)")
                #expect(device.contains("Path=/api/v1/session") && device.contains("HttpOnly"), "\(device)")
                return String(device.prefix { $0 != ";" })
            }
            // Someone at the same address guesses until the address must wait.
            var refused = false
            for _ in 0..<10 {
                try await client.execute(
                    uri: "/api/v1/session", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: #"{"password":"guess"}"#)
                ) { if $0.status == .tooManyRequests { refused = true } }
            }
            #expect(refused, "the address is throttled")
            try await client.execute(
                uri: "/api/v1/session", method: .post, headers: [.contentType: "application/json", .cookie: device],
                body: ByteBuffer(string: #"{"password":"correct horse"}"#)
            ) { #expect($0.status == .ok, "the known browser logs in") }
            // A made-up device cookie is no way around the throttle.
            let fake = "rill_device_8080=" + String(repeating: "0", count: 64)
            try await client.execute(
                uri: "/api/v1/session", method: .post, headers: [.contentType: "application/json", .cookie: fake],
                body: ByteBuffer(string: #"{"password":"correct horse"}"#)
            ) { #expect($0.status == .tooManyRequests) }
        }
    }

    @Test("API answers are not stored by caches (no-store), the page's files revalidate (no-cache)")
    func cachePolicy() async throws {
        let f = try APIFixture()
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/api/v1/config", method: .get, headers: f.auth) {
                #expect($0.headers[.cacheControl] == "no-store")
            }
            try await client.execute(uri: "/api/v1/session", method: .get) {
                #expect($0.headers[.cacheControl] == "no-store")
            }
            try await client.execute(uri: "/", method: .get) { #expect($0.headers[.cacheControl] == "no-cache") }
        }
    }
}
