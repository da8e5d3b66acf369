import Foundation

// Readiness conditions for `waitFor(timeout:_:)`: what a test polls instead of sleeping.

/// Whether a socket is bound to local UDP `port` or listens on TCP `port`, as `ss` (iproute2)
/// reports it, inside `namespace` when given: the readiness of a peer that has no other signal.
public func portListening(_ port: Int, _ transport: PortTransport, in namespace: NetworkNamespace? = nil) -> Bool {
    let flags = transport == .tcp ? "-Hltn" : "-Hlun"
    let command = (namespace?.command([]) ?? []) + ["ss", flags, "sport = :\(port)"]
    guard let r = try? runProcess(command, timeout: 5), r.status == 0 else { return false }
    return !r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
}

/// When `path` was last modified, or nil when it does not exist: "a stats file rewritten after X".
public func modificationDate(_ path: String) -> Date? {
    (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
}

/// The size of `path` in bytes, 0 when it does not exist: "a capture or recording has started".
public func fileSize(_ path: String) -> Int64 {
    var st = stat()
    return stat(path, &st) == 0 ? Int64(st.st_size) : 0
}

/// Waits until `value` (a file's size, a counter) holds still for `settle` seconds, or `timeout`
/// seconds pass; returns whether it settled: "the relay has drained", "the recording is complete".
public func waitUntilSettled(timeout: Double, settle: Double = 0.5, _ value: () -> Int64) -> Bool {
    var last = value()
    return waitFor(timeout: timeout, interval: settle) {
        let now = value()
        defer { last = now }
        return now == last
    }
}

/// Whether `pid` is a live process: it exists and is not a zombie (state Z or X in
/// /proc/PID/stat). A killed orphan stays a zombie until init reaps it, and kill(pid, 0) still
/// succeeds on a zombie, so "it was killed" must not be read from kill(pid, 0).
public func processAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(after: close)...].drop { $0 == " " }.first
    return state != nil && state != "Z" && state != "X"
}
