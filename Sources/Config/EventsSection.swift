/// The box's events (the seed's triggers). Each handler is an executable (payload on stdin, argv
/// without a shell) or an `http://` URL (payload POSTed), as in MistServer's triggers.
public enum EventKind: String, Sendable, CaseIterable {
    case systemStart = "SYSTEM_START"
    case systemStop = "SYSTEM_STOP"
    case configChanged = "CONFIG_CHANGED"
    case stageRestart = "STAGE_RESTART"
    case inputSignal = "INPUT_SIGNAL"
    case outputStart = "OUTPUT_START"
    case outputEnd = "OUTPUT_END"
    case outputConnect = "OUTPUT_CONNECT"
    case outputDisconnect = "OUTPUT_DISCONNECT"
    /// Blocking: the handler's answer accepts, rejects or renames an SRT connection.
    case srtAccept = "SRT_ACCEPT"
    case recordingEnd = "RECORDING_END"
    /// The programme's audio went silent (`start`) or came back (`end`): `monitoring.silence*`.
    case audioSilence = "AUDIO_SILENCE"
    /// The programme's audio clips (`start`), or has not for `monitoring.clipHoldSeconds` (`end`).
    case audioClip = "AUDIO_CLIP"

    /// Whether the box waits for the handler's answer.
    public var isBlocking: Bool { self == .srtAccept }

    /// The payload's lines, in order (the README's event table).
    public var fields: [String] {
        switch self {
        case .systemStart: ["instance", "version"]
        case .systemStop: ["instance", "reason"]
        case .configChanged: ["sections", "stages restarted"]
        case .stageRestart: ["stage", "reason", "restarts", "state"]
        case .inputSignal: ["state", "source"]
        case .outputStart: ["output", "url"]
        case .outputEnd: ["output", "url", "reason"]
        case .outputConnect, .outputDisconnect: ["output", "peer", "streamid"]
        case .srtAccept: ["output", "peer", "streamid"]
        case .recordingEnd: ["output", "path", "duration seconds", "bytes"]
        case .audioSilence: ["state", "level dBFS", "seconds"]
        case .audioClip: ["state", "channels", "peak dBFS"]
        }
    }
}

/// `events[i]`: one handler.
public struct EventHandlerSection: Sendable, Equatable {
    /// The events this handler receives.
    public var on: [EventKind]
    /// An absolute executable path or an `http://host[:port]/path` URL.
    public var handler: String
    /// Extra arguments for an executable handler (after the event name).
    public var arguments: [String] = []
    /// Only events of these outputs (nil: all).
    public var outputs: [String]? = nil
    /// Blocking events: how long to wait for the answer, ms.
    public var timeout: Int64 = 2000
    /// Blocking events: the answer when the handler fails or times out ("accept" or "reject").
    public var defaultAnswer = "reject"

    /// A handler for the events `on`, run as `handler` (an executable path or an http:// URL).
    public init(on: [EventKind], handler: String) {
        self.on = on
        self.handler = handler
    }

    /// Whether this handler wants `kind` of `output`.
    public func matches(_ kind: EventKind, output: String?) -> Bool {
        guard on.contains(kind) else { return false }
        guard let outputs, let output else { return true }
        return outputs.contains(output)
    }

    /// Whether the handler is a URL (else an executable).
    public var isURL: Bool { handler.hasPrefix("http://") }

    static func decode(_ o: inout ObjectReader) throws(ConfigError) -> EventHandlerSection {
        guard let on = try o.array("on"), !on.isEmpty else {
            throw ConfigError(path: o.path("on"), reason: "required: a list of event names")
        }
        var kinds: [EventKind] = []
        for (i, v) in on.enumerated() {
            guard case .string(let s) = v, let k = EventKind(rawValue: s) else {
                throw ConfigError(
                    path: "\(o.path("on"))[\(i)]",
                    reason: "not an event (\(EventKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            kinds.append(k)
        }
        guard let handler = try o.string("handler") else {
            throw ConfigError(path: o.path("handler"), reason: "required")
        }
        if handler.hasPrefix("http://") {
            _ = try HTTPURL.parse(handler, path: o.path("handler"))
        } else if !handler.hasPrefix("/") {
            throw ConfigError(
                path: o.path("handler"),
                reason: "must be an absolute executable path or an http:// URL (https: use an executable such as curl)")
        }
        var h = EventHandlerSection(on: kinds, handler: handler)
        if let args = try o.array("arguments") {
            h.arguments = try args.enumerated().map { (i, v) throws(ConfigError) -> String in
                guard case .string(let s) = v else {
                    throw ConfigError(path: "\(o.path("arguments"))[\(i)]", reason: "must be a string")
                }
                return s
            }
        }
        if let outs = try o.array("outputs") {
            h.outputs = try outs.enumerated().map { (i, v) throws(ConfigError) -> String in
                guard case .string(let s) = v else {
                    throw ConfigError(path: "\(o.path("outputs"))[\(i)]", reason: "must be an output id")
                }
                return s
            }
        }
        if let t = try o.int("timeout", in: 10...60_000) { h.timeout = t }
        if let d = try o.choice("default", ["accept", "reject"]) { h.defaultAnswer = d }
        try o.finish()
        return h
    }
}

/// An `http://host[:port]/path` URL (event handlers, `rill ctl --api`).
public struct HTTPURL: Sendable, Equatable {
    /// Host name, IPv4 address or IPv6 address (without its brackets).
    public var host: String
    /// TCP port (default 80).
    public var port: UInt16
    /// Path and query, starting with "/".
    public var target: String

    /// Parses `text` (`http://host[:port]/path`); `path` names the config field for errors.
    public static func parse(_ text: String, path: String) throws(ConfigError) -> HTTPURL {
        guard text.hasPrefix("http://") else { throw ConfigError(path: path, reason: "must start with http://") }
        let rest = text.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let target = slash == rest.endIndex ? "/" : String(rest[slash...])
        guard !target.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } ?? false }) else {
            throw ConfigError(path: path, reason: "the path contains white space or control characters")
        }
        var port: UInt16 = 80
        var hostPart = authority
        var portPart: Substring? = nil
        if authority.hasPrefix("[") {
            // An IPv6 literal (RFC 3986 §3.2.2): the host is kept without its brackets.
            guard let close = authority.firstIndex(of: "]") else {
                throw ConfigError(path: path, reason: "missing ] after the IPv6 address")
            }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw ConfigError(path: path, reason: "expected :port after ]") }
                portPart = after.dropFirst()
            }
            guard hostPart.filter({ $0 == ":" }).count >= 2,
                hostPart.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." })
            else {
                throw ConfigError(path: path, reason: "\"\(hostPart)\" is not an IPv6 address")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        let host = String(hostPart)
        if let portPart {
            guard let p = UInt16(portPart), p > 0 else { throw ConfigError(path: path, reason: "port must be 1…65535") }
            port = p
        }
        guard !host.isEmpty,
            authority.hasPrefix("[")
                || host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") })
        else {
            throw ConfigError(path: path, reason: "host \"\(host)\" is not a host name, IPv4 address or [IPv6 address]")
        }
        return HTTPURL(host: host, port: port, target: target)
    }
}

/// `api`: the local HTTP API of `rill run`.
public struct APISection: Sendable, Equatable {
    /// Address to bind (loopback by default: the API is local).
    public var address = "127.0.0.1"
    /// `api.port`: the TCP port the API listens on.
    public var port: Int64 = 8080
    /// false: no API at all.
    public var enabled = true
    /// The hashed admin password and script tokens (written by `rill passwd` / `rill token`).
    public var credentials = "/etc/rill/credentials.json"
    /// false: requests from 127.0.0.1 need no credentials (every other peer still does).
    public var authOnLocalhost = true
    /// Largest accepted request body, bytes.
    public var maxBodyBytes: Int64 = 256 * 1024
    /// `api.tls`: serve the API and the page over HTTPS with this certificate (nil: plain HTTP).
    public var tls: TLSFiles?
    /// The defaults (127.0.0.1:8080, enabled, /etc/rill/credentials.json, plain HTTP).
    public init() {}

    /// `api.tls`: PEM files of the server's certificate (chain) and private key.
    public struct TLSFiles: Sendable, Equatable {
        /// `api.tls.certificate`: the certificate, then any intermediates (PEM).
        public var certificate: String
        /// `api.tls.key`: the certificate's private key (PEM, unencrypted; mode 0600).
        public var key: String
    }

    static func decode(_ o: inout ObjectReader) throws(ConfigError) -> APISection {
        var s = APISection()
        if let a = try o.string("address") {
            guard IPv4Address(a) != nil else {
                throw ConfigError(path: o.path("address"), reason: "must be an IPv4 address")
            }
            s.address = a
        }
        if let p = try o.int("port", in: 1...65535) { s.port = p }
        if let e = try o.bool("enabled") { s.enabled = e }
        if let c = try o.string("credentials") {
            guard c.hasPrefix("/") else {
                throw ConfigError(path: o.path("credentials"), reason: "must be an absolute path")
            }
            s.credentials = c
        }
        if let a = try o.bool("authOnLocalhost") { s.authOnLocalhost = a }
        if let m = try o.int("maxBodyBytes", in: 1024...16 * 1024 * 1024) { s.maxBodyBytes = m }
        if var t = try o.object("tls") {
            var files: [String] = []
            for key in ["certificate", "key"] {
                guard let f = try t.string(key) else {
                    throw ConfigError(path: t.path(key), reason: "required (a PEM file's absolute path)")
                }
                guard f.hasPrefix("/") else { throw ConfigError(path: t.path(key), reason: "must be an absolute path") }
                files.append(f)
            }
            try t.finish()
            s.tls = TLSFiles(certificate: files[0], key: files[1])
        }
        try o.finish()
        return s
    }
}
