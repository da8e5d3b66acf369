import Foundation
import RillTestSupport
import Testing

/// The units under Systemd/ against systemd's own tools, and the box's sd_notify protocol against a
/// notify socket like systemd's.
@Suite("systemd units", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct SystemdTests {
    let units = packageRoot() + "/Systemd"

    @Test("systemd-analyze verify passes on rill.service (ExecStart pointed at the built binary)")
    func verifyService() throws {
        try #require(toolAvailable("systemd-analyze"), "systemd-analyze is not installed")
        let dir = makeTemporaryDirectory("units")
        let unit = try String(contentsOfFile: units + "/rill.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/rill run"))
        try unit.replacingOccurrences(of: "/usr/bin/rill", with: rillBinary()).write(
            toFile: dir + "/rill.service", atomically: true, encoding: .utf8)
        let r = try runProcess(["systemd-analyze", "verify", dir + "/rill.service"], timeout: 60)
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
    }

    @Test("sysusers and tmpfiles entries apply to an empty root; every sysctl key exists")
    func sysusersTmpfilesSysctl() throws {
        let root = makeTemporaryDirectory("sysroot")
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        for f in ["passwd", "shadow", "gshadow"] {
            _ = FileManager.default.createFile(atPath: "\(root)/etc/\(f)", contents: nil)
        }
        try "video:x:44:\naudio:x:29:\n".write(toFile: root + "/etc/group", atomically: true, encoding: .utf8)
        let users = try runProcess(["systemd-sysusers", "--root=\(root)", units + "/rill.sysusers.conf"], timeout: 30)
        #expect(users.status == 0, "\(users.stderr)")
        let group = try String(contentsOfFile: root + "/etc/group", encoding: .utf8)
        #expect(group.contains("video:x:44:rill") && group.contains("audio:x:29:rill"))
        let tmp = try runProcess(
            ["systemd-tmpfiles", "--root=\(root)", "--create", units + "/rill.tmpfiles.conf"], timeout: 30)
        #expect(tmp.status == 0, "\(tmp.stderr)")
        #expect(FileManager.default.fileExists(atPath: root + "/var/lib/rill/recordings"))
        let sysctl = try String(contentsOfFile: units + "/rill-sysctl.conf", encoding: .utf8)
        for line in sysctl.split(separator: "\n") where !line.hasPrefix("#") && line.contains("=") {
            let key = line.split(separator: "=")[0].trimmingCharacters(in: .whitespaces)
            #expect(
                FileManager.default.fileExists(atPath: "/proc/sys/" + key.replacingOccurrences(of: ".", with: "/")),
                "\(key)")
        }
    }

    @Test("Type=notify: READY=1 once the outputs are up, then WATCHDOG=1 at half of WATCHDOG_USEC")
    func notify() throws {
        let dir = makeTemporaryDirectory("notify")
        let socket = dir + "/notify.sock"
        let listener = Process()
        listener.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        listener.arguments = [
            "-c",
            """
            import socket, sys, time
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(0.5)
            out = open(sys.argv[2], "a"); end = time.time() + 12
            while time.time() < end:
                try: out.write(s.recv(4096).decode().replace("\\n", ";") + "\\n"); out.flush()
                except socket.timeout: pass
            """,
            socket, dir + "/received",
        ]
        _ = FileManager.default.createFile(atPath: dir + "/received", contents: nil)
        try listener.run()
        defer { _ = reap(listener, killAfter: 1) }
        #expect(waitFor(timeout: 5) { FileManager.default.fileExists(atPath: socket) })
        let config = testConfig(
            instance: "notify-\(UUID().uuidString.prefix(4))",
            outputs: #"{ "id": "u", "url": "udp://127.0.0.1:5140" }"#,
            runDirectory: dir + "/run")
        // Its own network namespace: the UDP output reaches nothing on the host.
        let ns = try NetworkNamespace("notify")
        defer { ns.close() }
        let box = try BoxUnderTest(
            config: config, namespace: ns, label: "notify",
            environment: ["NOTIFY_SOCKET": socket, "WATCHDOG_USEC": "2000000"])
        defer { box.stop() }
        #expect(
            waitFor(timeout: 10) {
                let r = (try? String(contentsOfFile: dir + "/received", encoding: .utf8)) ?? ""
                return r.contains("READY=1") && r.components(separatedBy: "WATCHDOG=1").count > 3
            }, "\((try? String(contentsOfFile: dir + "/received", encoding: .utf8)) ?? "")")
        let received = try String(contentsOfFile: dir + "/received", encoding: .utf8)
        #expect(received.contains("STATUS=1 outputs up"), "\(received)")
    }
}

/// Board/install.sh into a temporary root, and the JSON Schema against the validator.
@Suite("Boards and schema", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct BoardTests {
    @Test("install.sh lays out binary, units, schema and each profile; the result passes rill check")
    func install() throws {
        for profile in ["x86-64", "rpi-armv7", "qemu-virt"] {
            let root = makeTemporaryDirectory("board-\(profile)")
            let r = try runProcess(
                [
                    "bash", packageRoot() + "/Board/install.sh", "--profile", profile, "--root", root, "--binary",
                    rillBinary(),
                ], timeout: 60)
            #expect(r.status == 0, "\(profile): \(r.stdout) \(r.stderr)")
            for f in [
                "usr/bin/rill", "lib/systemd/system/rill.service", "usr/lib/sysusers.d/rill.conf",
                "usr/lib/tmpfiles.d/rill.conf",
                "etc/sysctl.d/60-rill.conf", "usr/share/rill/rill-config.schema.json", "etc/rill/rill.json",
                "etc/rill/conf.d/10-board.json",
            ] {
                #expect(FileManager.default.fileExists(atPath: "\(root)/\(f)"), "\(profile): \(f)")
            }
        }
        let bad = try runProcess(
            [
                "bash", packageRoot() + "/Board/install.sh", "--profile", "nosuch", "--root",
                makeTemporaryDirectory("board-bad"),
            ], timeout: 30)
        #expect(bad.status == 2 && bad.stderr.contains("x86-64"))
    }

    @Test("the JSON Schema (checked by python3-jsonschema) and rill check agree on valid and invalid configs")
    func schemaAgreesWithValidator() throws {
        let schema = packageRoot() + "/Board/rill-config.schema.json"
        let dir = makeTemporaryDirectory("schema")
        let valid =
            [
                testConfig(
                    instance: "s1",
                    outputs: #"{ "id": "a", "url": "rtp://239.1.1.1:5000?ttl=2", "sdp": "/tmp/a.sdp" }"#,
                    runDirectory: "/tmp/x"),
                #"{ "outputs": [ { "id": "s", "url": "srt://:9000?latency=200" } ], "events": [ { "on": ["SRT_ACCEPT"], "handler": "/bin/true", "outputs": ["s"] } ], "api": { "port": 9090 } }"#,
            ]
            + ["x86-64", "rpi-armv7", "qemu-virt"].map {
                (try? String(contentsOfFile: packageRoot() + "/Board/profiles/\($0).json", encoding: .utf8)) ?? ""
            }
        let invalid = [
            #"{ "program": { "pcrInterval": 80 } }"#,
            #"{ "source": { "video": { "width": 1281 } } }"#,
            #"{ "encoders": { "video": { "preset": "turbo" } } }"#,
            #"{ "outputs": [ { "id": "a b", "url": "rtp://1.2.3.4:5000" } ] }"#,
            #"{ "events": [ { "on": ["NOPE"], "handler": "/bin/true" } ] }"#,
            #"{ "api": { "port": 0 } }"#,
            #"{ "programme": {} }"#,
        ]
        for (n, doc) in (valid.map { ($0, true) } + invalid.map { ($0, false) }).enumerated() {
            let path = "\(dir)/c\(n).json"
            try doc.0.write(toFile: path, atomically: true, encoding: .utf8)
            let js = try runProcess(
                [
                    "/usr/bin/python3", "-c",
                    "import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))",
                    schema, path,
                ],
                timeout: 30)
            let check = try runProcess([rillBinary(), "check", "--config", path], timeout: 10)
            #expect((js.status == 0) == doc.1, "schema on c\(n): \(js.stderr.suffix(300))")
            #expect((check.status == 0) == doc.1, "rill check on c\(n): \(check.stderr)")
        }
    }
}
