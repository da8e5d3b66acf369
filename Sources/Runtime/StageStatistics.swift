import MediaTime

#if canImport(Glibc)
import Glibc
#endif

/// A stage's counters, written once a second as JSON to `<run>/<instance>/stats/<stage>.json`
/// (the supervisor's status and metrics read them): frames, bytes, drops, and the rates over the
/// last interval. Written by rename, so a reader never sees half a file; not fsync'ed (run-time
/// state, lost with the box).
public struct StageStatistics: Sendable {
    /// The JSON file `tick` writes (nil: counted, not written).
    public let path: String?
    /// Frames (records) counted since the stage started; the mux counts TS packets.
    public var frames: UInt64 = 0
    /// Payload bytes counted since the stage started.
    public var bytes: UInt64 = 0
    /// Frames the stage dropped or lost, as the stage counts them (set by the stage).
    public var dropped: UInt64 = 0
    private var lastWrite: Int64 = 0
    private var lastFrames: UInt64 = 0
    private var lastBytes: UInt64 = 0

    /// Statistics written to `path` (nil: counted, not written).
    public init(path: String?) { self.path = path }

    /// The file of stage `stage` of an instance.
    public static func path(runDirectory: String, instance: String, stage: String) -> String {
        "\(runDirectory)/\(instance)/stats/\(stage).json"
    }

    /// Counts one frame (record) of `bytes`.
    public mutating func count(bytes n: Int) {
        frames &+= 1
        bytes &+= UInt64(n)
    }

    /// Writes the file when a second has passed; `extra` is more members, `"key":value,…`.
    public mutating func tick(extra: @autoclosure () -> String = "") {
        let now = MonotonicClock.now()
        if lastWrite == 0 {
            lastWrite = now
            return
        }
        let dt = now - lastWrite
        guard dt >= MediaTime.nanosecondsPerSecond, let path else { return }
        let fps = Double(frames - lastFrames) * 1e9 / Double(dt)
        let bps = Double(bytes - lastBytes) * 8e9 / Double(dt)
        lastWrite = now
        lastFrames = frames
        lastBytes = bytes
        let more = extra()
        let text =
            "{\"frames\":\(frames),\"bytes\":\(bytes),\"dropped\":\(dropped),\"fps\":\((fps * 100).rounded() / 100),"
            + "\"bitrate\":\(Int64(bps))\(more.isEmpty ? "" : "," + more)}\n"
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        var b = Array(text.utf8)
        let n = b.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        if n == b.count { rename(tmp, path) } else { unlink(tmp) }
    }
}
