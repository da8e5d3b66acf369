import Foundation
import RillTestSupport

/// Python's http.server (not our code) on an ephemeral port of 127.0.0.1 or [::1], scripted per
/// path: `/ok` answers "accept studio", `/short` promises 100 bytes and sends 10, `/chunked` sends
/// three chunks and a trailer, `/badchunk` a chunk without its CRLF, `/slow` never answers, `/fail`
/// is a 500. Every request (method, path, headers, body) is recorded as a JSON line.
final class PythonHTTPServer: @unchecked Sendable {
    let process = Process()
    let port: Int
    let host: String
    let recordPath: String
    private var stopped = false

    static let script = #"""
        import http.server, socket, sys, time, json, os
        family = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
        host = "::1" if sys.argv[1] == "6" else "127.0.0.1"
        portfile, recordfile = sys.argv[2], sys.argv[3]

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *args): pass
            def do_GET(self): self.answer(b"")
            def do_POST(self): self.answer(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            def answer(self, body):
                with open(recordfile, "a") as f:
                    f.write(json.dumps({"method": self.command, "path": self.path,
                                        "headers": dict(self.headers.items()), "body": body.decode()}) + "\n")
                self.close_connection = True
                if self.path == "/ok":
                    text = b"accept studio\nsecond line\n"
                    self.send_response(200); self.send_header("Content-Length", str(len(text))); self.end_headers()
                    self.wfile.write(text)
                elif self.path == "/short":
                    self.send_response(200); self.send_header("Content-Length", "100"); self.end_headers()
                    self.wfile.write(b"only ten.."); self.wfile.flush()
                elif self.path == "/chunked":
                    self.send_response(200); self.send_header("Transfer-Encoding", "chunked"); self.end_headers()
                    for c in [b"hello ", b"chunked ", b"world"]:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
                    self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")
                elif self.path == "/badchunk":
                    self.send_response(200); self.send_header("Transfer-Encoding", "chunked"); self.end_headers()
                    self.wfile.write(b"5\r\nhelloXX0\r\n\r\n")
                elif self.path == "/slow":
                    time.sleep(30)
                else:
                    self.send_response(500); self.send_header("Content-Length", "0"); self.end_headers()

        class Server(http.server.ThreadingHTTPServer):
            address_family = family
            daemon_threads = True

        server = Server((host, 0), Handler)
        with open(portfile + ".tmp", "w") as f: f.write(str(server.server_address[1]))
        os.rename(portfile + ".tmp", portfile)
        server.serve_forever()
        """#

    /// Starts the server on IPv6 `[::1]` when `ipv6`, else on 127.0.0.1.
    init(ipv6: Bool = false) throws {
        let dir = makeTemporaryDirectory("pyhttp")
        let scriptPath = "\(dir)/server.py"
        try Self.script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        recordPath = "\(dir)/requests.jsonl"
        host = ipv6 ? "[::1]" : "127.0.0.1"
        let portPath = "\(dir)/port"
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [scriptPath, ipv6 ? "6" : "4", portPath, recordPath]
        process.standardInput = FileHandle.nullDevice
        try process.run()
        guard waitFor(timeout: 10, { FileManager.default.fileExists(atPath: portPath) }),
            let p = Int((try? String(contentsOfFile: portPath, encoding: .utf8)) ?? "")
        else {
            kill(process.processIdentifier, SIGKILL)
            _ = reap(process, killAfter: 2)
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "python http.server did not start"])
        }
        port = p
    }

    /// `http://host:port/path`.
    func url(_ path: String) -> String { "http://\(host):\(port)\(path)" }

    /// The requests received so far.
    var requests: [[String: Any]] {
        let text = (try? String(contentsOfFile: recordPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    func stop() {
        guard !stopped else { return }
        stopped = true
        kill(process.processIdentifier, SIGKILL)
        _ = reap(process, killAfter: 5)
    }

    deinit { stop() }
}
