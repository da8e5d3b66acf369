import CRillShims
import Config
import MediaTime
import Runtime
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The handler processes one owner (rilld's event worker) has running, so that a stop can kill
/// them instead of waiting: a hung handler never holds the box's shutdown up.
public final class HandlerProcesses: Sendable {
    private let pids = Mutex<Set<Int32>>([])

    /// An empty set.
    public init() {}

    /// How many handler processes are running.
    public var count: Int { pids.withLock { $0.count } }

    func add(_ pid: Int32) { pids.withLock { _ = $0.insert(pid) } }
    func remove(_ pid: Int32) { pids.withLock { _ = $0.remove(pid) } }

    /// SIGKILLs every running handler's process group (each handler runs in its own group); the
    /// runs waiting for them then report "killed by signal 9". Returns how many were killed.
    @discardableResult
    public func killAll() -> Int {
        let list = pids.withLock { $0 }
        for pid in list {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
        }
        return list.count
    }
}

/// Runs one handler for one event: an executable (argv = [handler, EVENT, arguments…], payload on
/// stdin, answer on stdout, no shell) or an http:// URL (POST, payload as the body, `X-Rill-Event`
/// header, answer in the response body). Both are bounded by the handler's timeout.
///
/// An executable's exit status is collected with `waitpid` on its own pid only; a status that
/// someone else collected counts as a failure, never as a delivery.
public enum HandlerRunner {
    /// What a handler said.
    public struct Outcome: Sendable, Equatable {
        /// First line of the answer (stdout or response body), nil when the handler failed.
        public var answer: String?
        /// Why the handler failed (for the log), nil on success.
        public var failure: String?
    }

    /// Longest answer read from a handler.
    static let maxAnswer = 4096
    /// Non-blocking events: how long a handler may run before it is killed.
    public static let nonBlockingTimeoutMs: Int64 = 10_000

    /// Runs `h` for `event` on the calling thread and waits for its answer (at most the handler's
    /// timeout, ≥ `nonBlockingTimeoutMs` for fire-and-forget events). `processes`, when given,
    /// holds the handler's pid while it runs (for `HandlerProcesses.killAll` at shutdown).
    public static func run(_ h: EventHandlerSection, _ event: Event, processes: HandlerProcesses? = nil) -> Outcome {
        let timeout = event.kind.isBlocking ? h.timeout : max(h.timeout, nonBlockingTimeoutMs)
        if h.isURL {
            do {
                let url = try HTTPURL.parse(h.handler, path: "handler")
                let r = try PlainHTTP.request(
                    "POST", url,
                    headers: [("X-Rill-Event", event.kind.rawValue), ("Content-Type", "text/plain; charset=utf-8")]
                        + (event.output.map { [("X-Rill-Output", Event.escape($0))] } ?? []),
                    body: Array(event.payload.utf8), timeoutMs: timeout)
                guard (200..<300).contains(r.status) else {
                    return Outcome(answer: nil, failure: "HTTP status \(r.status)")
                }
                return Outcome(answer: firstLine(r.body), failure: nil)
            } catch {
                return Outcome(answer: nil, failure: "\(error)")
            }
        }
        return runExecutable(h, event, timeoutMs: timeout, processes: processes)
    }

    static func firstLine(_ bytes: [UInt8]) -> String {
        let line = bytes.prefix(maxAnswer).split(separator: 10, omittingEmptySubsequences: false).first ?? []
        return String(decoding: line, as: UTF8.self).trimmingSpaces.filter { $0 != "\r" }
    }

    static func runExecutable(_ h: EventHandlerSection, _ event: Event, timeoutMs: Int64, processes: HandlerProcesses?)
        -> Outcome
    {
        var input: [Int32] = [0, 0]
        var output: [Int32] = [0, 0]
        guard rill_pipe_cloexec(&input) == 0 else {
            return Outcome(answer: nil, failure: "pipe: \(String(cString: strerror(errno)))")
        }
        guard rill_pipe_cloexec(&output) == 0 else {
            close(input[0])
            close(input[1])
            return Outcome(answer: nil, failure: "pipe: \(String(cString: strerror(errno)))")
        }
        var argv: [UnsafeMutablePointer<CChar>?] =
            ([h.handler, event.kind.rawValue] + h.arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: Int32 = 0
        let rc = rill_spawn_io(&pid, h.handler, &argv, input[0], output[1])
        close(input[0])
        close(output[1])
        guard rc == 0 else {
            close(input[1])
            close(output[0])
            return Outcome(answer: nil, failure: "cannot run \(h.handler): \(String(cString: strerror(rc)))")
        }
        processes?.add(pid)
        defer { processes?.remove(pid) }
        let deadline = MonotonicClock.now() + timeoutMs * MediaTime.millisecond
        // The payload is small (< 8 KiB, below the pipe buffer): one non-blocking write, then EOF.
        _ = fcntl(input[1], F_SETFL, O_NONBLOCK)
        let payload = Array(event.payload.utf8)
        _ = payload.withUnsafeBytes { write(input[1], $0.baseAddress, $0.count) }
        close(input[1])
        var answer: [UInt8] = []
        var timedOut = false
        while answer.count < maxAnswer {
            let left = (deadline - MonotonicClock.now()) / MediaTime.millisecond
            if left <= 0 {
                timedOut = true
                break
            }
            var p = pollfd(fd: output[0], events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, Int32(clamping: left))
            if r < 0 && errno == EINTR { continue }
            if r <= 0 {
                timedOut = r == 0
                break
            }
            var tmp = [UInt8](repeating: 0, count: 1024)
            let n = tmp.withUnsafeMutableBytes { read(output[0], $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            answer += tmp[0..<n]
        }
        close(output[0])
        var status: Int32 = 0
        // Wait for the exit until the deadline; past it, kill the handler's process group.
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno == EINTR { continue }
            if r < 0 {
                // Only this run waits for `pid`; ECHILD means its status is lost, not that it succeeded.
                return Outcome(
                    answer: nil, failure: "\(h.handler): exit status lost (\(String(cString: strerror(errno))))")
            }
            if timedOut || MonotonicClock.now() >= deadline {
                kill(-pid, SIGKILL)
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                return Outcome(answer: nil, failure: "\(h.handler) did not finish within \(timeoutMs) ms; killed")
            }
            MonotonicClock.sleep(until: MonotonicClock.now() + 2 * MediaTime.millisecond)
        }
        let exited = status & 0x7F == 0
        let code = (status >> 8) & 0xFF
        guard exited, code == 0 else {
            return Outcome(
                answer: nil,
                failure: exited
                    ? "\(h.handler) exited with status \(code)" : "\(h.handler) killed by signal \(status & 0x7F)")
        }
        return Outcome(answer: firstLine(answer), failure: nil)
    }
}
