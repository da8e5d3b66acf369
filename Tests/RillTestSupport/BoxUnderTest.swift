import Foundation

/// `rill run --config` in the background (optionally inside a network namespace), with its log
/// collected, stopped with SIGTERM.
public final class BoxUnderTest: @unchecked Sendable {
    public let process = Process()
    public let configPath: String
    public let directory: String
    private let logPath: String
    private var exitStatus: Int32?

    /// Writes `config` to a temp dir and starts the box.
    /// `substitutingDirectory`: `__DIR__` in `config` becomes the box's directory.
    public init(config: String, namespace: NetworkNamespace? = nil, label: String = "box", substitutingDirectory: Bool = false,
        environment: [String: String] = [:]) throws {
        directory = makeTemporaryDirectory(label)
        configPath = "\(directory)/config.json"
        logPath = "\(directory)/box.log"
        let config = substitutingDirectory ? config.replacingOccurrences(of: "__DIR__", with: directory) : config
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)!
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = (namespace?.command([]) ?? []) + [rillBinary(), "run", "--config", configPath]
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
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

    /// SIGTERM; returns the exit status and the seconds it took (SIGKILL after `timeout`).
    @discardableResult
    public func stop(timeout: Double = 5) -> (status: Int32, seconds: Double) {
        let start = Date()
        let pid = process.processIdentifier
        if let done = exitStatus { return (done, 0) }
        kill(pid, SIGTERM)
        let code = reap(process, killAfter: timeout).status
        exitStatus = code
        return (code, Date().timeIntervalSince(start))
    }

    deinit { if exitStatus == nil { stop() } }
}

/// A config document for tests: test source W×H@fps, x264, `audio` codec, one rtp output.
public func testConfig(
    instance: String, width: Int = 640, height: Int = 360, fps: Int = 50, videoBitrate: Int = 2_000_000,
    keyint: Int = 50, audio: String = "\"codec\": \"aac\", \"bitrate\": 128000", channels: Int = 2,
    program: String = "\"mode\": \"vbr\"", outputs: String, runDirectory: String,
    api: String = "\"enabled\": false", events: String = ""
) -> String {
    """
    {
      "system": { "instance": "\(instance)", "runDirectory": "\(runDirectory)" },
      "source": { "type": "testsrc", "video": { "width": \(width), "height": \(height), "fps": \(fps) },
                  "audio": { "sampleRate": 48000, "channels": \(channels) } },
      "encoders": { "video": { "codec": "h264", "bitrate": \(videoBitrate), "keyint": \(keyint), "preset": "ultrafast" },
                    "audio": { \(audio) } },
      "program": { "serviceName": "Studio 1", "providerName": "Rill Tests", \(program) },
      "outputs": [ \(outputs) ],
      "events": [ \(events) ],
      "api": { \(api) }
    }
    """
}
