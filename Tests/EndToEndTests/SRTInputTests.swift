import Foundation
import RillTestSupport
import Testing

/// The gateway input's statistics file (`recv.json`, what status and the API copy from).
func inputStatistics(_ b: BoxUnderTest, runDirectory: String, instance: String) throws -> [String: Any] {
    let path = "\(runDirectory)/\(instance)/stats/recv.json"
    guard let data = FileManager.default.contents(atPath: path),
        let doc = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { throw TestEnvironmentError("no statistics in \(path)") }
    return doc
}

/// The gateway `srt://` input against real publishers (srt-live-transmit, FFmpeg), each test in
/// its own network namespace (its ports are its own).
@Suite("SRT gateway input", .serialized, .tags(.endToEnd, .needsRoot, .peer))
struct SRTInputTests {
    /// A gateway box in `ns`: SRT listener input on :9110, one raw UDP output to 127.0.0.1:5090.
    func gateway(_ ns: NetworkNamespace, dir: String, input: String = "srt://:9110?latency=120") throws -> BoxUnderTest
    {
        let config = """
            { "system": { "instance": "\(ns.name)", "runDirectory": "\(dir)/run" },
              "source": { "type": "gateway", "url": "\(input)" },
              "outputs": [ { "id": "relay", "url": "udp://127.0.0.1:5090" } ],
              "api": { "enabled": false } }
            """
        let b = try BoxUnderTest(config: config, namespace: ns, label: ns.name)
        #expect(
            waitFor(timeout: 15) {
                b.log.contains("listening for a publisher") && b.log.contains("started send-relay")
            }, "\(b.log)")
        return b
    }

    @Test("idle listener: no log lines while nobody publishes (libsrt's accept error was ~50 a second)")
    func idleIsQuiet() throws {
        let ns = try NetworkNamespace("srtidle")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("srtidle")
        let b = try gateway(ns, dir: dir)
        defer { b.stop() }
        let before = b.log.split(separator: "\n").count
        let idle = 5.0
        Thread.sleep(forTimeInterval: idle)  // measuring what an idle box logs over time, not waiting for an event
        let lines = b.log.split(separator: "\n").dropFirst(before)
        #expect(lines.count <= 1, "\(lines.count) lines in \(idle) s idle: \(lines.prefix(5))")
        #expect(!b.log.contains("no pending connection"))
        // The stats say so too: waiting, no connection yet.
        let source = try inputStatistics(b, runDirectory: "\(dir)/run", instance: ns.name)
        #expect(source["connected"] as? Bool == false, "\(source)")
        #expect(source["connects"] as? Int == 0, "\(source)")
    }

    @Test("a publisher joining mid-GOP (twice): relayed from PAT, PMT and a keyframe; link statistics in status")
    func cleanStartAndStatistics() throws {
        let ns = try NetworkNamespace("srtclean")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("srtclean")
        let b = try gateway(ns, dir: dir)
        defer { b.stop() }
        // A real peer receives our relay: srt-live-transmit from UDP to a file, as it arrives.
        let relayed = "\(dir)/relayed.ts"
        let receiver = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "udp://:5090", "file://con"]), output: relayed)
        defer { receiver.stop(SIGKILL) }
        // The live source: 4 s GOPs (25 fps, -g 100) with audio, as UDP on :5080.
        let source = try PeerProcess(
            ns.command([
                "ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f",
                "lavfi",
                "-i", "sine=frequency=1000:sample_rate=48000", "-t", "30", "-c:v", "libx264", "-preset", "ultrafast",
                "-g", "100",
                "-keyint_min", "100", "-sc_threshold", "0", "-c:a", "aac", "-f", "mpegts",
                "udp://127.0.0.1:5080?pkt_size=1316",
            ]), output: "\(dir)/source.log")
        defer { source.stop(SIGKILL) }
        // The publisher (srt-live-transmit, UDP → SRT caller) joins 1.5 s into a 4 s GOP.
        Thread.sleep(forTimeInterval: 1.5)
        let publish = ["srt-live-transmit", "-q", "udp://:5080", "srt://127.0.0.1:9110?latency=120"]
        let first = try PeerProcess(ns.command(publish), output: "\(dir)/pub1.log")
        #expect(waitFor(timeout: 10) { b.log.contains("relaying from a clean point") }, "\(b.log.suffix(800))")
        #expect(waitFor(timeout: 5) { receiver.bytes > 100_000 }, "relay received \(receiver.bytes) bytes")
        var status: [String: Any] = [:]
        _ = waitFor(timeout: 10, interval: 0.5) {
            status = (try? inputStatistics(b, runDirectory: "\(dir)/run", instance: ns.name)) ?? [:]
            return (status["received"] as? Int ?? 0) > 500
        }
        first.stop(SIGKILL)
        // Then again, mid-GOP once more, after the input noticed the publisher is gone.
        #expect(
            waitFor(timeout: 10) { b.log.contains("connection with") && b.log.contains("ended") },
            "\(b.log.suffix(800))")
        let second = try PeerProcess(ns.command(publish), output: "\(dir)/pub2.log")
        defer { second.stop(SIGKILL) }
        #expect(
            waitFor(timeout: 10) { b.log.components(separatedBy: "relaying from a clean point").count == 3 },
            "\(b.log.suffix(800))")
        second.stop()
        receiver.stop()

        // Each connection began mid-GOP (video PES held back) and was relayed from a clean point.
        let starts = b.log.split(separator: "\n").filter { $0.contains("relaying from a clean point") }
        for line in starts {
            let held = line.range(of: "packets (").map { Int(line[$0.upperBound...].prefix { $0.isNumber }) ?? 0 } ?? 0
            #expect(held > 0, "the publisher did not start mid-GOP, the test proves nothing: \(line)")
        }
        // The relayed TS as a real peer received it: PAT first, then the PMT, then a keyframe.
        let data = try Data(contentsOf: URL(fileURLWithPath: relayed))
        let packets = stride(from: 0, to: data.count - 187, by: 188).map { Array(data[$0..<($0 + 188)]) }
        try #require(
            packets.count > 10 && packets.allSatisfy { $0[0] == 0x47 }, "\(data.count) bytes, not whole TS packets")
        let pid = { (p: [UInt8]) in Int(p[1] & 0x1F) << 8 | Int(p[2]) }
        #expect(pid(packets[0]) == 0, "first packet is PID \(pid(packets[0])), not the PAT")
        // The PAT's first program_map_PID, after any adaptation field (the relaying sender flags the
        // first packet of each PID with discontinuity_indicator, adding one to the PAT) and the pointer_field.
        let pat = packets[0]
        let payload = pat[3] & 0x20 != 0 ? 5 + Int(pat[4]) : 4
        let section = payload + 1 + Int(pat[payload])
        let pmtPID = Int(pat[section + 10] & 0x1F) << 8 | Int(pat[section + 11])
        #expect(pid(packets[1]) == pmtPID, "second packet is PID \(pid(packets[1])), not the PMT (\(pmtPID))")
        let probe = try runProcess(
            [
                "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=flags", "-of", "csv=p=0",
                relayed,
            ], timeout: 60)
        let flags = probe.stdout.split(separator: "\n")
        #expect(flags.first?.hasPrefix("K") == true, "first video packet flags \(flags.prefix(3)): not a keyframe")
        let frames = try ffprobeDecodedVideoFrames(relayed)
        #expect(frames.first?.keyFrame == true)
        #expect(frames.count >= 50, "\(frames.count) frames decoded")

        // The link's figures while the first publisher was connected.
        #expect(status["connected"] as? Bool == true, "\(status)")
        #expect((status["peer"] as? String ?? "").hasPrefix("127.0.0.1:"), "\(status)")
        #expect((status["received"] as? Int ?? 0) > 500, "\(status)")
        #expect(status["rttMs"] is Double || status["rttMs"] is Int, "\(status)")
        for key in ["lost", "retransmitted", "dropped", "recovered", "bitrate"] {
            #expect(status[key] != nil, "\(key) missing: \(status)")
        }
        #expect((status["bitrate"] as? Int ?? 0) > 100_000, "\(status)")
        #expect(status["ccErrors"] as? Int == 0, "\(status)")
        let after = try inputStatistics(b, runDirectory: "\(dir)/run", instance: ns.name)
        #expect(after["connects"] as? Int == 2, "\(after)")
    }

    @Test("a refused publisher: the listener logs why, the caller input logs the rejection reason and retries")
    func refusalsAreExplained() throws {
        let ns = try NetworkNamespace("srtrefuse")
        defer { ns.close() }
        let dir = makeTemporaryDirectory("srtrefuse")
        let b = try gateway(ns, dir: dir, input: "srt://:9110?accept=studio1")
        defer { b.stop() }
        // FFmpeg publishes with a stream id that is not on the accept list.
        let intruder = try PeerProcess(
            ns.command([
                "ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-t",
                "20",
                "-c:v", "libx264", "-preset", "ultrafast", "-f", "mpegts",
                "srt://127.0.0.1:9110?mode=caller&streamid=intruder",
            ]), output: "\(dir)/i.log")
        defer { intruder.stop(SIGKILL) }
        #expect(waitFor(timeout: 10) { b.log.contains("rejected publisher") }, "\(b.log.suffix(600))")
        #expect(b.log.contains("streamid \"intruder\" is not accepted"))
        // The stats file (rewritten once a second) counts the refusal.
        #expect(
            waitFor(timeout: 5, interval: 0.25) {
                ((try? inputStatistics(b, runDirectory: "\(dir)/run", instance: ns.name))?["rejected"] as? Int ?? 0)
                    >= 1
            })

        // Our input as caller toward srt-live-transmit's listener that wants a passphrase we lack.
        let dir2 = makeTemporaryDirectory("srtrefuse-caller")
        let listener = try PeerProcess(
            ns.command(["srt-live-transmit", "-q", "srt://:9120?passphrase=correct-horse-1", "file://con"]),
            output: "\(dir2)/l.ts")
        defer { listener.stop(SIGKILL) }
        let config = """
            { "system": { "instance": "\(ns.name)-c", "runDirectory": "\(dir2)/run" },
              "source": { "type": "gateway", "url": "srt://127.0.0.1:9120" },
              "outputs": [ { "id": "relay", "url": "udp://127.0.0.1:5091" } ],
              "api": { "enabled": false } }
            """
        let caller = try BoxUnderTest(config: config, namespace: ns, label: "srtrefuse-caller")
        defer { caller.stop() }
        #expect(
            waitFor(timeout: 15) { caller.log.components(separatedBy: "retrying in").count >= 3 },
            "\(caller.log.suffix(800))")
        let line = caller.log.split(separator: "\n").first { $0.contains("retrying in") } ?? ""
        #expect(line.contains("rejected:") && line.lowercased().contains("password"), "no reason: \(line)")
    }
}
