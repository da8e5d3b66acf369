import Foundation
import RillTestSupport
import Testing

/// `api.tls`: the API and the page over HTTPS, checked with curl (OpenSSL) against a certificate
/// openssl made for the test.
@Suite("API over TLS (curl)", .serialized, .tags(.endToEnd, .peer))
struct APITLSTests {
    /// A self-signed certificate for 127.0.0.1 and its key in `dir`.
    static func makeCertificate(in dir: String) throws -> (certificate: String, key: String) {
        let (cert, key) = ("\(dir)/cert.pem", "\(dir)/key.pem")
        let r = try runProcess([
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=rill test", "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        guard r.status == 0 else { throw TestEnvironmentError("openssl: \(r.stderr)") }
        return (cert, key)
    }

    @Test(
        "https with the configured certificate: the page, HSTS, a Secure session cookie; plain http on that port gets no answer"
    )
    func https() throws {
        let dir = makeTemporaryDirectory("tls")
        let (cert, key) = try Self.makeCertificate(in: dir)
        let credentials = "\(dir)/credentials.json"
        let set = try runProcess([rillBinary(), "passwd", "--credentials", credentials], stdin: "correct horse")
        #expect(set.status == 0)
        let port = 18170
        let config = testConfig(
            instance: "tls-\(UUID().uuidString.prefix(4))", outputs: #"{ "id": "u", "url": "udp://127.0.0.1:5170" }"#,
            runDirectory: "\(dir)/run",
            api:
                #""port": \#(port), "credentials": "\#(credentials)", "tls": { "certificate": "\#(cert)", "key": "\#(key)" }"#
        )
        let box = try BoxUnderTest(config: config, label: "tls")
        defer { _ = box.stop() }
        let base = "https://127.0.0.1:\(port)"
        var page: ProcessResult? = nil
        #expect(
            waitFor(timeout: 15, interval: 0.2) {
                page = try? runProcess(["curl", "-s", "-i", "-m", "5", "--cacert", cert, "\(base)/"])
                return page?.status == 0
            }, "curl https: \(page?.stderr ?? "") \(box.log.suffix(1000))")
        let answer = page?.stdout ?? ""
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(300))")
        #expect(answer.lowercased().contains("strict-transport-security: max-age=86400"))
        // The certificate is the configured one: curl without it refuses the self-signed server.
        let untrusted = try runProcess(["curl", "-s", "-m", "5", "\(base)/"])
        #expect(untrusted.status == 60, "curl without the CA: exit \(untrusted.status) (60: certificate problem)")
        let login = try runProcess([
            "curl", "-s", "-i", "-m", "5", "--cacert", cert, "-H", "Content-Type: application/json", "--data",
            #"{"password":"correct horse"}"#, "\(base)/api/v1/session",
        ])
        let cookies = login.stdout.split(separator: "\r\n").filter { $0.lowercased().hasPrefix("set-cookie:") }
        #expect(cookies.count == 2 && cookies.allSatisfy { $0.contains("; Secure") }, "\(login.stdout.prefix(600))")
        #expect(cookies.contains { $0.contains("rill_session_\(port)=") }, "\(cookies)")
        // The same port does not speak plain HTTP.
        let plain = try runProcess([
            "curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/health",
        ])
        #expect(plain.stdout != "200", "plain http answered \(plain.stdout)")
    }

    @Test("an unreadable key: the API is not started (naming api.tls.key), the media keeps flowing")
    func badKey() throws {
        let dir = makeTemporaryDirectory("tls-bad")
        let (cert, _) = try Self.makeCertificate(in: dir)
        try "not a key".write(toFile: "\(dir)/bad.pem", atomically: true, encoding: .utf8)
        let config = testConfig(
            instance: "tlsbad-\(UUID().uuidString.prefix(4))",
            outputs: #"{ "id": "u", "url": "udp://127.0.0.1:5171" }"#,
            runDirectory: "\(dir)/run",
            api:
                #""port": 18171, "credentials": "\#(dir)/cred.json", "tls": { "certificate": "\#(cert)", "key": "\#(dir)/bad.pem" }"#
        )
        let box = try BoxUnderTest(config: config, label: "tls-bad")
        defer { _ = box.stop() }
        #expect(waitFor(timeout: 10) { box.log.contains("API not started: api.tls.key:") }, "\(box.log.suffix(1500))")
        let recv = try runProcess(
            [
                "ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", "-i",
                "udp://127.0.0.1:5171",
            ],
            timeout: 20)
        #expect(recv.stdout.contains("h264"), "ffprobe: \(recv.stdout) \(recv.stderr)")
    }
}
