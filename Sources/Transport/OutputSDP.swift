import Config
import RTP

/// The SDP file of an `rtp://` output: one `m=` line, PT 33, `a=source-filter` when the URL names
/// a source address — the form VLC's built-in parser, ffplay and GStreamer's sdpdemux open.
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

    /// Writes the SDP file of `output` (if it has one) atomically.
    public static func write(_ output: OutputSection, serviceName: String) throws {
        guard let path = output.sdp else { return }
        let dir = path.split(separator: "/").dropLast().joined(separator: "/")
        try AtomicFile.makeDirectories("/" + dir)
        try AtomicFile.write(describe(output, serviceName: serviceName).text, to: path)
    }
}
