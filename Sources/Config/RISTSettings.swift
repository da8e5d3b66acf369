/// A `rist://` URL, as librist and MistServer write them: `rist://host:port` calls a peer,
/// `rist://@:port` (or `@group:port`) listens. `profile=simple|main` (default main, as librist)
/// is Rill's; every other option is librist's own and passes through to `rist_parse_address2`.
public struct RISTSettings: Sendable, Equatable {
    /// The RIST profile (`profile=`): Simple (TR-06-1) or Main (TR-06-2).
    public enum Profile: String, Sendable { case simple, main }

    /// Simple or Main (default Main).
    public var profile: Profile
    /// Listens (`@`, or no host) rather than calling.
    public var listener: Bool
    /// UDP port (Simple: the even RTP port; RTCP goes to port + 1).
    public var port: UInt16
    /// The URL handed to librist (without `profile`).
    public var libristURL: String
    /// The receive/send buffer, ms (`buffer=`, librist's default 1000).
    public var bufferMs: Int

    /// librist's URL options (tools/risturlhelp.h of librist 0.2.7) that Rill lets through.
    public static let libristOptions: Set<String> = [
        "buffer", "buffer-min", "buffer-max", "bandwidth", "return-bandwidth", "reorder-buffer", "rtt", "rtt-min",
        "rtt-max", "secret", "aes-type", "cname", "weight", "miface", "session-timeout", "keepalive-interval",
        "congestion-control", "min-retries", "max-retries", "timing-mode", "virt-dst-port", "username", "password",
    ]
    /// librist's shortest accepted PSK is 1 character; a contribution link wants more (as SRT's 10).
    public static let minimumSecret = 10

    /// Parses and validates the `rist://` URL `text`; `path` names the config field for errors.
    public static func parse(_ text: String, path: String) throws(ConfigError) -> RISTSettings {
        let url = try MediaURL.parse(text, path: path)
        guard url.scheme == "rist" else { throw ConfigError(path: path, reason: "not a rist:// URL") }
        var profile = Profile.main
        for (k, v) in url.options {
            if k == "profile" {
                guard let p = Profile(rawValue: v.lowercased()) else {
                    throw ConfigError(path: path, reason: "profile=\(v): expected simple or main")
                }
                profile = p
            } else if !libristOptions.contains(k) {
                throw ConfigError(
                    path: path,
                    reason:
                        "unknown option \"\(k)\" (allowed: profile, \(libristOptions.sorted().joined(separator: ", ")))"
                )
            }
        }
        // TR-06-1 §5.1: RTP on an even port P, RTCP on P + 1.
        if profile == .simple && url.port % 2 != 0 {
            throw ConfigError(
                path: path,
                reason:
                    "port \(url.port) is odd: the RIST Simple profile sends RTP to an even port and RTCP to the next (TR-06-1)"
            )
        }
        if let secret = url.option("secret") {
            guard profile == .main else {
                throw ConfigError(
                    path: path, reason: "secret needs profile=main (the Simple profile has no encryption)")
            }
            guard secret.count >= minimumSecret else {
                throw ConfigError(path: path, reason: "secret must be at least \(minimumSecret) characters")
            }
        }
        if let aes = url.option("aes-type") {
            guard aes == "128" || aes == "256" else {
                throw ConfigError(path: path, reason: "aes-type=\(aes): 128 or 256")
            }
            guard url.option("secret") != nil else { throw ConfigError(path: path, reason: "aes-type without secret") }
        }
        var bufferMs = 1000
        if let b = url.option("buffer") {
            guard let v = Int(b), (50...30_000).contains(v) else {
                throw ConfigError(path: path, reason: "buffer=\(b): 50…30000 ms")
            }
            bufferMs = v
        }
        let afterScheme = text.dropFirst("rist://".count)
        let listener = afterScheme.hasPrefix("@") || url.host.isEmpty
        // librist reads the options as written (its own escaping rules): pass the query text on
        // untouched, without Rill's `profile`.
        let rawQuery = text.split(separator: "?", maxSplits: 1).dropFirst().first ?? ""
        let query = rawQuery.split(separator: "&").filter { !$0.lowercased().hasPrefix("profile=") }.joined(
            separator: "&")
        let host = url.host.isEmpty ? "0.0.0.0" : url.host
        let libristURL = "rist://\(listener ? "@" : "")\(host):\(url.port)\(query.isEmpty ? "" : "?" + query)"
        return RISTSettings(
            profile: profile, listener: listener, port: url.port, libristURL: libristURL, bufferMs: bufferMs)
    }
}
