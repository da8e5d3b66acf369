import Config
import HummingbirdBcrypt
import Runtime
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The API's credentials file: the admin password and the script tokens, each stored only as a
/// bcrypt hash. A token is `rill_<id>_<secret>`: the id finds the entry, bcrypt checks the secret.
/// Verified credentials are remembered for the process's life so each costs one bcrypt only.
public final class Credentials: Sendable {
    /// bcrypt cost: ~50 ms per check on a small ARM board, paid once per credential per process.
    public static let cost: UInt8 = 10

    /// A script token: its name, its id and the bcrypt hash of its secret.
    public struct Token: Sendable {
        /// The token's name (`rill token`), for listing and removing it.
        public var name: String
        /// The id part of `rill_<id>_<secret>`, which finds the entry.
        public var id: String
        /// bcrypt hash of the secret.
        public var hash: String
    }

    struct State {
        var adminHash: String? = nil
        var tokens: [Token] = []
        var verified: Set<String> = []
    }

    /// The credentials file (`api.credentials`).
    public let path: String
    private let state: Mutex<State>

    /// Loads `path` (missing: no credentials yet).
    public init(path: String) throws {
        self.path = path
        var s = State()
        if access(path, F_OK) == 0 {
            let text = try AtomicFile.read(path)
            let json = try JSONParser.parse(text)
            if case .string(let h) = json["admin"] ?? .null { s.adminHash = h }
            if case .array(let items) = json["tokens"] ?? .null {
                for item in items {
                    guard case .string(let name) = item["name"] ?? .null, case .string(let id) = item["id"] ?? .null,
                        case .string(let hash) = item["bcrypt"] ?? .null
                    else { continue }
                    s.tokens.append(Token(name: name, id: id, hash: hash))
                }
            }
        }
        state = Mutex(s)
    }

    /// The shortest admin password accepted (`rill passwd`, the page's password change).
    public static let minimumPasswordLength = 8

    /// Whether an admin password is set (the page's login needs one).
    public var hasAdminPassword: Bool { state.withLock { $0.adminHash != nil } }

    /// Whether anything can log in.
    public var isEmpty: Bool { state.withLock { $0.adminHash == nil && $0.tokens.isEmpty } }

    /// The tokens' names, in file order.
    public var tokenNames: [String] { state.withLock { $0.tokens.map(\.name) } }

    /// Checks the admin password.
    public func verifyAdmin(_ password: String) -> Bool {
        let key = "admin:" + password
        guard let hash = state.withLock({ s -> String? in s.verified.contains(key) ? "" : s.adminHash }) else {
            return false
        }
        if hash.isEmpty { return true }
        guard Bcrypt.verify(password, hash: hash) else { return false }
        remember(key)
        return true
    }

    /// Checks a bearer token.
    public func verifyToken(_ token: String) -> Bool {
        let parts = token.split(separator: "_")
        guard parts.count == 3, parts[0] == "rill" else { return false }
        let key = "token:" + token
        guard
            let hash = state.withLock({ s -> String? in
                if s.verified.contains(key) { return "" }
                return s.tokens.first { $0.id == parts[1] }?.hash
            })
        else { return false }
        if hash.isEmpty { return true }
        guard Bcrypt.verify(String(parts[2]), hash: hash) else { return false }
        remember(key)
        return true
    }

    private func remember(_ key: String) {
        state.withLock {
            if $0.verified.count > 64 { $0.verified.removeAll() }
            $0.verified.insert(key)
        }
    }

    /// Sets the admin password and saves.
    /// The file is written first: a password that could not be saved does not take effect (it
    /// would be lost at the next start while the old one came back).
    public func setAdminPassword(_ password: String) throws {
        let h = Bcrypt.hash(password, cost: Self.cost)
        var next = state.withLock { $0 }
        next.adminHash = h
        try save(next)
        state.withLock {
            $0.adminHash = h
            $0.verified.removeAll()
        }
    }

    /// A fingerprint of the admin password's hash (FNV-1a, 64 bits, hex): changes whenever the
    /// password is set again (bcrypt salts every hash anew), so saved page sessions can tell that
    /// `rill passwd` changed it while rilld was down. Not a secret, not a hash of the password.
    public var adminFingerprint: String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in (state.withLock { $0.adminHash } ?? "").utf8 {
            h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3
        }
        return String(h, radix: 16)
    }

    /// Adds (or replaces) the token `name`; returns the token, shown once.
    public func addToken(name: String) throws -> String {
        let id = RandomHex.make(bytes: 4)
        let secret = RandomHex.make(bytes: 16)
        let h = Bcrypt.hash(secret, cost: Self.cost)
        state.withLock { s in
            s.tokens.removeAll { $0.name == name }
            s.tokens.append(Token(name: name, id: id, hash: h))
        }
        try save()
        return "rill_\(id)_\(secret)"
    }

    /// Removes the token `name`; false if there was none.
    public func removeToken(name: String) throws -> Bool {
        let removed = state.withLock { s -> Bool in
            let n = s.tokens.count
            s.tokens.removeAll { $0.name == name }
            s.verified.removeAll()
            return s.tokens.count != n
        }
        if removed { try save() }
        return removed
    }

    func save() throws { try save(state.withLock { $0 }) }

    func save(_ s: State) throws {
        let json: JSON = {
            var m: [(String, JSON)] = []
            if let a = s.adminHash { m.append(("admin", .string(a))) }
            m.append(
                (
                    "tokens",
                    .array(
                        s.tokens.map {
                            .object([("name", .string($0.name)), ("id", .string($0.id)), ("bcrypt", .string($0.hash))])
                        })
                ))
            return .object(m)
        }()
        try AtomicFile.makeDirectories(AtomicFile.directory(of: path))
        try AtomicFile.write(json.pretty, to: path, mode: 0o600)
    }
}
