import Config
import FEC
import RTP
import Runtime

/// The SDP file of an `rtp://` output: one `m=` line, PT 33, `a=source-filter` when the URL names
/// a source address — the form VLC's built-in parser, ffplay and GStreamer's sdpdemux open. With
/// 2022-1 FEC, a second file (`NAME-fec.sdp`) adds the FEC streams as `2dparityfec` `m=` lines
/// grouped by `a=group:FEC-FR`: FFmpeg and GStreamer open it (the FEC lines become unused
/// streams); VLC refuses several ports, hence the plain file stays.
public enum OutputSDP {
    /// The session description for `output` of the service `serviceName`.
    public static func describe(_ output: OutputSection, serviceName: String) -> SessionDescription {
        let url = output.url
        let dest = IPv4Address(url.host)
        let multicast = dest?.isMulticast ?? false
        let source = url.option("source")
        let origin = source ?? (try? UDPSocket(url: url))?.localAddress?.description ?? "127.0.0.1"
        var d = SessionDescription(
            originAddress: origin, name: serviceName, connectionAddress: url.host,
            ttl: multicast ? UInt8(url.option("ttl").flatMap(Int.init) ?? 1) : nil, port: url.port,
            sourceFilter: multicast ? source : nil)
        d.information = "Rill output \(output.id)"
        return d
    }

    /// The description with the output's FEC streams, nil without FEC.
    public static func describeWithFEC(_ output: OutputSection, serviceName: String) -> SessionDescription? {
        guard let p = (try? RTPOptions.parse(output.url, path: ""))?.fec else { return nil }
        var d = describe(output, serviceName: serviceName)
        d.fec = .init(
            columnPort: output.url.port + FECParameters.columnPortOffset,
            rowPort: p.rowFEC ? output.url.port + FECParameters.rowPortOffset : nil, columns: p.columns, rows: p.rows)
        return d
    }

    /// Where the FEC description of the SDP file `path` goes: `x.sdp` → `x-fec.sdp`.
    public static func fecPath(_ path: String) -> String {
        (path.hasSuffix(".sdp") ? String(path.dropLast(4)) : path) + "-fec.sdp"
    }

    /// Writes the SDP file of `output` (if it has one) atomically, and its FEC description.
    public static func write(_ output: OutputSection, serviceName: String) throws {
        guard let path = output.sdp else { return }
        try AtomicFile.makeDirectories(AtomicFile.directory(of: path))
        try AtomicFile.write(describe(output, serviceName: serviceName).text, to: path)
        if let withFEC = describeWithFEC(output, serviceName: serviceName) {
            try AtomicFile.write(withFEC.text, to: fecPath(path))
        }
    }
}
