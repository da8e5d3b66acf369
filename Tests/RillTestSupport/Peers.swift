import Foundation

/// What ffprobe (FFmpeg) reports about a stream.
public struct ProbedStream: Sendable {
    public var codec: String
    public var width: Int?
    public var height: Int?
    public var frameRate: String?
    public var sampleRate: Int?
    public var channels: Int?
}

/// Asks ffprobe about `input` (an SDP file, a .ts file). `prefix` runs it inside a namespace.
public func ffprobeStreams(_ input: String, prefix: [String] = [], timeout: Double = 30) throws -> [ProbedStream] {
    let r = try runProcess(
        prefix + [
            "ffprobe", "-v", "error", "-protocol_whitelist", "file,udp,rtp", "-show_entries",
            "stream=codec_name,width,height,r_frame_rate,sample_rate,channels", "-of", "json", input,
        ], timeout: timeout)
    guard r.status == 0, let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
        let streams = obj["streams"] as? [[String: Any]]
    else { throw TestEnvironmentError("ffprobe \(input) failed (\(r.status)): \(r.stderr.prefix(500))") }
    return streams.map {
        ProbedStream(
            codec: $0["codec_name"] as? String ?? "?", width: $0["width"] as? Int, height: $0["height"] as? Int,
            frameRate: $0["r_frame_rate"] as? String, sampleRate: Int($0["sample_rate"] as? String ?? ""),
            channels: $0["channels"] as? Int)
    }
}

/// Records `seconds` of `sdp` with ffmpeg (`-c copy`) into a TS file.
public func ffmpegRecord(sdp: String, seconds: Double, to path: String, prefix: [String] = []) throws -> ProcessResult {
    try runProcess(
        prefix + [
            "ffmpeg", "-nostdin", "-v", "error", "-protocol_whitelist", "file,udp,rtp", "-i", sdp, "-t",
            String(seconds),
            "-map", "0", "-c", "copy", "-f", "mpegts", "-y", path,
        ], timeout: seconds + 30)
}

/// One decoded frame as ffprobe reports it (`-show_frames`).
public struct DecodedFrame: Sendable {
    public var pts: Int64
    public var keyFrame: Bool
}

/// Decodes the video of a TS file with ffprobe (libavcodec) and returns every frame.
public func ffprobeDecodedVideoFrames(_ path: String) throws -> [DecodedFrame] {
    let r = try runProcess(
        [
            "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts,key_frame", "-of",
            "csv=p=0", path,
        ],
        timeout: 120)
    guard r.status == 0 else { throw TestEnvironmentError("ffprobe -show_frames failed: \(r.stderr.prefix(500))") }
    return r.stdout.split(separator: "\n").compactMap { line in
        let f = line.split(separator: ",")
        guard f.count >= 2, let key = Int(f[0]), let pts = Int64(f[1]) else { return nil }
        return DecodedFrame(pts: pts, keyFrame: key == 1)
    }
}

/// One datagram of a tshark capture: arrival time and the TS packets' PID, CC, adaptation field
/// control and PCR (27 MHz) as tshark's mp2t dissector reports them.
public struct WireDatagram: Sendable {
    public var time: Double
    public var rtpSequence: Int?
    public var pids: [Int]
    public var ccs: [Int]
    public var afcs: [Int]
    public var pcrs: [Int64]
    /// discontinuity_indicator values of the packets that have an adaptation field.
    public var discontinuityFlags: [Int]
}

/// What tshark saw on the wire.
public struct WireCapture: Sendable {
    public var datagrams: [WireDatagram]
    /// tshark's own count of continuity-counter drops (expert info `mp2t.cc.drop`).
    public var tsharkCCDrops: Int

    /// Packets with discontinuity_indicator = 1.
    public var discontinuities: Int { datagrams.reduce(0) { $0 + $1.discontinuityFlags.filter { $0 == 1 }.count } }

    /// Continuity errors recounted from tshark's per-packet fields (payload packets increment, AF-only repeat).
    public var continuityErrors: Int {
        var last: [Int: Int] = [:]
        var errors = 0
        for d in datagrams {
            for (i, pid) in d.pids.enumerated() where pid != 0x1FFF && i < d.ccs.count && i < d.afcs.count {
                let cc = d.ccs[i]
                let hasPayload = d.afcs[i] & 1 == 1
                if let l = last[pid] {
                    let ok = hasPayload ? cc == (l + 1) & 15 : cc == l
                    if !ok { errors += 1 }
                }
                if hasPayload || last[pid] == nil { last[pid] = cc }
            }
        }
        return errors
    }

    /// Longest gap between PCRs (from their values), seconds.
    public var maxPCRInterval: Double { pcrIntervals.max() ?? .infinity }

    /// The gaps between consecutive PCRs (from their values), seconds.
    public var pcrIntervals: [Double] {
        let p = datagrams.flatMap(\.pcrs)
        return zip(p, p.dropFirst()).map { Double($1 - $0) / 27e6 }
    }

    /// Longest gap between datagrams carrying `pid`, seconds of arrival time.
    public func maxInterval(pid: Int) -> Double { intervals(pid: pid).max() ?? .infinity }

    /// The gaps between datagrams carrying `pid`, seconds of arrival time.
    public func intervals(pid: Int) -> [Double] {
        let t = datagrams.filter { $0.pids.contains(pid) }.map(\.time)
        return zip(t, t.dropFirst()).map { $1 - $0 }
    }

    /// |arrival − PCR| after removing the offset, per PCR, seconds (how far the wire strays from the stream clock).
    public var pcrArrivalDeviations: [Double] {
        let pairs = datagrams.compactMap { d in d.pcrs.first.map { (d.time, Double($0) / 27e6) } }
        guard let first = pairs.first else { return [] }
        let raw = pairs.map { ($0.0 - first.0) - ($0.1 - first.1) }
        let mean = raw.reduce(0, +) / Double(raw.count)
        return raw.map { abs($0 - mean) }
    }
}

/// Captures `seconds` of UDP to `port` on `interface` with tshark and dissects it as RTP/MP2T
/// (or raw MP2T over UDP when `rtp` is false).
public func tsharkCapture(
    port: Int, seconds: Int, rtp: Bool = true, interface: String = "lo", prefix: [String] = [], directory: String
) throws -> WireCapture {
    let pcap = "\(directory)/capture-\(port).pcap"
    let cap = try runProcess(
        prefix + [
            "tshark", "-q", "-i", interface, "-f", "udp dst port \(port)", "-a", "duration:\(seconds)", "-w", pcap,
        ],
        timeout: Double(seconds) + 30)
    guard cap.status == 0 else { throw TestEnvironmentError("tshark capture failed: \(cap.stderr.prefix(500))") }
    let decode = rtp ? "udp.port==\(port),rtp" : "udp.port==\(port),mp2t"
    let r = try runProcess(
        [
            "tshark", "-r", pcap, "-d", decode, "-T", "fields", "-e", "frame.time_epoch", "-e", "rtp.seq", "-e",
            "mp2t.pid",
            "-e", "mp2t.cc", "-e", "mp2t.afc", "-e", "mp2t.af.pcr", "-e", "mp2t.af.di", "-E", "occurrence=a", "-E",
            "aggregator=,",
        ], timeout: 120)
    guard r.status == 0 else { throw TestEnvironmentError("tshark read failed: \(r.stderr.prefix(500))") }
    let drops = try runProcess(["tshark", "-r", pcap, "-d", decode, "-Y", "mp2t.cc.drop"], timeout: 120)
    func ints(_ s: Substring) -> [Int] {
        s.split(separator: ",").compactMap { $0.hasPrefix("0x") ? Int($0.dropFirst(2), radix: 16) : Int($0) }
    }
    var datagrams: [WireDatagram] = []
    for line in r.stdout.split(separator: "\n") {
        let f = line.split(separator: "\t", omittingEmptySubsequences: false)
        guard f.count >= 7, let t = Double(f[0]) else { continue }
        datagrams.append(
            WireDatagram(
                time: t, rtpSequence: Int(f[1]), pids: ints(f[2]), ccs: ints(f[3]), afcs: ints(f[4]),
                pcrs: f[5].split(separator: ",").compactMap { Int64($0.dropFirst(2), radix: 16) },
                discontinuityFlags: ints(f[6])))
    }
    return WireCapture(datagrams: datagrams, tsharkCCDrops: drops.stdout.split(separator: "\n").count)
}

/// The first output's statistics from `rill status --config` of a running box: the output object
/// and, for SRT, its peers (srt_bstats per connection).
public func outputStatus(configPath: String) throws -> (output: [String: Any], peers: [[String: Any]]) {
    let r = try runProcess([rillBinary(), "status", "--config", configPath], timeout: 10)
    let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    guard let output = (doc?["outputs"] as? [[String: Any]])?.first else {
        throw TestEnvironmentError("rill status gave no output: \(r.stdout.prefix(300)) \(r.stderr.prefix(300))")
    }
    return (output, output["peers"] as? [[String: Any]] ?? [])
}
