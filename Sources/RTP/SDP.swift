/// An SDP session description (RFC 8866) of an MPEG-2 TS over RTP stream, as written by Rill and
/// read by its SDP-file input. One `m=` line, PT 33 (RFC 3551), optional RFC 4570 source filter:
/// the form VLC's built-in parser, ffplay and GStreamer's sdpdemux open unchanged.
public struct SessionDescription: Sendable, Equatable {
    /// `o=` origin: session id/version and the address of the originator.
    public var originAddress: String
    /// `o=` sess-id (RFC 8866 §5.2).
    public var sessionID: UInt64 = 1
    /// `o=` sess-version (RFC 8866 §5.2): increases when the description changes.
    public var sessionVersion: UInt64 = 1
    /// `s=` session name (the service name).
    public var name: String
    /// `i=` session information, optional.
    public var information: String?
    /// `c=` connection address (group or unicast destination).
    public var connectionAddress: String
    /// Multicast TTL written as `c=IN IP4 group/ttl` (RFC 8866 §5.7), nil for unicast.
    public var ttl: UInt8?
    /// `m=` media: "video" by convention for MP2T.
    public var media = "video"
    /// RTP port.
    public var port: UInt16
    /// "RTP/AVP" or "udp" (raw TS over UDP, understood by VLC).
    public var transport = "RTP/AVP"
    /// Payload type (33 for MP2T).
    public var payloadType: UInt8 = 33
    /// RFC 4570 `a=source-filter: incl IN IP4 <dest> <source>`.
    public var sourceFilter: String?
    /// Any further attributes on the media ("name:value" or "name"), in order.
    public var mediaAttributes: [String] = []

    /// SMPTE 2022-1 FEC streams beside the media: written as two more `m=` lines
    /// (`2dparityfec`, PT 96) grouped with the media by `a=group:FEC-FR` (RFC 5956).
    public var fec: FECStreams? = nil

    /// The 2022-1 FEC streams of a media stream: one `m=application … 2dparityfec` line each.
    public struct FECStreams: Sendable, Equatable {
        /// UDP port of the column FEC stream (`a=mid:2`).
        public var columnPort: UInt16
        /// UDP port of the row FEC stream (`a=mid:3`); nil: column FEC only.
        public var rowPort: UInt16?
        /// L and D when the SDP states them (`a=fmtp:96 L=…; D=…`, the RFC 6015 parameter names).
        public var columns: Int?
        /// D, the number of rows (`a=fmtp:96 … D=…`).
        public var rows: Int?
        /// FEC streams on `columnPort` (and `rowPort`), with L = `columns` and D = `rows` when known.
        public init(columnPort: UInt16, rowPort: UInt16?, columns: Int?, rows: Int?) {
            self.columnPort = columnPort
            self.rowPort = rowPort
            self.columns = columns
            self.rows = rows
        }
    }

    /// The FEC encoding names a parser takes (RFC 2733 `parityfec`, SMPTE 2022-1 `2dparityfec`,
    /// RFC 6015 `1d-interleaved-parityfec`).
    static let fecEncodings: Set<String> = ["2dparityfec", "parityfec", "1d-interleaved-parityfec"]

    /// A one-stream description of `connectionAddress`:`port` (`ttl` for multicast, `sourceFilter`:
    /// the sender's address).
    public init(
        originAddress: String, name: String, connectionAddress: String, ttl: UInt8? = nil, port: UInt16,
        sourceFilter: String? = nil
    ) {
        self.originAddress = originAddress
        self.name = name
        self.connectionAddress = connectionAddress
        self.ttl = ttl
        self.port = port
        self.sourceFilter = sourceFilter
    }

    /// The SDP text, CRLF line endings (RFC 8866 §5), in the line order RFC 8866 requires
    /// (VLC enforces it).
    public var text: String {
        var lines = ["v=0"]
        lines.append("o=- \(sessionID) \(sessionVersion) IN IP4 \(originAddress)")
        lines.append("s=\(Self.clean(name.isEmpty ? "-" : name))")
        if let information { lines.append("i=\(Self.clean(information))") }
        lines.append("c=IN IP4 \(connectionAddress)\(ttl.map { "/\($0)" } ?? "")")
        lines.append("t=0 0")
        if let sourceFilter {
            lines.append("a=source-filter: incl IN IP4 \(connectionAddress) \(sourceFilter)")
        }
        if fec != nil { lines.append("a=group:FEC-FR 1 2\(fec?.rowPort != nil ? " 3" : "")") }
        lines.append("m=\(media) \(port) \(transport) \(payloadType)")
        if transport == "RTP/AVP", payloadType == 33 { lines.append("a=rtpmap:33 MP2T/90000") }
        for a in mediaAttributes { lines.append("a=\(Self.clean(a))") }
        if let fec {
            lines.append("a=mid:1")
            for (mid, port) in [(2, fec.columnPort), (3, fec.rowPort)] {
                guard let port else { continue }
                lines.append("m=application \(port) RTP/AVP 96")
                lines.append("a=rtpmap:96 2dparityfec/90000")
                if let l = fec.columns, let d = fec.rows { lines.append("a=fmtp:96 L=\(l); D=\(d)") }
                lines.append("a=mid:\(mid)")
            }
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Removes CR/LF so user-provided names cannot inject lines.
    static func clean(_ s: String) -> String {
        String(s.unicodeScalars.filter { $0 != "\r" && $0 != "\n" }.map(Character.init))
    }
}

/// An SDP parse error naming the line.
public struct SDPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 1-based line number.
    public var line: Int
    /// What is wrong with the line.
    public var reason: String
    /// An error about line `line` (1-based).
    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }
    /// "SDP line N: reason".
    public var description: String { "SDP line \(line): \(reason)" }
}

extension SessionDescription {
    /// Parses an SDP describing one MP2T-over-RTP (or raw UDP) stream. Session-level `c=` or a
    /// media-level `c=` must give the address. Lines of other types are accepted and ignored; the
    /// first `m=` line is used.
    public static func parse(_ text: String) throws(SDPError) -> SessionDescription {
        var origin: String?
        var name: String?
        var info: String?
        var conn: (String, UInt8?)?
        var media: (String, UInt16, String, UInt8)?
        var filter: String?
        var attrs: [String] = []
        // Later m= lines: port, format, encoding name (rtpmap), L and D (fmtp).
        var extra: [(UInt16, String, String?, Int?, Int?)] = []
        var sawVersion = false
        var lineNo = 0
        var mediaLine = 0  // where the m= line was, to blame a missing c= on it
        var lastLine = 0
        // "\r\n" is one Character in Swift: split on any newline character (CRLF, LF or CR).
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNo += 1
            let line = Substring(raw)
            if line.isEmpty { continue }
            lastLine = lineNo
            let chars = Array(line)
            guard chars.count >= 2, chars[1] == "=", chars[0].isASCII, chars[0].isLetter else {
                throw SDPError(line: lineNo, reason: "expected <type>=<value>")
            }
            let type = chars[0]
            let value = String(line.dropFirst(2))
            if lineNo == 1 || !sawVersion {
                guard type == "v" else { throw SDPError(line: lineNo, reason: "the first line must be v=0") }
                guard value == "0" else { throw SDPError(line: lineNo, reason: "unsupported SDP version \(value)") }
                sawVersion = true
                continue
            }
            let fields = value.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            switch type {
            case "o":
                guard fields.count == 6, fields[3] == "IN" else {
                    throw SDPError(
                        line: lineNo, reason: "o= needs 6 fields: username sess-id sess-version IN IP4 address")
                }
                origin = fields[5]
            case "s": name = value
            case "i": if media == nil { info = value }
            case "c":
                guard fields.count == 3, fields[0] == "IN" else {
                    throw SDPError(line: lineNo, reason: "c= must be IN IP4 <address>[/ttl]")
                }
                guard fields[1] == "IP4" else {
                    throw SDPError(line: lineNo, reason: "only IP4 connections are supported, got \(fields[1])")
                }
                let parts = fields[2].split(separator: "/")
                guard let addr = parts.first, Self.isIPv4(String(addr)) else {
                    throw SDPError(line: lineNo, reason: "\(fields[2]) is not an IPv4 address")
                }
                var ttl: UInt8? = nil
                if parts.count > 1 {
                    guard let t = UInt8(parts[1]) else { throw SDPError(line: lineNo, reason: "bad TTL \(parts[1])") }
                    ttl = t
                }
                conn = (String(addr), ttl)
            case "m":
                if media != nil {  // later media: kept only to find FEC streams
                    guard fields.count >= 4, let port = UInt16(fields[1].split(separator: "/").first ?? "") else {
                        throw SDPError(line: lineNo, reason: "m= needs media port proto fmt")
                    }
                    extra.append((port, fields[3], nil, nil, nil))
                    continue
                }
                guard fields.count >= 4 else { throw SDPError(line: lineNo, reason: "m= needs media port proto fmt") }
                let portField = fields[1].split(separator: "/").first.map(String.init) ?? ""
                guard let port = UInt16(portField), port > 0 else {
                    throw SDPError(line: lineNo, reason: "bad port \(fields[1])")
                }
                guard ["RTP/AVP", "udp", "RTP/AVPF", "UDP"].contains(fields[2]) else {
                    throw SDPError(line: lineNo, reason: "unsupported transport \(fields[2])")
                }
                guard let pt = UInt8(fields[3]), pt < 128 else {
                    if fields[2].lowercased() == "udp" {
                        media = (fields[0], port, fields[2], 33)
                        mediaLine = lineNo
                        continue
                    }
                    throw SDPError(line: lineNo, reason: "bad payload type \(fields[3])")
                }
                media = (fields[0], port, fields[2], pt)
                mediaLine = lineNo
            case "a":
                if value.hasPrefix("source-filter:") {
                    let f = value.dropFirst("source-filter:".count).split(separator: " ").map(String.init)
                    guard f.count >= 5, f[0] == "incl", f[1] == "IN", f[2] == "IP4", Self.isIPv4(f[4]) else {
                        throw SDPError(line: lineNo, reason: "source-filter must be: incl IN IP4 <dest> <source>")
                    }
                    filter = f[4]
                } else if !extra.isEmpty {
                    let pt = extra[extra.count - 1].1
                    if value.hasPrefix("rtpmap:\(pt) ") {
                        extra[extra.count - 1].2 = value.split(separator: " ").dropFirst().first?.split(separator: "/")
                            .first.map { $0.lowercased() }
                    } else if value.hasPrefix("fmtp:\(pt) ") {
                        for p in value.dropFirst("fmtp:\(pt) ".count).split(separator: ";") {
                            let kv = p.split(separator: "=").map { String($0.filter { $0 != " " }) }
                            guard kv.count == 2 else { continue }
                            guard let n = Int(kv[1]), (1...255).contains(n) else {
                                throw SDPError(line: lineNo, reason: "fmtp \(kv[0])=\(kv[1]) is not 1…255")
                            }
                            if kv[0] == "L" { extra[extra.count - 1].3 = n }
                            if kv[0] == "D" { extra[extra.count - 1].4 = n }
                        }
                    }
                } else if media != nil, !value.hasPrefix("rtpmap:33 ") {
                    attrs.append(value)
                }
            default:
                continue
            }
        }
        guard sawVersion else { throw SDPError(line: 1, reason: "empty SDP") }
        guard let m = media else { throw SDPError(line: lastLine, reason: "no m= line") }
        guard let c = conn else {
            throw SDPError(line: mediaLine, reason: "no c= line for this media (none at session level either)")
        }
        var d = SessionDescription(
            originAddress: origin ?? c.0, name: name ?? "-", connectionAddress: c.0, ttl: c.1, port: m.1,
            sourceFilter: filter)
        d.information = info
        d.media = m.0
        d.transport = m.2
        d.payloadType = m.3
        d.mediaAttributes = attrs
        let fecPorts = extra.filter { $0.2.map(fecEncodings.contains) ?? false }.sorted { $0.0 < $1.0 }
        if let first = fecPorts.first {
            d.fec = FECStreams(
                columnPort: first.0, rowPort: fecPorts.count > 1 ? fecPorts[1].0 : nil, columns: first.3, rows: first.4)
        }
        return d
    }

    static func isIPv4(_ s: String) -> Bool {
        let p = s.split(separator: ".", omittingEmptySubsequences: false)
        return p.count == 4 && p.allSatisfy { UInt8($0) != nil && String(UInt8($0)!) == $0 }
    }
}
