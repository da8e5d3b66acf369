import Runtime

#if canImport(Glibc)
import Glibc
#endif

/// Where rilld keeps its run-time files (rings' companions, statistics, event socket, the default
/// config) when the configured directory cannot be used: a box run by a user without root cannot
/// write `/run/rill`. rilld picks with `usable`; readers (`rill status`) look in `candidates`.
public enum RunDirectory {
    /// The places to try, best first: `preferred`, then `$XDG_RUNTIME_DIR/rill` (when the variable
    /// is set), then `/tmp/rill-<uid>`.
    public static func candidates(
        preferred: String, xdgRuntimeDirectory: String? = environment("XDG_RUNTIME_DIR"), uid: UInt32 = getuid()
    ) -> [String] {
        var list = [preferred]
        if let xdg = xdgRuntimeDirectory, !xdg.isEmpty { list.append(xdg + "/rill") }
        list.append("/tmp/rill-\(uid)")
        return list
    }

    /// The first of `candidates(preferred:…)` that can be created and written, logging a notice
    /// when it is not `preferred`; `preferred` itself when none can (its users then report why).
    public static func usable(
        _ preferred: String, xdgRuntimeDirectory: String? = environment("XDG_RUNTIME_DIR"), uid: UInt32 = getuid(),
        log: Log
    ) -> String {
        let list = candidates(preferred: preferred, xdgRuntimeDirectory: xdgRuntimeDirectory, uid: uid)
        guard let found = firstUsable(list) else { return preferred }
        if found != preferred { log.notice("\(preferred) is not writable; using \(found)") }
        return found
    }

    /// The first directory of `list` that exists or can be made (with its parents) and is writable.
    static func firstUsable(_ list: [String]) -> String? {
        list.first { (try? AtomicFile.makeDirectories($0)) != nil && access($0, W_OK) == 0 }
    }

    /// An environment variable's value, nil when unset.
    public static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}
