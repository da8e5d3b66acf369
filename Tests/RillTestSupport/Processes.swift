import Foundation

/// The outcome of a finished process.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// Whether it was killed because it overran its timeout.
    public var timedOut: Bool
}

/// Runs `arguments` (argv[0] looked up on PATH) with a timeout, capturing stdout and stderr.
/// Tests wait on conditions with deadlines, never on sleeps; this is the deadline for one process.
@discardableResult
public func runProcess(_ arguments: [String], timeout: Double = 60, stdin: String? = nil) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let input = Pipe()
    p.standardInput = stdin == nil ? FileHandle.nullDevice : input
    try p.run()
    if let stdin {
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try? input.fileHandleForWriting.close()
    }
    // Read both pipes concurrently so a chatty process never blocks on a full pipe.
    let outData = LockedData()
    let errData = LockedData()
    let group = DispatchGroup()
    for (pipe, sink) in [(out, outData), (err, errData)] {
        group.enter()
        DispatchQueue.global().async {
            sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
    }
    let (exit, timedOut) = reap(p, killAfter: timeout)
    group.wait()
    return ProcessResult(
        status: exit, stdout: String(decoding: outData.get(), as: UTF8.self),
        stderr: String(decoding: errData.get(), as: UTF8.self), timedOut: timedOut)
}

/// Waits for `p` to exit, SIGKILLing it after `killAfter` seconds; returns its exit status (128 +
/// signal when killed) and whether it had to be killed. Reaps it itself: Foundation's child
/// monitoring is not reliable under the test runner; if Foundation got there first, waitpid says
/// ECHILD and Foundation's status stands.
public func reap(_ p: Process, killAfter: Double) -> (status: Int32, killed: Bool) {
    let deadline = Date().addingTimeInterval(killAfter)
    let pid = p.processIdentifier
    var status: Int32 = 0
    var killed = false
    while true {
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid { return ((status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F), killed) }
        if r < 0 && errno == ECHILD {
            _ = waitFor(timeout: 5) { !p.isRunning }
            return (p.terminationReason == .exit ? p.terminationStatus : 128 + p.terminationStatus, killed)
        }
        if Date() >= deadline, !killed {
            killed = true
            kill(pid, SIGKILL)
        } else {
            usleep(5_000)
        }
    }
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) {
        lock.lock()
        data = d
        lock.unlock()
    }
    func get() -> Data {
        lock.lock()
        defer { lock.unlock() }
        return data
    }
}

/// Whether `tool` is on PATH.
public func toolAvailable(_ tool: String) -> Bool {
    (try? runProcess(["which", tool], timeout: 5).status) == 0
}

/// The package root (the directory holding Package.swift).
public func packageRoot(file: String = #filePath) -> String {
    var url = URL(fileURLWithPath: file)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
    }
    return FileManager.default.currentDirectoryPath
}

/// The `rill` executable built next to the tests (debug unless RILL_BINARY says otherwise).
public func rillBinary() -> String {
    if let env = ProcessInfo.processInfo.environment["RILL_BINARY"] { return env }
    let root = packageRoot()
    for candidate in [".build/debug/rill", ".build/release/rill"] {
        let path = "\(root)/\(candidate)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return "\(root)/.build/debug/rill"
}

/// A fresh temporary directory.
public func makeTemporaryDirectory(_ label: String) -> String {
    let path = NSTemporaryDirectory() + "rill-test-\(label)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Waits until `condition` holds or `timeout` seconds pass; returns whether it held.
public func waitFor(timeout: Double, interval: Double = 0.05, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(useconds_t(interval * 1_000_000))
    }
    return condition()
}
