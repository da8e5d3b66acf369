import FEC

/// The RTP transport options an `rtp://` URL may carry, outputs and inputs alike:
/// SMPTE 2022-1 FEC (`fec=2022-1&cols=L&rows=D&level=A|B`, or MistServer's
/// `fec=prompeg&rows=D&columns=L`) and SMPTE 2022-7 duplication (`dup=host:port`: the same
/// sequence space to, or merged from, a second path).
public struct RTPOptions: Sendable, Equatable {
    /// SMPTE 2022-1 FEC (`fec=`, `cols=`, `rows=`, `level=`); nil: none.
    public var fec: FECParameters?
    /// The 2022-7 second path.
    public var duplicate: (host: String, port: UInt16)?
    /// Input only: how long a gap waits for the other path / FEC, ms (`latency=`).
    public var latencyMs: Int64?

    /// Equal when FEC, the duplicate path and the latency are.
    public static func == (a: RTPOptions, b: RTPOptions) -> Bool {
        a.fec == b.fec && a.duplicate?.host == b.duplicate?.host && a.duplicate?.port == b.duplicate?.port
            && a.latencyMs == b.latencyMs
    }

    /// The option names this parser owns.
    public static let names: Set<String> = ["fec", "cols", "columns", "rows", "level", "dup", "latency"]

    /// Parses the RTP options of `url`; `path` names the config field for errors.
    public static func parse(_ url: MediaURL, path: String) throws(ConfigError) -> RTPOptions {
        var o = RTPOptions()
        if let scheme = url.option("fec") {
            guard url.scheme == "rtp" else {
                throw ConfigError(path: path, reason: "fec needs rtp:// (2022-1 protects RTP packets)")
            }
            guard scheme == "2022-1" || scheme == "prompeg" else {
                throw ConfigError(path: path, reason: "fec=\(scheme): expected 2022-1 (or prompeg)")
            }
            if url.option("cols") != nil && url.option("columns") != nil {
                throw ConfigError(path: path, reason: "cols and columns both given")
            }
            func int(_ key: String, _ fallback: Int) throws(ConfigError) -> Int {
                guard let v = url.option(key) else { return fallback }
                guard let n = Int(v) else { throw ConfigError(path: path, reason: "\(key)=\(v) is not a number") }
                return n
            }
            let level = url.option("level")?.uppercased() ?? "B"
            guard level == "A" || level == "B" else {
                throw ConfigError(path: path, reason: "level=\(level): expected A (column) or B (column + row)")
            }
            let columns = try int(url.option("columns") != nil ? "columns" : "cols", 10)
            do {
                o.fec = try FECParameters(columns: columns, rows: try int("rows", 10), rowFEC: level == "B")
            } catch {
                throw ConfigError(path: path, reason: "\(error) (SMPTE 2022-1)")
            }
        } else {
            for k in ["cols", "columns", "rows", "level"] where url.option(k) != nil {
                throw ConfigError(path: path, reason: "\(k) without fec=2022-1")
            }
        }
        if let d = url.option("dup") {
            let text = d.hasPrefix("rtp://") || d.hasPrefix("udp://") ? String(d.dropFirst(6)) : d
            guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0,
                IPv4Address(String(text[..<colon])) != nil || text[..<colon].isEmpty
            else { throw ConfigError(path: path, reason: "dup=\(d): expected host:port (SMPTE 2022-7 second path)") }
            o.duplicate = (String(text[..<colon]), port)
        }
        if let l = url.option("latency") {
            guard let ms = Int64(l), (0...10_000).contains(ms) else {
                throw ConfigError(path: path, reason: "latency=\(l): 0…10000 ms")
            }
            o.latencyMs = ms
        }
        if let f = o.fec, url.port > UInt16.max - FECParameters.rowPortOffset - (f.rowFEC ? 0 : 0) {
            throw ConfigError(path: path, reason: "port \(url.port): FEC needs port + 2 and port + 4")
        }
        return o
    }
}
