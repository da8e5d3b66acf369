import API
import ArgumentParser
import Config
import Events
import Runtime

#if canImport(Glibc)
import Glibc
#endif

/// `rill ctl …`: the box's API from the shell. Token from `--token-file`, `$RILL_TOKEN`, or
/// `/etc/rill/token`; human output by default, `--json` for scripts.
struct Ctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Talk to a running box's API.",
        subcommands: [CtlStatus.self, CtlConfig.self, CtlOutputs.self, CtlEvents.self])
}

struct APIOptions: ParsableArguments {
    @Option(name: .long, help: "API base URL.")
    var api = "http://127.0.0.1:8080"
    @Option(name: .long, help: "File holding a bearer token (default: $RILL_TOKEN, else /etc/rill/token).")
    var tokenFile: String?
    @Flag(name: .long, help: "Print the API's JSON.")
    var json = false

    func token() -> String? {
        if let f = tokenFile { return (try? AtomicFile.read(f))?.trimmingCharacters }
        if let t = getenv("RILL_TOKEN") { return String(cString: t) }
        return (try? AtomicFile.read("/etc/rill/token"))?.trimmingCharacters
    }

    func url(_ path: String) throws -> HTTPURL {
        do {
            return try HTTPURL.parse(api.hasSuffix("/") ? String(api.dropLast()) + path : api + path, path: "--api")
        } catch {
            printError("rill ctl: \(error)")
            throw ExitCode(2)
        }
    }

    var headers: [(String, String)] { token().map { [("Authorization", "Bearer \($0)")] } ?? [] }

    /// One request; exits 1 with the problem's detail on an error status.
    func call(_ method: String, _ path: String, body: [UInt8] = []) throws -> JSON {
        let r: PlainHTTP.Response
        do {
            r = try PlainHTTP.request(
                method, url(path), headers: headers + [("Content-Type", "application/json")], body: body,
                timeoutMs: 10_000)
        } catch {
            printError("rill ctl: \(api): \(error)")
            throw ExitCode(1)
        }
        let json = (try? JSONParser.parse(r.body)) ?? .string(r.text)
        guard (200..<300).contains(r.status) else {
            if self.json { print(json.pretty, terminator: "") }
            var detail = ""
            if case .string(let d) = json["detail"] ?? .null { detail = d }
            printError("rill ctl: \(r.status): \(detail.isEmpty ? r.text : detail)")
            throw ExitCode(1)
        }
        return json
    }
}

struct CtlStatus: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "The box's status.")
    @OptionGroup var options: APIOptions

    func run() throws {
        let s = try options.call("GET", "/api/v1/status")
        if options.json {
            print(s.pretty, terminator: "")
            return
        }
        func str(_ v: JSON?) -> String {
            switch v ?? .null {
            case .string(let x): x
            case .number(let d): d.rounded() == d ? String(Int64(d)) : String(d)
            case .bool(let b): b ? "yes" : "no"
            default: "-"
            }
        }
        print(
            "box \(str(s["box"]?["instance"])) (rill \(str(s["box"]?["version"]))), up \(str(s["box"]?["uptimeSeconds"])) s"
        )
        if let src = s["source"] {
            print(
                "source \(str(src["type"])): signal \(str(src["signal"])), \(str(src["width"]))x\(str(src["height"])) @ \(str(src["fps"])) fps, dropped \(str(src["droppedFrames"]))"
            )
        }
        print("\nSTAGE            STATE     PID      RESTARTS")
        if case .array(let stages) = s["stages"] ?? .null {
            for st in stages {
                print(
                    pad(str(st["name"]), 17) + pad(str(st["state"]), 10) + pad(str(st["pid"]), 9) + str(st["restarts"]))
            }
        }
        print("\nOUTPUT      STATE     PACKETS      BYTES          C→W p50/p99 ms   URL")
        if case .array(let outs) = s["outputs"] ?? .null {
            for o in outs {
                let lat = o["captureToWireMs"].map { "\(str($0["p50"]))/\(str($0["p99"]))" } ?? "-"
                print(
                    pad(str(o["id"]), 12) + pad(str(o["state"]), 10) + pad(str(o["packets"]), 13)
                        + pad(str(o["bytes"]), 15) + pad(lat, 17) + str(o["url"]))
            }
        }
    }
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }

struct CtlConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Read or change the config.", subcommands: [Get.self, Set.self])

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the config or one section.")
        @OptionGroup var options: APIOptions
        @Argument(help: "Section (system, source, encoders, program, outputs, events, api).") var section: String?
        func run() throws {
            print(try options.call("GET", "/api/v1/config" + (section.map { "/\($0)" } ?? "")).pretty, terminator: "")
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a section (or, without one, the whole config) with JSON from a file or stdin (-).")
        @OptionGroup var options: APIOptions
        @Flag(name: .long, help: "Merge (RFC 7396 merge patch) instead of replacing.") var merge = false
        @Argument(help: "Section, or omit for the whole config.") var section: String?
        @Argument(help: "JSON file, or - for stdin.") var file: String = "-"
        func run() throws {
            let text = file == "-" ? readAll(0) : ((try? AtomicFile.read(file)) ?? "")
            let r = try options.call(
                merge ? "PATCH" : "PUT", "/api/v1/config" + (section.map { "/\($0)" } ?? ""), body: Array(text.utf8))
            if options.json {
                print(r.pretty, terminator: "")
                return
            }
            var changed: [String] = []
            if case .array(let a) = r["changed"] ?? .null {
                changed = a.compactMap { if case .string(let s) = $0 { s } else { nil } }
            }
            print(
                changed.isEmpty
                    ? "no change"
                    : "changed: \(changed.joined(separator: ", "))\(r["restartRequired"] == .bool(true) ? " (takes effect at the next start)" : "")"
            )
        }
    }
}

struct CtlOutputs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outputs", abstract: "Start or stop an output (until the box restarts).")
    @OptionGroup var options: APIOptions
    @Argument(help: "start or stop") var action: String
    @Argument(help: "Output id") var id: String
    func validate() throws {
        guard action == "start" || action == "stop" else { throw ValidationError("action must be start or stop") }
    }
    func run() throws {
        let r = try options.call("POST", "/api/v1/outputs/\(id)/\(action)")
        print(options.json ? r.pretty : "output \(id): \(action) requested", terminator: options.json ? "" : "\n")
    }
}

struct CtlEvents: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Follow the box's events (Server-Sent Events).")
    @OptionGroup var options: APIOptions
    func run() throws {
        var parser = ServerSentEventParser()
        var status = 0
        do {
            // The API sends a keep-alive comment every 15 s, so three missed ones mean the box is gone.
            try PlainHTTP.stream(
                options.url("/api/v1/events"), headers: options.headers, connectTimeoutMs: 5000,
                idleTimeoutMs: 3 * 15_000, onHead: { status = $0 }
            ) { piece in
                guard status == 200 else { return false }
                for event in parser.feed(piece) {
                    if options.json {
                        print(event.data)
                    } else if let e = try? JSONParser.parse(event.data) {
                        print(Self.human(e))
                    }
                }
                fflush(nil)
                return true
            }
        } catch {
            printError("rill ctl events: \(error)")
            throw ExitCode(1)
        }
        if status != 200 {
            printError("rill ctl events: HTTP \(status)")
            throw ExitCode(1)
        }
    }

    static func human(_ e: JSON) -> String {
        var parts: [String] = []
        if case .object(let p) = e["payload"] ?? .null {
            for (k, v) in p { if case .string(let s) = v { parts.append("\(k)=\(s)") } }
        }
        if case .string(let name) = e["event"] ?? .null { return name + " " + parts.joined(separator: " ") }
        return e.serialized
    }
}

/// `rill passwd`: sets the API's admin password (read from stdin, stored as a bcrypt hash).
struct Passwd: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Set the API admin password (read from stdin).")
    @Option(name: .long, help: "Credentials file.") var credentials = "/etc/rill/credentials.json"
    func run() throws {
        let pw = readAll(0).trimmingCharacters
        guard pw.count >= Credentials.minimumPasswordLength else {
            printError("rill passwd: the password must have at least \(Credentials.minimumPasswordLength) characters")
            throw ExitCode(2)
        }
        try Credentials(path: credentials).setAdminPassword(pw)
        print("admin password set in \(credentials) (the box reads it at start)")
    }
}

/// `rill token add|remove NAME`: bearer tokens for scripts.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Add or remove an API bearer token.")
    @Option(name: .long, help: "Credentials file.") var credentials = "/etc/rill/credentials.json"
    @Argument(help: "add or remove") var action: String
    @Argument(help: "Token name") var name: String
    func run() throws {
        let c = try Credentials(path: credentials)
        switch action {
        case "add": print(try c.addToken(name: name))
        case "remove":
            guard try c.removeToken(name: name) else {
                printError("rill token: no token named \(name)")
                throw ExitCode(1)
            }
        default: throw ValidationError("action must be add or remove")
        }
    }
}

func readAll(_ fd: Int32) -> String {
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        out += buf[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
}

extension String {
    var trimmingCharacters: String {
        var s = Substring(self)
        while s.last?.isWhitespace == true { s.removeLast() }
        while s.first?.isWhitespace == true { s.removeFirst() }
        return String(s)
    }
}
