/// A parsed `scheme://host:port?options` URL, as outputs and inputs are written (the seed's and
/// srt-live-transmit's style). Options are lower-case; unknown options are errors.
public struct MediaURL: Sendable, Equatable {
    /// "rtp", "udp", later "srt", "rist", "file".
    public var scheme: String
    /// Host or address; empty for "all interfaces" (`srt://:9000`).
    public var host: String
    /// UDP/TCP port.
    public var port: UInt16
    /// Options in order of appearance.
    public var options: [(String, String)]

    /// Equal when scheme, host, port and options (in order) are.
    public static func == (a: MediaURL, b: MediaURL) -> Bool {
        a.scheme == b.scheme && a.host == b.host && a.port == b.port
            && a.options.elementsEqual(b.options, by: { $0 == $1 })
    }

    /// A URL from its parts; `options` in order of appearance.
    public init(scheme: String, host: String, port: UInt16, options: [(String, String)] = []) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.options = options
    }

    /// The value of option `key`.
    public func option(_ key: String) -> String? { options.first { $0.0 == key }?.1 }

    /// Parses `text`; `path` names the config field for errors.
    public static func parse(_ text: String, path: String) throws(ConfigError) -> MediaURL {
        let parts = text.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else {
            throw ConfigError(path: path, reason: "\"\(text)\" is not a URL (expected scheme://host:port)")
        }
        let scheme = parts[0].lowercased()
        var rest = parts[1]
        var query = Substring("")
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        var host = ""
        var portText = Substring("")
        if rest.hasPrefix("[") {  // [IPv6]:port
            guard let close = rest.firstIndex(of: "]") else {
                throw ConfigError(path: path, reason: "unterminated [IPv6] host")
            }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            guard after.hasPrefix(":") else { throw ConfigError(path: path, reason: "missing :port") }
            portText = after.dropFirst()
        } else {
            guard let colon = rest.lastIndex(of: ":") else {
                throw ConfigError(path: path, reason: "missing :port in \"\(text)\"")
            }
            host = String(rest[..<colon])
            portText = rest[rest.index(after: colon)...]
        }
        if host.hasPrefix("@") { host.removeFirst() }  // rist://@:port listener form keeps '@' as a role marker
        guard let port = UInt16(portText), port > 0 else {
            throw ConfigError(path: path, reason: "port \"\(portText)\" must be 1…65535")
        }
        var options: [(String, String)] = []
        if !query.isEmpty {
            for part in query.split(separator: "&", omittingEmptySubsequences: true) {
                let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(kv[0]).lowercased()
                let value = kv.count > 1 ? percentDecode(String(kv[1])) : ""
                if options.contains(where: { $0.0 == key }) {
                    throw ConfigError(path: path, reason: "option \"\(key)\" given twice")
                }
                options.append((key, value))
            }
        }
        return MediaURL(scheme: scheme, host: host, port: port, options: options)
    }

    static func percentDecode(_ s: String) -> String {
        guard s.contains("%") else { return s }
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let c = it.popFirst() {
            if c == UInt8(ascii: "%"), it.count >= 2,
                let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16)
            {
                out.append(v)
                it = it.dropFirst(2)
            } else {
                out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A parsed IPv4 address (dotted quad).
public struct IPv4Address: Sendable, Equatable, CustomStringConvertible {
    /// Host byte order.
    public var value: UInt32

    /// Parses a dotted quad ("192.0.2.1"); nil when `text` is not one (no leading zeros).
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for p in parts {
            guard let o = UInt8(p), String(o) == p else { return nil }
            v = v << 8 | UInt32(o)
        }
        value = v
    }

    /// 224.0.0.0/4, RFC 5771.
    public var isMulticast: Bool { value >> 28 == 0xE }
    /// The dotted quad.
    public var description: String {
        "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
    }
}
