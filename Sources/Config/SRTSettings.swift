/// An `srt://` URL resolved by the seed's rules (the same as srt-live-transmit's and MistServer's):
/// `srt://HOST:PORT` ⇒ caller, `srt://:PORT` ⇒ listener on all interfaces, `?mode=` overrides,
/// `srt://HOST:PORT?mode=listener` binds HOST. Every libsrt socket option is a lower-case query
/// parameter without `SRTO_`; unknown options are errors.
public struct SRTSettings: Sendable, Equatable {
    /// The SRT connection mode (`mode=`; default: caller with a host, listener without).
    public enum Mode: String, Sendable { case caller, listener, rendezvous }

    /// Caller, listener or rendezvous, as resolved from the URL.
    public var mode: Mode
    /// Remote host (caller, rendezvous) or bind address (listener; empty = all interfaces).
    public var host: String
    /// Remote port (caller, rendezvous) or the port to listen on (listener).
    public var port: UInt16
    /// Validated libsrt options by their lower-case name, in URL order (values as written).
    public var options: [(String, String)]
    /// Listener access control: stream ids allowed to connect (Rill's own `accept` option,
    /// comma-separated); nil = anyone (who knows the passphrase, if one is set).
    public var accept: [String]?
    /// Rendezvous: the local port to bind (Rill's own `localport`; default: the remote port, as
    /// srt-live-transmit does without `port=`).
    public var localPort: UInt16?

    /// Equal when mode, host, port, accept list, local port and options (in order) are.
    public static func == (a: SRTSettings, b: SRTSettings) -> Bool {
        a.mode == b.mode && a.host == b.host && a.port == b.port && a.accept == b.accept && a.localPort == b.localPort
            && a.options.elementsEqual(b.options, by: { $0 == $1 })
    }

    /// What each libsrt option accepts (API-socket-options.md of libsrt 1.5).
    public enum Kind: Sendable { case int(ClosedRange<Int64>), bool, string(ClosedRange<Int>), choice([Int64]) }

    /// Options Rill passes to libsrt, with their value rules. `latency` & co. are milliseconds
    /// (FFmpeg's `latency` is in microseconds — see the README).
    public static let optionKinds: [String: Kind] = [
        "latency": .int(0...60_000), "rcvlatency": .int(0...60_000), "peerlatency": .int(0...60_000),
        "passphrase": .string(10...79), "pbkeylen": .choice([0, 16, 24, 32]), "streamid": .string(0...512),
        "packetfilter": .string(1...512), "maxbw": .int(-1...1_000_000_000_000), "inputbw": .int(0...1_000_000_000_000),
        "oheadbw": .int(5...100), "payloadsize": .int(188...1456), "tlpktdrop": .bool, "conntimeo": .int(100...120_000),
        "peeridletimeo": .int(100...600_000), "linger": .int(0...3600), "ipttl": .int(1...255), "iptos": .int(0...255),
        "retransmitalgo": .choice([0, 1]),
    ]

    /// Resolves and validates `url` (scheme srt); `path` names the config field for errors.
    public static func parse(_ url: MediaURL, path: String) throws(ConfigError) -> SRTSettings {
        var mode: Mode = url.host.isEmpty ? .listener : .caller
        var options: [(String, String)] = []
        var accept: [String]? = nil
        var localPort: UInt16? = nil
        for (k, v) in url.options {
            switch k {
            case "mode":
                guard let m = Mode(rawValue: v) else {
                    throw ConfigError(path: path, reason: "mode \"\(v)\" must be caller, listener or rendezvous")
                }
                mode = m
            case "localport":
                guard let p = UInt16(v), p > 0 else {
                    throw ConfigError(path: path, reason: "localport \"\(v)\" must be 1…65535")
                }
                localPort = p
            case "accept":
                let list = v.split(separator: ",").map(String.init).filter { !$0.isEmpty }
                guard !list.isEmpty else {
                    throw ConfigError(path: path, reason: "accept must list at least one stream id")
                }
                accept = list
            default:
                guard let kind = optionKinds[k] else {
                    throw ConfigError(
                        path: path,
                        reason:
                            "unknown option \"\(k)\" (allowed: mode, accept, localport, \(optionKinds.keys.sorted().joined(separator: ", ")))"
                    )
                }
                try check(k, v, kind, path: path)
                options.append((k, v))
            }
        }
        if mode != .listener && url.host.isEmpty {
            throw ConfigError(path: path, reason: "\(mode.rawValue) mode needs a host (srt://HOST:PORT)")
        }
        if accept != nil && mode != .listener {
            throw ConfigError(path: path, reason: "accept applies to listeners only")
        }
        if let size = options.first(where: { $0.0 == "payloadsize" })?.1, let n = Int(size), n % 188 != 0 {
            throw ConfigError(path: path, reason: "payloadsize \(n) must be a multiple of 188 (whole TS packets)")
        }
        if localPort != nil && mode != .rendezvous {
            throw ConfigError(path: path, reason: "localport applies to rendezvous only")
        }
        return SRTSettings(
            mode: mode, host: url.host, port: url.port, options: options, accept: accept, localPort: localPort)
    }

    static func check(_ key: String, _ v: String, _ kind: Kind, path: String) throws(ConfigError) {
        switch kind {
        case .int(let range):
            guard let n = Int64(v), range.contains(n) else {
                throw ConfigError(
                    path: path, reason: "\(key)=\(v) must be an integer in \(range.lowerBound)…\(range.upperBound)")
            }
        case .bool:
            guard ["0", "1", "true", "false", "yes", "no", "on", "off"].contains(v.lowercased()) else {
                throw ConfigError(path: path, reason: "\(key)=\(v) must be true or false")
            }
        case .string(let range):
            guard range.contains(v.utf8.count) else {
                throw ConfigError(
                    path: path,
                    reason: "\(key) must be \(range.lowerBound)–\(range.upperBound) characters, got \(v.utf8.count)")
            }
        case .choice(let values):
            guard let n = Int64(v), values.contains(n) else {
                throw ConfigError(
                    path: path, reason: "\(key)=\(v) must be one of \(values.map(String.init).joined(separator: ", "))")
            }
        }
    }

    /// The value of `key` if set.
    public func option(_ key: String) -> String? { options.first { $0.0 == key }?.1 }
}
