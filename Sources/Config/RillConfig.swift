import MediaTime

/// The box's configuration (DESIGN.md: sections system, source, encoders, program, outputs,
/// events, api; and monitoring). Each section may live in its own file (`ConfigDocument`).
/// Every field is documented in the README's configuration reference.
public struct RillConfig: Sendable, Equatable {
    /// `system`: run-time files and ring names.
    public var system = SystemSection()
    /// `source`: where video and audio come from.
    public var source = SourceSection()
    /// `encoders`: the video and audio encoders.
    public var encoders = EncoderSection()
    /// `program`: the transport stream's identifiers, PIDs and timing.
    public var program = ProgramSection()
    /// `outputs`: where the transport stream goes, in document order.
    public var outputs: [OutputSection] = []
    /// `events`: handlers run on box events.
    public var events: [EventHandlerSection] = []
    /// `monitoring`: audio alarm thresholds of the confidence monitor.
    public var monitoring = MonitoringSection()
    /// `api`: the HTTP API.
    public var api = APISection()

    /// The top-level sections, in document order.
    public static let sections = [
        "system", "source", "encoders", "program", "outputs", "events", "monitoring", "api",
    ]

    /// The built-in defaults (a 720p50 test source to no output).
    public init() {}
}

/// `system`: where the box keeps its run-time files.
public struct SystemSection: Sendable, Equatable {
    /// Names this box's shared-memory rings (`/dev/shm/rill.<instance>.*`); [A-Za-z0-9_-], ≤ 32.
    public var instance = "default"
    /// Run-time directory for stage configs, stats and default SDP files.
    public var runDirectory = "/run/rill"
    /// `system.logLevel`: the lowest level written to the journal, for rilld and every stage
    /// (swift-log's names: trace, debug, info, notice, warning, error, critical; default info).
    public var logLevel = "info"
    /// The values `system.logLevel` accepts, lowest first.
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
    /// The defaults (instance "default", /run/rill).
    public init() {}
}

/// `source`: the built-in test source, capture devices (V4L2 + ALSA) or a gateway input.
public struct SourceSection: Sendable, Equatable {
    /// `source.type`: the test source, a gateway input, or capture devices.
    public enum Kind: String, Sendable { case testsrc, gateway, capture }
    /// `source.type` (default testsrc).
    public var type: Kind = .testsrc
    /// Gateway input (`type: "gateway"`): where the TS comes from (`srt://:9000`, `srt://host:port`).
    public var url: MediaURL? = nil
    /// The input URL as written.
    public var urlText: String? = nil
    /// Gateway input from an SDP file (`source.sdp`): the file is read when the config is loaded,
    /// and `url` becomes the stream it describes (group, port, source filter, FEC).
    public var sdpFile: String? = nil
    /// `source.video.width`, pixels (16…7680, even for 4:2:0).
    public var width: Int64 = 1280
    /// `source.video.height`, pixels (16…4320, even for 4:2:0).
    public var height: Int64 = 720
    /// `source.video.fps`, frames per second (an integer 1…240 or a ratio like 30000/1001).
    public var fps = FrameRate(50)
    /// testsrc: "I420" or "NV12"; capture: what the device delivers ("YUYV", "NV12", "YUV420",
    /// "MJPEG"), converted to I420 on the way into the ring.
    public var pixelFormat = "I420"
    /// Capture: the V4L2 device node (`/dev/video0`).
    public var videoDevice: String? = nil
    /// Capture: the V4L2 input to select (VIDIOC_S_INPUT); nil keeps the driver's.
    public var videoInput: Int64? = nil
    /// Capture: the ALSA PCM (`hw:Loopback,1,0`, `plughw:1,0`, `default`); nil = no audio device,
    /// acap then writes silence so the program keeps its audio track.
    public var audioDevice: String? = nil
    /// Capture: the device's sample format, "S16_LE", "S24_3LE" or "S32_LE" (the ring carries S16).
    public var audioFormat = "S16_LE"
    /// Capture: the ALSA period, ms (≤ 10: the audio part of capture → wire latency).
    public var audioPeriodMs: Int64 = 10
    /// `source.audio.sampleRate`, Hz (only 48 000).
    public var sampleRate: Int64 = 48_000
    /// `source.audio.channels` (1…8).
    public var channels: Int64 = 2
    /// Test tone, Hz.
    public var toneFrequency: Double = 1000
    /// Test tone level, dBFS.
    public var toneLevel: Double = -20
    /// `source.video.signal` (test source only): "lost" sends the NO SIGNAL slate instead of the
    /// bars, as a capture card does when its input goes away — to test alarms, the page and the
    /// far end's handling of a lost signal without unplugging anything.
    public var signalLost = false
    /// The defaults (720p50 I420 test pattern, 48 kHz stereo 1 kHz tone at −20 dBFS).
    public init() {}
}

/// `encoders`: one video and one audio encoder.
public struct EncoderSection: Sendable, Equatable {
    /// `encoders.video`.
    public var video = VideoEncoderSection()
    /// `encoders.audio`.
    public var audio = AudioEncoderSection()
    /// The defaults (x264 at 4 Mb/s, AAC at 128 kb/s).
    public init() {}
}

/// `encoders.video`: x264 or a V4L2 mem2mem hardware encoder.
public struct VideoEncoderSection: Sendable, Equatable {
    /// `encoders.video.codec`: "h264", or "fwht" (backend "v4l2m2m" only): the FWHT test codec of
    /// the kernel's vicodec, which checks a board's capture → encoder plumbing where no H.264
    /// encoder exists (the virtual board). The mux carries only H.264 and drops FWHT units.
    public var codec = "h264"
    /// "x264" (software, x86 boards) or "v4l2m2m" (the board's hardware encoder at `device`).
    public var backend = "x264"
    /// The mem2mem encoder node (backend "v4l2m2m"); Raspberry Pi: /dev/video11.
    public var device = "/dev/video11"
    /// Target bitrate, bits/s.
    public var bitrate: Int64 = 4_000_000
    /// VBV maximum rate, bits/s (default: bitrate).
    public var maxrate: Int64? = nil
    /// VBV buffer, bits (default: maxrate / 4, i.e. 250 ms).
    public var bufsize: Int64? = nil
    /// Maximum GOP length, frames.
    public var keyint: Int64 = 50
    /// `encoders.video.preset`: the x264 preset, "ultrafast" … "veryslow".
    public var preset = "veryfast"
    /// `encoders.video.tune`: the x264 tune ("zerolatency", "film", …); nil: none.
    public var tune: String? = "zerolatency"
    /// `encoders.video.profile`: the H.264 profile, "baseline", "main" or "high".
    public var profile = "high"
    /// x264 threads (0 = auto).
    public var threads: Int64 = 0
    /// The defaults (x264 veryfast zerolatency, High profile, 4 Mb/s, keyint 50).
    public init() {}

    /// maxrate, defaulted.
    public var effectiveMaxrate: Int64 { maxrate ?? bitrate }
    /// bufsize, defaulted.
    public var effectiveBufsize: Int64 { bufsize ?? effectiveMaxrate / 4 }
}

/// `encoders.audio`.
public struct AudioEncoderSection: Sendable, Equatable {
    /// "aac" (libavcodec AAC-LC), "mp2" (libavcodec), "s302m" (native SMPTE 302M LPCM).
    public var codec = "aac"
    /// bits/s (aac, mp2); ignored by s302m, whose rate follows from sample rate, channels and bits.
    public var bitrate: Int64 = 128_000
    /// 302M sample width: 16 or 24.
    public var bitsPerSample: Int64 = 16
    /// The defaults (AAC at 128 kb/s, 16-bit for 302M).
    public init() {}

    /// Bits/s this encoder produces for `channels` at `sampleRate` (302M: AES3 framing included).
    public func bitsPerSecond(channels: Int64, sampleRate: Int64) -> Int64 {
        guard codec == "s302m" else { return bitrate }
        // SMPTE 302M §5: each sample travels with 4 AES3 bits (V, U, C, F); channels padded to pairs.
        let pairs = (channels + 1) / 2
        return pairs * 2 * (bitsPerSample + 4) * sampleRate
    }
}

/// `program`: the transport stream.
public struct ProgramSection: Sendable, Equatable {
    /// `program.serviceName`: the SDT's service name (EN 300 468 service_descriptor), 1–64 bytes.
    public var serviceName = "Rill"
    /// `program.providerName`: the SDT's provider name (EN 300 468 service_descriptor), 1–64 bytes.
    public var providerName = "Rill"
    /// "cbr" or "vbr".
    public var mode = "vbr"
    /// Transport rate, bits/s (CBR only).
    public var muxrate: Int64? = nil
    /// `program.transportStreamId`: transport_stream_id in the PAT and SDT (0…65535).
    public var transportStreamID: Int64 = 1
    /// `program.programNumber`: program_number in the PAT and PMT (1…65535).
    public var programNumber: Int64 = 1
    /// `program.pmtPID`: the PMT's PID (0x20…0x1FFE).
    public var pmtPID: Int64 = 0x1000
    /// `program.videoPID`: the video elementary stream's PID (0x20…0x1FFE).
    public var videoPID: Int64 = 0x100
    /// `program.audioPID`: the audio elementary stream's PID (0x20…0x1FFE).
    public var audioPID: Int64 = 0x101
    /// PCR interval, ms (≤ 40, TR 101 290 §5.2.2).
    public var pcrInterval: Int64 = 20
    /// PAT/PMT interval, ms (≤ 100).
    public var psiInterval: Int64 = 90
    /// Presentation delay added to PTS/DTS, ms (default: 150 VBR, 150 + VBV delay CBR).
    public var delay: Int64? = nil
    /// The defaults (VBR, PIDs 0x1000/0x100/0x101, PCR every 20 ms, PSI every 90 ms).
    public init() {}
}

/// `outputs[i]`.
public struct OutputSection: Sendable, Equatable {
    /// Unique id ([A-Za-z0-9_-]).
    public var id: String
    /// Where to send (`rtp://239.255.42.1:5000?ttl=4`, `udp://…`, `srt://…`).
    public var url: MediaURL
    /// The URL as written.
    public var urlText: String
    /// Path of the SDP file to write (rtp only); nil: none.
    public var sdp: String?
    /// Whether the output starts with the box.
    public var enabled = true
    /// Recording (`file:///dir/$datetime.ts?split=600&maxsize=2000`): the path template.
    public var recordPath: String? = nil

    /// An output `id` sending to `url` (`urlText` as written), writing `sdp` if given.
    public init(id: String, url: MediaURL, urlText: String, sdp: String? = nil, enabled: Bool = true) {
        self.id = id
        self.url = url
        self.urlText = urlText
        self.sdp = sdp
        self.enabled = enabled
    }
}
