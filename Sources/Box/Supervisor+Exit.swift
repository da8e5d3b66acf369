#if canImport(Glibc)
import Glibc
#endif

extension Supervisor {
    /// What `waitpid` on one stage's pid says.
    enum Wait: Equatable {
        case running
        /// It exited with this wait status.
        case exited(Int32)
        /// It is not (any more) our child: its status went elsewhere (ECHILD).
        case lost
    }

    /// Collects `pid` if it has exited; never blocks, never touches another child.
    static func collect(_ pid: pid_t) -> Wait {
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return .exited(status) }
            if r == 0 { return .running }
            if errno == EINTR { continue }
            return .lost
        }
    }

    /// A wait status in words: "exited with status N" or "killed by signal N".
    static func describe(_ status: Int32) -> String {
        let sig = status & 0x7F
        if sig == 0 { return "exited with status \((status >> 8) & 0xFF)" }
        return "killed by signal \(sig)"
    }
}
