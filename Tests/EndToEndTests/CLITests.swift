import Foundation
import RillTestSupport
import Testing

/// The `rill` binary's behaviour on bad input: non-zero exit and a message naming the field.
@Suite("CLI", .tags(.endToEnd, .needsRoot, .peer))
struct CLITests {
    @Test(
        "rill run/check refuse a bad config, naming the field",
        arguments: [
            (#"{ "source": { "type": "testsrc", "video": { "widht": 1280 } } }"#, "source.video.widht: unknown key"),
            (#"{ "outputs": [ { "id": "mc", "url": "rtp://239.255.42.1" } ] }"#, "outputs[0].url: missing :port"),
            (
                #"{ "program": { "mode": "cbr", "muxrate": 3000000 }, "encoders": { "video": { "bitrate": 4000000 } } }"#,
                "program.muxrate: 3000000 b/s is below"
            ),
            (#"{ "outputs": [ "#, "JSON syntax error at line 1"),
        ])
    func badConfig(json: String, message: String) throws {
        let dir = makeTemporaryDirectory("cli")
        let path = "\(dir)/bad.json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        for command in ["run", "check"] {
            let r = try runProcess([rillBinary(), command, "--config", path], timeout: 20)
            #expect(r.status == 2, "\(command): exit \(r.status)")
            #expect(r.stderr.contains(message), "\(command): \(r.stderr)")
        }
    }

    /// `rill run` without `--config` inside `ns`, until its SDP exists; returns the box and its log path.
    func defaultBox(_ ns: NetworkNamespace, runDirectory: String, environment: [String: String] = [:], log: String)
        throws -> Process
    {
        let box = Process()
        box.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        box.arguments = ns.command(
            ["env"] + environment.map { "\($0)=\($1)" }.sorted() + [
                rillBinary(), "run", "--run-directory", runDirectory,
            ])
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        box.standardOutput = FileHandle(forWritingAtPath: log)
        box.standardError = box.standardOutput
        box.standardInput = FileHandle.nullDevice
        try box.run()
        return box
    }

    /// Stops a default box (SIGINT) and removes its rings whatever happened.
    func stopDefaultBox(_ box: Process) {
        kill(box.processIdentifier, SIGINT)
        _ = reap(box, killAfter: 5)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []
        where name.hasPrefix("rill.default.") {
            unlink("/dev/shm/\(name)")
        }
    }

    @Test(
        "rill run without --config: the embedded default streams H.264 720p50 + AAC, unicast without a multicast route, multicast with one, SDP in the run directory or its fallback",
        arguments: ["unicast", "multicast", "fallback"])
    func defaultConfig(_ variant: String) throws {
        let ns = try NetworkNamespace("default-\(variant)")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("default-\(variant)")
        if variant != "multicast" { try ns.run(["ip", "route", "del", "224.0.0.0/4", "dev", "lo"]) }
        // The fallback: a run directory that cannot be created sends the box to $XDG_RUNTIME_DIR/rill.
        let preferred = variant == "fallback" ? "/proc/rill-not-writable" : "\(dir)/run"
        let used = variant == "fallback" ? "\(dir)/xdg/rill" : "\(dir)/run"
        try FileManager.default.createDirectory(atPath: "\(dir)/xdg", withIntermediateDirectories: true)
        let logPath = "\(dir)/box.log"
        let box = try defaultBox(
            ns, runDirectory: preferred, environment: ["XDG_RUNTIME_DIR": "\(dir)/xdg"], log: logPath)
        defer { stopDefaultBox(box) }
        let sdp = "\(used)/default/mc.sdp"
        let log = { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
        #expect(
            waitFor(timeout: 20) { FileManager.default.fileExists(atPath: sdp) },
            "no SDP at \(sdp): \(log().suffix(1500))")
        let text = (try? String(contentsOfFile: sdp, encoding: .utf8)) ?? ""
        if variant == "multicast" {
            #expect(log().contains("multicast to 239.255.42.1:5000"), "\(log().suffix(800))")
            #expect(text.contains("c=IN IP4 239.255.42.1/"), "\(text)")
        } else {
            #expect(log().contains("unicast to 127.0.0.1:5000"), "\(log().suffix(800))")
            #expect(text.contains("c=IN IP4 127.0.0.1"), "\(text)")
        }
        if variant == "fallback" {
            #expect(log().contains("/proc/rill-not-writable is not writable; using \(used)"), "\(log().suffix(800))")
        }
        // An independent receiver opens the SDP the box wrote.
        let streams = try ffprobeStreams(sdp, prefix: ns.command([]), timeout: 60)
        let video = streams.first { $0.codec == "h264" }
        #expect(video?.width == 1280 && video?.height == 720 && video?.frameRate == "50/1", "\(streams)")
        #expect(streams.contains { $0.codec == "aac" && $0.sampleRate == 48_000 && $0.channels == 2 }, "\(streams)")
    }
}
