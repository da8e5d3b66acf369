import Config
import Runtime

/// The configuration `rill run` uses without `--config`: the built-in test source, x264 + AAC,
/// VBR TS, one RTP output. Multicast to 239.255.42.1 when the machine has a route for multicast
/// (an explicit 224.0.0.0/4 route, not merely a default route), else unicast to 127.0.0.1 — a
/// newcomer's first run must just work without spraying multicast on an unknown network.
public enum DefaultConfig {
    /// The default multicast group and port.
    public static let group = "239.255.42.1"
    /// The default destination UDP port (multicast or unicast).
    public static let port = 5000

    /// The default config JSON for `runDirectory`, and a sentence for the log saying which
    /// destination was chosen and why.
    public static func make(runDirectory: String, multicastRoute: Bool) -> (json: String, explanation: String) {
        let host = multicastRoute ? group : "127.0.0.1"
        let why =
            multicastRoute
            ? "multicast to \(group):\(port) (this machine has a multicast route)"
            : "unicast to 127.0.0.1:\(port) (no multicast route on this machine; add one with `ip route add 224.0.0.0/4 dev IFACE` for multicast)"
        let ttl = multicastRoute ? "?ttl=4" : ""
        let json = """
            {
              "system": { "instance": "default", "runDirectory": "\(runDirectory)" },
              "source": { "type": "testsrc", "video": { "width": 1280, "height": 720, "fps": 50 },
                          "audio": { "sampleRate": 48000, "channels": 2 } },
              "encoders": { "video": { "codec": "h264", "bitrate": 4000000, "keyint": 50 },
                            "audio": { "codec": "aac", "bitrate": 128000 } },
              "program": { "serviceName": "Rill test source", "mode": "vbr" },
              "outputs": [ { "id": "mc", "url": "rtp://\(host):\(port)\(ttl)", "sdp": "\(runDirectory)/default/mc.sdp" } ]
            }
            """
        return (json, why)
    }

    /// Whether /proc/net/route has a non-default route covering 239.255.42.1.
    public static func hasMulticastRoute(routeTable: String? = try? AtomicFile.read("/proc/net/route")) -> Bool {
        guard let table = routeTable, let target = IPv4Address(group) else { return false }
        for line in table.split(separator: "\n").dropFirst() {
            let f = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard f.count >= 8, let dest = UInt32(f[1], radix: 16), let mask = UInt32(f[7], radix: 16), mask != 0 else {
                continue
            }
            // /proc/net/route prints the address's network-order bytes read as a host integer.
            let d = UInt32(bigEndian: dest)
            let m = UInt32(bigEndian: mask)
            if target.value & m == d & m { return true }
        }
        return false
    }
}
