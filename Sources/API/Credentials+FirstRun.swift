import Box
import Config
import Runtime

#if canImport(Glibc)
import Glibc
#endif

/// The first-run token policy of rilld.
extension Credentials {
    /// The API's credentials at `api.credentials`, or at `<instanceDirectory>/credentials.json` when
    /// that file does not exist and cannot be created there (a read-only /etc). On first run (no
    /// admin password and no token yet) a token named "first-run" is added and written, mode 0600,
    /// to `token` beside the credentials file, and `log` says where; returns the credentials and
    /// that token file (nil when the credentials already held something).
    public static func openForBox(
        _ api: APISection, instanceDirectory: String, log: Log
    ) throws -> (credentials: Credentials, firstRunTokenFile: String?) {
        var path = api.credentials
        if access(path, F_OK) != 0, !ConfigStore.isWritable(path) {
            path = "\(instanceDirectory)/credentials.json"
        }
        let c = try Credentials(path: path)
        guard c.isEmpty else { return (c, nil) }
        let token = try c.addToken(name: "first-run")
        let tokenFile = AtomicFile.directory(of: path) + "/token"
        try AtomicFile.write(token + "\n", to: tokenFile, mode: 0o600)
        log.notice("first run: API token written to \(tokenFile) (set an admin password with `rill passwd`)")
        return (c, tokenFile)
    }
}
