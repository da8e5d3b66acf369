import Config
import Runtime

#if canImport(Glibc)
import Glibc
#endif

/// The page's sessions on disk, so a restarted rilld takes them back: `sessions.json` (mode 0600)
/// in the instance's run directory (tmpfs: gone at a reboot), tagged with the kernel's boot id
/// because session times are CLOCK_MONOTONIC, which restarts at a reboot, and with the admin
/// password's fingerprint, so a password set with `rill passwd` while rilld was down ends them too.
/// Written at each login, logout and password change, never per request.
public enum SessionFile {
    /// The file in `instanceDirectory`.
    public static func path(instanceDirectory: String) -> String { "\(instanceDirectory)/sessions.json" }

    /// This boot's id (`/proc/sys/kernel/random/boot_id`), or "" where there is none.
    static var bootID: String {
        ((try? AtomicFile.read("/proc/sys/kernel/random/boot_id")) ?? "").filter { !$0.isWhitespace }
    }

    /// A store whose sessions are saved to `path` and that starts with those saved there in this
    /// boot under the same admin password (`password()`: its fingerprint); none when the file is
    /// missing, unreadable, malformed, from another boot or another password.
    public static func store(path: String, log: Log, password: @escaping @Sendable () -> String) -> SessionStore {
        let boot = bootID
        let store = SessionStore { sessions in
            let doc = document(sessions, boot: boot, password: password())
            do { try AtomicFile.write(doc.pretty, to: path, mode: 0o600, durable: false) } catch {
                log.warning("page sessions not saved to \(path): \(error)")
            }
        }
        let saved = load(path, boot: boot, password: password())
        store.restore(saved, now: MonotonicClock.now())
        if store.count > 0 { log.info("\(store.count) page session(s) taken back from \(path)") }
        return store
    }

    static func document(_ sessions: [SessionStore.Session], boot: String, password: String) -> JSON {
        .object([
            ("boot", .string(boot)), ("password", .string(password)),
            (
                "sessions",
                .array(
                    sessions.map {
                        .object([
                            ("id", .string($0.id)), ("csrf", .string($0.csrf)),
                            ("created", .number(Double($0.created))),
                        ])
                    })
            ),
        ])
    }

    /// The sessions saved at `path` in boot `boot`; none when anything is off.
    static func load(_ path: String, boot: String, password: String) -> [SessionStore.Session] {
        guard !boot.isEmpty, access(path, F_OK) == 0, let text = try? AtomicFile.read(path),
            let doc = try? JSONParser.parse(text), case .string(let saved) = doc["boot"] ?? .null, saved == boot,
            case .string(let savedPassword) = doc["password"] ?? .null, savedPassword == password,
            case .array(let items) = doc["sessions"] ?? .null
        else { return [] }
        return items.compactMap { item in
            // Monotonic ns of this boot: far below 2^53, so exact as a JSON number.
            guard case .string(let id) = item["id"] ?? .null, case .string(let csrf) = item["csrf"] ?? .null,
                case .number(let created) = item["created"] ?? .null, created.isFinite, abs(created) < 9e18
            else { return nil }
            return SessionStore.Session(id: id, csrf: csrf, created: Int64(created), lastUsed: 0)
        }
    }
}
