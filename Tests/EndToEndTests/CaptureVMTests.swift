import Foundation
import RillTestSupport
import Testing

/// Capture against real kernel drivers: the virtual board (Board/qemu-virt/run.sh) boots Debian's
/// kernel with vivid (an HDMI input receiving 1280x720p30) and snd-aloop (fed a 1 kHz tone by
/// aplay), runs vcap + acap → x264/AAC → mux → UDP inside, and srt-live-transmit (an independent
/// receiver) records the TS there. One boot runs every check of Tests/vm/capture-guest.sh; this
/// suite then inspects the artefacts with ffprobe, ffmpeg and tshark on the host.
@Suite("Capture in the virtual board", .serialized, .tags(.endToEnd, .needsRoot, .peer, .virtualBoard))
struct CaptureVMTests {
    /// One boot of the virtual board for the whole suite (Swift Testing makes an instance per test).
    struct Boot: Sendable {
        let share: String
        let status: Int32
        let log: String

        init() throws {
            share = try VirtualBoard.makeShare("vm")
            let fm = FileManager.default
            let tone = try runProcess([
                "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000:duration=240",
                "-ac", "2",
                "-c:a", "pcm_s16le", "-y", "\(share)/tone.wav",
            ])
            guard tone.status == 0 else { throw TestEnvironmentError("tone: \(tone.stderr)") }
            try CaptureVMTests.config(instance: "hd", width: 1280, height: 720, port: 5000)
                .write(toFile: "\(share)/hd.json", atomically: true, encoding: .utf8)
            try CaptureVMTests.config(
                instance: "long", width: CaptureVMTests.long.width, height: CaptureVMTests.long.height, port: 5001,
                bitrate: CaptureVMTests.long.bitrate, audioCodec: CaptureVMTests.long.audio
            )
            .write(toFile: "\(share)/long.json", atomically: true, encoding: .utf8)
            try CaptureVMTests.config(instance: "bad", width: 1280, height: 720, port: 5002, pixelFormat: "MJPEG")
                .write(toFile: "\(share)/bad.json", atomically: true, encoding: .utf8)
            try CaptureVMTests.config(instance: "change", width: 640, height: 480, port: 5003)
                .write(toFile: "\(share)/change.json", atomically: true, encoding: .utf8)
            for (i, format) in CaptureVMTests.rawFormats.enumerated() {
                try CaptureVMTests.config(
                    instance: format.lowercased(), width: CaptureVMTests.long.width,
                    height: CaptureVMTests.long.height, port: 5004 + i, pixelFormat: format,
                    bitrate: CaptureVMTests.long.bitrate, audioCodec: CaptureVMTests.long.audio
                )
                .write(toFile: "\(share)/\(format.lowercased()).json", atomically: true, encoding: .utf8)
            }
            // Under TCG on 2 cores the guest runs in about 2.5 minutes.
            let r = try VirtualBoard.boot(guest: "capture-guest.sh", share: share, vmTimeout: 420)
            status = r.status
            log = ((try? String(contentsOfFile: "\(share)/guest.log", encoding: .utf8)) ?? "") + r.stderr
            try? fm.removeItem(atPath: "\(share)/rill")
            try? fm.removeItem(atPath: "\(share)/tone.wav")
        }
    }

    static let boot = Result { try Boot() }

    let share: String
    let status: Int32
    let log: String

    init() throws {
        let b = try Self.boot.get()
        share = b.share
        status = b.status
        log = b.log
    }

    /// The timed run (A/V drift, disconnect): a raster and rate the emulated guest keeps up with
    /// (vivid scales its 1280x720p30 HDMI input; x264 ultrafast), so its timing measures our code,
    /// not the emulator.
    /// MPEG-1 Layer II, not AAC: libavcodec's AAC encoder is floating point, which TCG emulates in
    /// software, and it could not keep up (≈ 30 of 47 frames/s even in a release build).
    static let long = (width: 320, height: 180, bitrate: 400_000, audio: "mp2")
    /// The raw formats besides YUYV that vivid offers and vcap takes (in the guest's order, UDP ports
    /// 5004 and up); vivid offers no MJPEG.
    static let rawFormats = ["NV12", "YUV420"]
    /// Samples per MPEG-1 Layer II frame (ISO/IEC 11172-3 §2.4.2.1).
    static let mp2FrameSamples = 1152.0

    static func config(
        instance: String, width: Int, height: Int, port: Int, pixelFormat: String = "YUYV", bitrate: Int = 1_500_000,
        audioCodec: String = "aac"
    ) -> String {
        """
        {
          "system": { "instance": "\(instance)", "runDirectory": "/tmp/run" },
          "source": { "type": "capture",
                      "video": { "device": "/dev/video0", "width": \(width), "height": \(height), "fps": 30, "pixelFormat": "\(pixelFormat)" },
                      "audio": { "device": "hw:Loopback,1,0", "sampleRate": 48000, "channels": 2 } },
          "encoders": { "video": { "codec": "h264", "bitrate": \(bitrate), "keyint": 30, "preset": "ultrafast" },
                        "audio": { "codec": "\(audioCodec)", "bitrate": 128000 } },
          "program": { "mode": "vbr" },
          "outputs": [ { "id": "udp", "url": "udp://127.0.0.1:\(port)" } ],
          "api": { "enabled": false }
        }
        """
    }

    func file(_ name: String) -> String { "\(share)/\(name)" }

    @Test("the guest ran every step")
    func guestRan() {
        #expect(status == 0, "virtual board: \(log.suffix(2000))")
    }

    @Test(
        "vivid 1280x720 YUYV 30 fps + aloop tone ⇒ ffprobe: H.264 1280x720 30 fps + AAC 48 kHz; the captured tone decodes at 1 kHz"
    )
    func hdChain() throws {
        let streams = try ffprobeStreams(file("hd.ts"))
        let video = streams.first { $0.codec == "h264" }
        let audio = streams.first { $0.codec == "aac" }
        #expect(video?.width == 1280 && video?.height == 720, "\(streams) \(log.suffix(800))")
        // ffprobe's r_frame_rate is a guess from timestamps, which the frames x264 drops under
        // emulation (it encodes 720p at ~14 fps in TCG) can throw off (30000/1001 seen once);
        // the rate the stream itself signals is the H.264 VUI timing, read by ffmpeg.
        let vui = try signalledFrameRate(file("hd.ts"))
        #expect(video?.frameRate == "30/1" || vui == 30, "r_frame_rate \(video?.frameRate ?? "-"), VUI \(vui) fps")
        #expect(audio?.sampleRate == 48_000, "\(streams)")
        // The tone is measured on the long run (MP2, which the emulated guest encodes in real time):
        // AAC's floating point is emulated in software under TCG and its encoder lags in this short run.
        let hz = try toneFrequency(file("long.ts"))
        #expect(abs(hz - 1000) < 5, "decoded tone at \(hz) Hz")
        let source = (try? String(contentsOfFile: file("hd-source.json"), encoding: .utf8)) ?? ""
        print("vcap 1280x720 YUYV in the virtual board: \(source)")
    }

    /// A stage's counters as the guest copied them at the end of the long run (long-STAGE.json).
    func longStats(_ stage: String) -> [String: Any] {
        let data = (try? Data(contentsOf: URL(fileURLWithPath: file("long-\(stage).json")))) ?? Data()
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    @Test(
        "60 s: the audio samples fill the video's PTS window to within one audio frame (no A/V drift), no video frame lost in the pipeline"
    )
    func drift() throws {
        let video = try framesPTS(file("long.ts"), stream: "v:0")
        let audio = try framesPTS(file("long.ts"), stream: "a:0")
        try #require(video.count > 100 && audio.count > 100, "\(video.count) video, \(audio.count) audio frames")
        // A window away from start-up and shutdown: if either clock drifted against the PTS (the
        // audio card's crystal, dropped video), its media would no longer fill the window.
        let t1 = video.first!.pts + 2
        let t2 = video.last!.pts - 2
        let span = t2 - t1
        #expect(span > 50, "the run spans only \(span) s of video")
        let videoFill = Double(video.filter { $0.pts >= t1 && $0.pts < t2 }.count) / 30
        let audioFill = audio.filter { $0.pts >= t1 && $0.pts < t2 }.reduce(0.0) { $0 + $1.duration }
        let audioFrame = Self.mp2FrameSamples / 48_000
        // acap fills an overrun with silence, so even a starved guest keeps the sample count.
        #expect(abs(audioFill - span) <= audioFrame, "audio fills \(audioFill) s of a \(span) s window")
        // Video: frames that never reached the TS do not move the PTS, but each must be accounted
        // for: the driver's sequence gaps (vivid skips frames when the emulated guest is late;
        // vcap counts them) and the encoder's "fell behind the source: N frames lost" (a stall of
        // the emulated CPU longer than the raw ring). A frame missing beyond those was lost
        // silently in our pipeline; frames beyond the span would be a clock running fast. Both
        // counts cover the whole run, so they bound the window's losses from above.
        let vcap = longStats("source")
        let driverSkipped = Double(vcap["dropped"] as? Int ?? 0) / 30
        let boxLog = (try? String(contentsOfFile: file("long.log"), encoding: .utf8)) ?? ""
        let encoderLost =
            Double(
                boxLog.split(separator: "\n").compactMap { line -> Int? in
                    guard let r = line.range(of: "fell behind the source: ") else { return nil }
                    return Int(line[r.upperBound...].prefix { $0.isNumber })
                }.reduce(0, +)) / 30
        let tolerance = 2.0 / 30  // a frame period at each edge of the window
        #expect(
            videoFill <= span + tolerance,
            "video fills \(videoFill) s of a \(span) s window: more frames than the PTS span")
        #expect(
            videoFill + driverSkipped + encoderLost >= span - tolerance,
            "video fills \(videoFill) s of a \(span) s window; the driver skipped \(driverSkipped) s and the encoder reported \(encoderLost) s lost: the rest was lost without a count"
        )
        // The emulated guest must keep up well enough for the run to mean something.
        #expect(
            driverSkipped + encoderLost <= span / 20,
            "\(driverSkipped + encoderLost) s of \(span) s lost: the guest did not keep up")
        print(
            "A/V over a \(String(format: "%.2f", span)) s PTS window: audio samples fill \(String(format: "%.4f", audioFill)) s, "
                + "video frames \(String(format: "%.4f", videoFill)) s, the driver skipped \(String(format: "%.3f", driverSkipped)) s, "
                + "the encoder reported \(String(format: "%.3f", encoderLost)) s lost; vcap \(vcap), acap \(longStats("audio-source"))"
        )
    }

    @Test("vivid disconnect ⇒ NO SIGNAL slate ≤ 3 frame periods after the last frame, 0 CC errors, picture back")
    func disconnect() throws {
        let frames = try topLuma(file("long.ts"))
        try #require(frames.count > 100, "\(frames.count) frames")
        // In the measured strip (right quarter, second eighth from the top) vivid shows its blue
        // and black bars (Y ≈ 22) and the slate its flat grey (Y 64).
        let slate = frames.map { abs($0.luma - 64) < 8 }
        // The disconnect's slate is the longest run (vcap reopens the device after a second); a
        // guest the emulator stalls for more than two frame periods may show short ones too,
        // rightly (no frame came), and so may the start before vivid's first frame.
        var runs: [Range<Int>] = []
        var i = 0
        while i < slate.count {
            guard slate[i] else {
                i += 1
                continue
            }
            let start = i
            while i < slate.count && slate[i] { i += 1 }
            runs.append(start..<i)
        }
        guard let outage = runs.filter({ $0.lowerBound > 0 }).max(by: { $0.count < $1.count }) else {
            Issue.record("no slate after a live frame in \(frames.count) frames; \(log.suffix(1500))")
            return
        }
        let firstSlate = outage.lowerBound
        let lastLive = frames[firstSlate - 1].pts
        let gap = frames[firstSlate].pts - lastLive
        #expect(
            outage.count >= 15,
            "the longest slate lasts \(outage.count) frames; the disconnect should give about a second")
        #expect(gap <= 3.0 / 30 + 0.002, "slate \(gap * 1000) ms after the last live frame")
        #expect(outage.upperBound < slate.count, "the picture never came back after the slate")
        let cc = try runProcess(["tshark", "-r", file("long.ts"), "-Y", "mp2t.cc.drop"], timeout: 120)
        #expect(cc.stdout.split(separator: "\n").isEmpty, "CC drops: \(cc.stdout.prefix(300))")
        let events = (try? String(contentsOfFile: file("long.log"), encoding: .utf8)) ?? ""
        #expect(events.contains("INPUT_SIGNAL"), "no INPUT_SIGNAL event in the box log")
        print(
            "slate \(String(format: "%.1f", gap * 1000)) ms after the last live frame; \(outage.count) slate frames in the outage, "
                + "\(runs.count - 1) other slate runs (\(runs.map(\.count).reduce(0, +) - outage.count) frames)")
    }

    @Test("HDMI source change 640x480p59.94 → 720x576p50 on a receiver without a scaler: the TS follows, 0 CC errors")
    func sourceChange() throws {
        let r = try runProcess(
            [
                "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=width,height", "-of",
                "csv=p=0", file("change.ts"),
            ],
            timeout: 120)
        var sizes: [String] = []  // the distinct frame sizes in decoding order
        for line in r.stdout.split(separator: "\n") {
            let size = line.split(separator: ",").prefix(2).joined(separator: ",")  // csv may end in empty fields
            if sizes.last != size { sizes.append(size) }
        }
        let text = (try? String(contentsOfFile: file("change.log"), encoding: .utf8)) ?? ""
        #expect(sizes == ["640,480", "720,576"], "frame sizes in order: \(sizes); \(text.suffix(1500))")
        #expect(text.contains("source change"), "no source change in the log")
        let cc = try runProcess(["tshark", "-r", file("change.ts"), "-Y", "mp2t.cc.drop"], timeout: 120)
        #expect(cc.stdout.split(separator: "\n").isEmpty, "CC drops: \(cc.stdout.prefix(300))")
    }

    @Test("an unsupported format request names the device, the request and what the device offers")
    func unsupportedFormat() throws {
        let rc = try String(contentsOfFile: file("bad.rc"), encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        let text = try String(contentsOfFile: file("bad.log"), encoding: .utf8)
        #expect(rc == "2", "exit \(rc): \(text)")
        #expect(text.contains("/dev/video0") && text.contains("MJPEG 1280x720@30") && text.contains("YUYV"), "\(text)")
    }

    /// vivid renders the same colour bars in every format; the bottom quarter of the picture is
    /// free of its text overlay. A format whose planes were read wrongly (NV12 taken for I420, Cb
    /// and Cr swapped, line padding kept) gives a different picture there than the YUYV capture.
    @Test(
        "vivid NV12 and YUV420 at 320x180 ⇒ H.264 320x180 whose colour bars match the YUYV capture's (PSNR ≥ 30 dB in Y, Cb and Cr)",
        arguments: rawFormats)
    func rawFormat(format: String) throws {
        let name = format.lowercased()
        let boxLog = (try? String(contentsOfFile: file("\(name).log"), encoding: .utf8)) ?? ""
        let streams = try ffprobeStreams(file("\(name).ts"))
        let video = streams.first { $0.codec == "h264" }
        #expect(
            video?.width == Self.long.width && video?.height == Self.long.height, "\(streams) \(boxLog.suffix(800))")
        // vcap logs what the driver settled on ("/dev/video0 (vivid vivid): NV12 320x180@…"): the format asked for.
        #expect(boxLog.contains("): \(format) \(Self.long.width)x\(Self.long.height)@"), "\(boxLog.suffix(1500))")
        // The bottom quarter of frame 15 of this run (past the start-up slate, which lasts a frame
        // or two; an emulated guest may encode few frames in its 20 s) against frame 45 of the YUYV run.
        func strip(_ frame: Int) -> String {
            "trim=start_frame=\(frame):end_frame=\(frame + 1),setpts=PTS-STARTPTS,crop=iw:ih/4:0:ih*3/4"
        }
        let r = try runProcess(
            [
                "ffmpeg", "-hide_banner", "-i", file("long.ts"), "-i", file("\(name).ts"), "-lavfi",
                "[0:v:0]\(strip(45))[a];[1:v:0]\(strip(15))[b];[a][b]psnr", "-f", "null", "-",
            ], timeout: 120)
        let line = r.stderr.split(separator: "\n").first { $0.contains("PSNR y:") }.map(String.init) ?? ""
        func plane(_ key: String) -> Double {
            line.split(separator: " ").first { $0.hasPrefix("\(key):") }.flatMap { Double($0.dropFirst(key.count + 1)) }
                ?? 0
        }
        let (y, u, v) = (plane("y"), plane("u"), plane("v"))
        #expect(y >= 30 && u >= 30 && v >= 30, "\(format) against YUYV: \(line) \(r.stderr.suffix(400))")
        print("vcap \(format) 320x180 against YUYV, bottom quarter of a frame: \(line)")
    }

    @Test("rill devices lists vivid with its formats and the loopback capture PCM")
    func devices() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: file("devices.json")))
        let obj = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let video = obj["video"] as? [[String: Any]] ?? []
        let audio = obj["audio"] as? [[String: Any]] ?? []
        #expect(
            video.contains {
                ($0["driver"] as? String) == "vivid"
                    && (($0["formats"] as? [[String: Any]])?.contains { ($0["pixelFormat"] as? String) == "YUYV" }
                        ?? false)
            }, "\(video.prefix(1))")
        #expect(audio.contains { ($0["device"] as? String)?.hasPrefix("hw:Loopback,1") == true }, "\(audio)")
    }

    // MARK: Host-side measurements (FFmpeg)

    struct TimedFrame {
        var pts: Double
        var duration: Double
    }

    /// Frames per second from the H.264 VUI (time_scale / 2 num_units_in_tick), via ffmpeg's
    /// trace_headers bitstream filter.
    func signalledFrameRate(_ path: String) throws -> Double {
        let r = try runProcess(
            [
                "ffmpeg", "-hide_banner", "-i", path, "-map", "0:v", "-c", "copy", "-bsf:v", "trace_headers",
                "-frames:v", "1", "-f", "null", "-",
            ],
            timeout: 60)
        func field(_ name: String) -> Double? {
            r.stderr.split(separator: "\n").first { $0.contains(" \(name) ") }?.split(separator: "=").last
                .flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        }
        guard let scale = field("time_scale"), let tick = field("num_units_in_tick"), tick > 0 else { return 0 }
        return scale / (2 * tick)
    }

    func framesPTS(_ path: String, stream: String) throws -> [TimedFrame] {
        let r = try runProcess(
            [
                "ffprobe", "-v", "error", "-select_streams", stream, "-show_entries", "frame=pts_time,nb_samples",
                "-of", "json", path,
            ],
            timeout: 180)
        guard let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
            let frames = obj["frames"] as? [[String: Any]]
        else { throw TestEnvironmentError("ffprobe -show_frames \(path): \(r.stderr.prefix(300))") }
        // Audio: the decoded samples at 48 kHz; video: one period at 30 fps.
        return frames.compactMap { f in
            guard let p = Double(f["pts_time"] as? String ?? "") else { return nil }
            return TimedFrame(pts: p, duration: (f["nb_samples"] as? Int).map { Double($0) / 48_000 } ?? 1.0 / 30)
        }
    }

    /// Mean luma of a strip of each decoded frame (ffmpeg signalstats), with its PTS.
    func topLuma(_ path: String) throws -> [(pts: Double, luma: Double)] {
        let r = try runProcess(
            [
                "ffmpeg", "-v", "fatal", "-i", path, "-map", "0:v:0", "-fps_mode", "passthrough", "-vf",
                "crop=iw/4:ih/8:iw*3/4:ih/8,signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-", "-f", "null",
                "-",
            ], timeout: 300)
        var out: [(Double, Double)] = []
        var pts: Double? = nil
        for line in r.stdout.split(separator: "\n") {
            if let range = line.range(of: "pts_time:") {
                pts = Double(line[range.upperBound...].prefix { !$0.isWhitespace })
            } else if line.hasPrefix("lavfi.signalstats.YAVG="), let p = pts,
                let v = Double(line.dropFirst("lavfi.signalstats.YAVG=".count))
            {
                out.append((p, v))
            }
        }
        return out
    }

    /// The dominant frequency of the decoded audio (zero crossings of 2 s from the middle).
    func toneFrequency(_ path: String) throws -> Double {
        let pcm = "\(share)/tone.s16"
        let r = try runProcess(
            [
                "ffmpeg", "-v", "error", "-ss", "3", "-i", path, "-t", "2", "-map", "0:a:0", "-ac", "1", "-f", "s16le",
                "-y", pcm,
            ], timeout: 120)
        guard r.status == 0 else { throw TestEnvironmentError("ffmpeg decode: \(r.stderr)") }
        let data = try Data(contentsOf: URL(fileURLWithPath: pcm))
        let samples = data.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        guard samples.count > 48_000 else { return 0 }
        var crossings = 0
        for i in 1..<samples.count where (samples[i - 1] < 0) != (samples[i] < 0) { crossings += 1 }
        return Double(crossings) / 2 / (Double(samples.count) / 48_000)
    }
}
