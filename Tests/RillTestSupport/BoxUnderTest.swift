import Foundation

/// `rill run --config` in the background (optionally inside a network namespace), with its log
/// collected, stopped with SIGTERM. However it ended (SIGTERM, a test's or a namespace's kill -9),
/// `stop()` and deinit leave nothing behind: no stage of it and no ring of its instance.
public final class BoxUnderTest: @unchecked Sendable {
    public let process = Process()
    public let configPath: String
    public let directory: String
    /// `system.instance` of the config: its rings are /dev/shm/rill.<instance>.*.
    public let instance: String?
    private let logPath: String
    private var exitStatus: Int32?

    /// Writes `config` to a temp dir and starts the box.
    /// `substitutingDirectory`: `__DIR__` in `config` becomes the box's directory.
    public init(
        config: String, namespace: NetworkNamespace? = nil, label: String = "box", substitutingDirectory: Bool = false,
        environment: [String: String] = [:]
    ) throws {
        directory = makeTemporaryDirectory(label)
        configPath = "\(directory)/config.json"
        logPath = "\(directory)/box.log"
        let config = substitutingDirectory ? config.replacingOccurrences(of: "__DIR__", with: directory) : config
        let doc = (try? JSONSerialization.jsonObject(with: Data(config.utf8))) as? [String: Any]
        instance = (doc?["system"] as? [String: Any])?["instance"] as? String
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)!
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = (namespace?.command([]) ?? []) + [rillBinary(), "run", "--config", configPath]
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        try process.run()
    }

    /// Everything the box logged so far.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// pid of stage `name` as last reported by the supervisor ("started NAME (pid N)").
    public func stagePID(_ name: String) -> Int32? {
        let marker = "started \(name) (pid "
        guard let line = log.split(separator: "\n").last(where: { $0.contains(marker) }),
            let r = line.range(of: marker)
        else { return nil }
        return Int32(line[r.upperBound...].prefix { $0.isNumber })
    }

    /// SIGTERM; returns the exit status and the seconds it took (SIGKILL after `timeout`). Then
    /// removes what a box killed with SIGKILL leaves: its stages (they get SIGTERM when their
    /// supervisor dies; one that ignores it is killed) and its instance's rings, which only a
    /// supervisor that stops normally unlinks.
    @discardableResult
    public func stop(timeout: Double = 5) -> (status: Int32, seconds: Double) {
        let start = Date()
        let pid = process.processIdentifier
        if let done = exitStatus { return (done, 0) }
        kill(pid, SIGTERM)
        let code = reap(process, killAfter: timeout).status
        exitStatus = code
        removeLeftovers(supervisor: pid)
        return (code, Date().timeIntervalSince(start))
    }

    private func removeLeftovers(supervisor pid: Int32) {
        let stages = { processes(withEnvironment: "RILL_SUPERVISOR_PID=\(pid)") }
        if !waitFor(timeout: 2, { stages().isEmpty }) {
            for stage in stages() { kill(stage, SIGKILL) }
            _ = waitFor(timeout: 2) { stages().isEmpty }
        }
        guard let instance else { return }
        let prefix = "rill.\(instance)."
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []
        where name.hasPrefix(prefix) {
            _ = shm_unlink("/" + name)
        }
    }

    deinit { if exitStatus == nil { stop() } }
}

/// Processes whose environment holds `entry` ("NAME=value"), read from /proc/PID/environ.
public func processes(withEnvironment entry: String) -> [Int32] {
    let needle = Data(entry.utf8)
    var found: [Int32] = []
    for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = Int32(name), pid != getpid(),
            let env = FileManager.default.contents(atPath: "/proc/\(name)/environ")
        else { continue }
        if env.split(separator: 0).contains(where: { $0.elementsEqual(needle) }) { found.append(pid) }
    }
    return found
}

/// A config document for tests: test source W×H@fps (or `source`, a whole source object), x264,
/// `audio` codec, `outputs`.
public func testConfig(
    instance: String, width: Int = 640, height: Int = 360, fps: Int = 50, videoBitrate: Int = 2_000_000,
    keyint: Int = 50, audio: String = "\"codec\": \"aac\", \"bitrate\": 128000", channels: Int = 2,
    program: String = "\"mode\": \"vbr\"", outputs: String, runDirectory: String,
    api: String = "\"enabled\": false", events: String = "", source: String? = nil
) -> String {
    let testSource = """
        { "type": "testsrc", "video": { "width": \(width), "height": \(height), "fps": \(fps) },
                    "audio": { "sampleRate": 48000, "channels": \(channels) } }
        """
    return """
        {
          "system": { "instance": "\(instance)", "runDirectory": "\(runDirectory)" },
          "source": \(source ?? testSource),
          "encoders": { "video": { "codec": "h264", "bitrate": \(videoBitrate), "keyint": \(keyint), "preset": "ultrafast" },
                        "audio": { \(audio) } },
          "program": { "serviceName": "Studio 1", "providerName": "Rill Tests", \(program) },
          "outputs": [ \(outputs) ],
          "events": [ \(events) ],
          "api": { \(api) }
        }
        """
}
