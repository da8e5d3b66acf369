import Foundation
import RillTestSupport
import Testing

/// librist's own tools as the far end of the RIST listener, Simple-input and multicast suites
/// (ristreceiver relaying to UDP that srt-live-transmit records; ristsender fed by FFmpeg), and
/// what an independent decoder must find in what they received.
enum RISTPeers {
    /// FFmpeg: `seconds` of a 640×360 test pattern (H.264, keyframe a second) and a 1 kHz tone
    /// (AAC) as MPEG-TS in `dir`.
    static func sourceTS(_ dir: String, seconds: Int = 12) throws -> String {
        let ts = "\(dir)/source.ts"
        let r = try runProcess(
            [
                "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi",
                "-i", "sine=frequency=1000:sample_rate=48000", "-t", "\(seconds)", "-c:v", "libx264", "-preset",
                "ultrafast", "-g", "25", "-b:v", "1500k", "-c:a", "aac", "-f", "mpegts", ts,
            ], timeout: 60)
        guard r.status == 0 else { throw TestEnvironmentError("ffmpeg source: \(r.stderr.suffix(400))") }
        return ts
    }

    /// srt-live-transmit recording what arrives on UDP `port` (inside `ns`) to `dir/NAME.ts`,
    /// returned once its socket is bound.
    static func recorder(_ ns: NetworkNamespace, _ dir: String, port: Int, name: String) throws -> PeerProcess {
        let rec = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "udp://:\(port)", "file://con"]), output: "\(dir)/\(name).ts")
        #expect(waitFor(timeout: 10) { portListening(port, .udp, in: ns) }, "srt-live-transmit is not reading :\(port)")
        return rec
    }

    /// A gateway box in `ns` whose input is `rist://@ADDRESS?profile=PROFILE` and whose one output
    /// relays to UDP `relay`, recorded by srt-live-transmit to `dir/relayed.ts`; returned once the
    /// input listens and the sender runs. The caller stops both.
    static func gateway(
        _ ns: NetworkNamespace, _ dir: String, listening address: String, profile: String, relay: Int, label: String
    ) throws -> (box: BoxUnderTest, recorder: PeerProcess) {
        let rec = try recorder(ns, dir, port: relay, name: "relayed")
        let gateway = try BoxUnderTest(
            config: """
                { "system": { "instance": "\(ns.name)", "runDirectory": "\(dir)/run" },
                  "source": { "type": "gateway", "url": "rist://@\(address)?profile=\(profile)" },
                  "outputs": [ { "id": "out", "url": "udp://127.0.0.1:\(relay)" } ],
                  "api": { "enabled": false } }
                """, namespace: ns, label: label)
        #expect(
            waitFor(timeout: 15) {
                gateway.log.contains("RIST \(profile) profile input listening on rist://@\(address)")
                    && gateway.log.contains("started send-out")
            }, "\(gateway.log.suffix(800))")
        return (gateway, rec)
    }

    /// ristreceiver (`-p profile`: 0 Simple, 1 Main) reading the RIST `input` URL and relaying it
    /// to UDP, recorded until `bytes` have arrived (or `timeout` s passed); returns the TS path.
    /// Its log is `dir/NAME.log`.
    static func receive(
        _ ns: NetworkNamespace, _ dir: String, profile: Int, input: String, name: String, bytes: Int = 500_000,
        timeout: Double = 25
    ) throws -> String {
        let udp = 9600
        let rec = try recorder(ns, dir, port: udp, name: name)
        defer { rec.stop() }
        let rx = try PeerProcess(
            ns.command([
                "sh", "-c", "exec \"$@\" 2>&1", "sh", "ristreceiver", "-p", "\(profile)", "-S", "0", "-i", input, "-o",
                "udp://127.0.0.1:\(udp)",
            ]),
            output: "\(dir)/\(name).log")
        defer { rx.stop(SIGKILL) }
        let got = waitFor(timeout: timeout, interval: 0.2) { rec.bytes >= bytes }
        #expect(
            got, "ristreceiver relayed \(rec.bytes) bytes of \(bytes) in \(timeout) s: \(log(dir, name).suffix(800))")
        return rec.output
    }

    /// ristsender (`-p profile`) sending to the RIST `output` URL, fed by FFmpeg playing `source`
    /// in real time for `seconds` once `linked` says the receiver has its peer (librist's sender
    /// drops what it is given before); ristsender is stopped once `relayed` (the receiving side's
    /// byte count) has settled: it still holds the stream's last second when FFmpeg ends.
    static func send(
        _ ns: NetworkNamespace, _ dir: String, profile: Int, output: String, source: String, seconds: Int = 8,
        linked: () -> Bool, relayed: () -> Int64
    ) throws {
        let input = 9050
        let sender = try PeerProcess(
            ns.command([
                "sh", "-c", "exec \"$@\" 2>&1", "sh", "ristsender", "-p", "\(profile)", "-S", "0", "-i",
                "udp://127.0.0.1:\(input)", "-o", output,
            ]),
            output: "\(dir)/ristsender.log")
        defer { sender.stop(SIGKILL) }
        #expect(waitFor(timeout: 10) { portListening(input, .udp, in: ns) }, "ristsender is not reading :\(input)")
        let up = waitFor(timeout: 10) { linked() }
        #expect(up, "no RIST link: \(log(dir, "ristsender").suffix(600))")
        let push = try runProcess(
            ns.command([
                "ffmpeg", "-nostdin", "-v", "error", "-re", "-i", source, "-t", "\(seconds)", "-map", "0", "-c", "copy",
                "-f", "mpegts", "udp://127.0.0.1:\(input)?pkt_size=1316",
            ]),
            timeout: Double(seconds) + 30)
        #expect(push.status == 0, "ffmpeg → ristsender: \(push.stderr.suffix(400))")
        let drained = waitUntilSettled(timeout: 10, settle: 1) { relayed() }
        #expect(drained, "the relay kept growing")
    }

    /// A peer's log in `dir` (empty when missing).
    static func log(_ dir: String, _ name: String) -> String {
        (try? String(contentsOfFile: "\(dir)/\(name).log", encoding: .utf8)) ?? ""
    }

    /// PTS (90 kHz) of every packet of `stream` ("a:0") in the TS, in file order, as ffprobe reads them.
    static func packetPTS(_ ts: String, stream: String) throws -> [Int64] {
        let r = try runProcess(
            ["ffprobe", "-v", "error", "-select_streams", stream, "-show_entries", "packet=pts", "-of", "csv=p=0", ts],
            timeout: 120)
        guard r.status == 0 else { throw TestEnvironmentError("ffprobe packets of \(ts): \(r.stderr.prefix(400))") }
        return r.stdout.split(separator: "\n").compactMap { Int64($0.split(separator: ",").first ?? "") }
    }

    /// Expects what a receiver got to be a working programme: FFmpeg finds H.264 and AAC, decodes
    /// at least `minimumFrames` video frames with PTS rising frame by frame, audio PTS rising,
    /// and tshark finds no continuity-counter error. Returns the number of decoded frames.
    @discardableResult
    static func expectDecodes(_ ts: String, minimumFrames: Int = 100) throws -> Int {
        let codecs = try ffprobeStreams(ts).map(\.codec)
        #expect(codecs.contains("h264") && codecs.contains("aac"), "streams \(codecs)")
        let frames = try ffprobeDecodedVideoFrames(ts)
        #expect(frames.count >= minimumFrames, "\(frames.count) frames decoded")
        let steps = zip(frames, frames.dropFirst()).map { $1.pts - $0.pts }
        #expect(steps.allSatisfy { $0 > 0 }, "video PTS not rising: steps \(Set(steps).sorted().prefix(10))")
        let audio = try packetPTS(ts, stream: "a:0")
        #expect(audio.count >= minimumFrames, "\(audio.count) audio packets")
        #expect(zip(audio, audio.dropFirst()).allSatisfy { $1 > $0 }, "audio PTS not rising")
        let drops = try runProcess(["tshark", "-r", ts, "-Y", "mp2t.cc.drop"], timeout: 120)
        let cc = drops.stdout.split(separator: "\n").count
        #expect(cc == 0, "\(cc) CC errors: \(drops.stdout.prefix(300))")
        return frames.count
    }
}
