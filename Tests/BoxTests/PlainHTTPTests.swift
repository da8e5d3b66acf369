import Config
import Events
import Foundation
import RillTestSupport
import Testing

/// The HTTP client of event handlers and `rill ctl`, against Python's http.server (issue 15, defect 3).
@Suite("PlainHTTP against Python's http.server", .tags(.peer))
struct PlainHTTPTests {
    /// The request's error message, nil when it succeeded.
    static func failure(_ url: String, timeoutMs: Int64 = 3000) throws -> (message: String?, seconds: Double) {
        let start = Date()
        do {
            _ = try PlainHTTP.request("GET", try HTTPURL.parse(url, path: "test"), timeoutMs: timeoutMs)
            return (nil, Date().timeIntervalSince(start))
        } catch {
            return ("\(error)", Date().timeIntervalSince(start))
        }
    }

    @Test(
        "a Content-Length body and a chunked body with a trailer arrive whole, over IPv4 and IPv6",
        arguments: [false, true])
    func goodBodies(ipv6: Bool) throws {
        let server = try PythonHTTPServer(ipv6: ipv6)
        defer { server.stop() }
        let ok = try PlainHTTP.request("GET", try HTTPURL.parse(server.url("/ok"), path: "test"), timeoutMs: 3000)
        #expect(ok.status == 200 && ok.text == "accept studio\nsecond line\n", "\(ok.status) \(ok.text)")
        let chunked = try PlainHTTP.request(
            "GET", try HTTPURL.parse(server.url("/chunked"), path: "test"), timeoutMs: 3000)
        #expect(chunked.header("transfer-encoding") == "chunked", "\(chunked.headers)")
        #expect(chunked.status == 200 && chunked.text == "hello chunked world", "\(chunked.text)")
        let host = try #require(server.requests.first?["headers"] as? [String: String])["Host"]
        #expect(host == "\(server.host):\(server.port)")
    }

    @Test(
        "framing faults are errors that say what was wrong",
        arguments: [
            ("/short", "response body ended after 10 of 100 bytes (Content-Length 100)"),
            ("/badchunk", "chunk 0 of 5 bytes is not followed by CRLF (got bytes 58 58)"),
        ])
    func faults(path: String, message: String) throws {
        let server = try PythonHTTPServer()
        defer { server.stop() }
        let r = try Self.failure(server.url(path))
        #expect(r.message == message)
        #expect(server.requests.count == 1, "the server did not see the request")
    }

    @Test("a server that never answers is a timeout within the deadline, naming the phase")
    func slowServer() throws {
        let server = try PythonHTTPServer()
        defer { server.stop() }
        let r = try Self.failure(server.url("/slow"), timeoutMs: 500)
        #expect(waitFor(timeout: 2) { server.requests.count == 1 }, "the request never reached the server")
        #expect(
            r.message == "timed out after 500 ms while reading the response head (0 body bytes so far)",
            "\(r.message ?? "no error")")
        #expect(r.seconds >= 0.45 && r.seconds < 1.0, "gave up after \(r.seconds) s")
    }

    @Test("nobody listening on [::1] is an error naming the address")
    func refusedIPv6() throws {
        // A port the kernel gave and took back: nobody listens there any more.
        let server = try PythonHTTPServer(ipv6: true)
        let port = server.port
        server.stop()
        let r = try Self.failure("http://[::1]:\(port)/")
        #expect(
            r.message == "cannot connect to [::1]:\(port): [::1]:\(port): Connection refused",
            "\(r.message ?? "no error")")
    }

    @Test("URLs: [IPv6]:port parses; a broken one is refused naming the fault")
    func urls() throws {
        let u = try HTTPURL.parse("http://[::1]:8080/api/v1", path: "api")
        #expect(u.host == "::1" && u.port == 8080 && u.target == "/api/v1")
        #expect(try HTTPURL.parse("http://[fe80::1]/x", path: "api").port == 80)
        #expect(throws: ConfigError.self) { try HTTPURL.parse("http://[::1/x", path: "api") }
        #expect(throws: ConfigError.self) { try HTTPURL.parse("http://[bad host]:80/", path: "api") }
    }
}
