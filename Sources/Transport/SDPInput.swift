import Config
import FEC
import RTP
import Runtime

/// A gateway input described by an SDP file (one written by an `rtp://` output here, by FFmpeg,
/// or by hand): the `c=` group, the first `m=` port and transport, `a=source-filter` (SSM) and
/// 2022-1 FEC streams (`2dparityfec` m= lines on the media port + 2 / + 4) become the input URL.
public enum SDPInput {
    /// The input URL `text` (an SDP document) describes; errors name the SDP line.
    public static func url(fromSDP text: String) throws -> MediaURL {
        let d = try SessionDescription.parse(text)
        var options: [(String, String)] = []
        if let s = d.sourceFilter { options.append(("source", s)) }
        let rtp = d.transport.hasPrefix("RTP")
        if let f = d.fec {
            guard rtp else {
                throw SDPError(line: 1, reason: "FEC streams need an RTP media stream, not \(d.transport)")
            }
            guard f.columnPort == d.port &+ FECParameters.columnPortOffset,
                f.rowPort.map({ $0 == d.port &+ FECParameters.rowPortOffset }) ?? true
            else {
                throw SDPError(
                    line: 1,
                    reason:
                        "2022-1 FEC streams must be on the media port + 2 (column) and + 4 (row), found \(f.columnPort)\(f.rowPort.map { ", \($0)" } ?? "")"
                )
            }
            options += [("fec", "2022-1"), ("level", f.rowPort != nil ? "B" : "A")]
            if let l = f.columns, let r = f.rows { options += [("cols", "\(l)"), ("rows", "\(r)")] }
        }
        let url = MediaURL(scheme: rtp ? "rtp" : "udp", host: d.connectionAddress, port: d.port, options: options)
        _ = try RTPOptions.parse(url, path: "source.sdp")  // L and D within the standard's limits
        return url
    }

    /// Reads `path` and returns the URL; errors name the file and the line.
    public static func url(fromFile path: String) throws -> MediaURL {
        let text: String
        do { text = try AtomicFile.read(path) } catch {
            throw ConfigError(path: "source.sdp", reason: "cannot read \(path): \(error)")
        }
        do { return try url(fromSDP: text) } catch {
            throw ConfigError(path: "source.sdp", reason: "\(path): \(error)")
        }
    }
}
