import MediaTime

extension RillConfig {
    /// Decodes and validates a config document. Errors name the JSON path of the field.
    public static func decode(_ text: String) throws -> RillConfig {
        let json: JSON
        do { json = try JSONParser.parse(text) } catch { throw error }
        return try decode(json)
    }

    /// Decodes and validates a parsed config document.
    public static func decode(_ json: JSON) throws(ConfigError) -> RillConfig {
        var root = try ObjectReader(json, path: "")
        var c = RillConfig()
        if var o = try root.object("system") { c.system = try .decode(&o) }
        if var o = try root.object("source") { c.source = try .decode(&o) }
        if var o = try root.object("encoders") { c.encoders = try .decode(&o) }
        if var o = try root.object("program") { c.program = try .decode(&o) }
        if let items = try root.array("outputs") {
            for (i, item) in items.enumerated() {
                var o = try ObjectReader(item, path: "outputs[\(i)]")
                c.outputs.append(try .decode(&o))
            }
        }
        if let items = try root.array("events") {
            for (i, item) in items.enumerated() {
                var o = try ObjectReader(item, path: "events[\(i)]")
                c.events.append(try .decode(&o))
            }
        }
        if var o = try root.object("monitoring") { c.monitoring = try .decode(&o) }
        if var o = try root.object("api") { c.api = try .decode(&o) }
        try root.finish()
        try c.validate()
        return c
    }

    /// Cross-field checks: unique output ids, PIDs distinct, muxrate above the streams' needs.
    public func validate() throws(ConfigError) {
        var ids: Set<String> = []
        for (i, o) in outputs.enumerated() {
            guard ids.insert(o.id).inserted else {
                throw ConfigError(path: "outputs[\(i)].id", reason: "duplicate output id \"\(o.id)\"")
            }
        }
        for (i, e) in events.enumerated() {
            for (j, id) in (e.outputs ?? []).enumerated() where !outputs.contains(where: { $0.id == id }) {
                throw ConfigError(path: "events[\(i)].outputs[\(j)]", reason: "no output has id \"\(id)\"")
            }
        }
        let pids = [
            ("program.pmtPID", program.pmtPID), ("program.videoPID", program.videoPID),
            ("program.audioPID", program.audioPID),
        ]
        for (k, (name, v)) in pids.enumerated() where pids[..<k].contains(where: { $0.1 == v }) {
            throw ConfigError(path: name, reason: "PID \(v) is used twice")
        }
        if program.mode == "cbr" {
            guard let muxrate = program.muxrate else {
                throw ConfigError(path: "program.muxrate", reason: "required when program.mode is \"cbr\"")
            }
            let need = requiredMuxrate
            guard muxrate >= need else {
                throw ConfigError(
                    path: "program.muxrate",
                    reason:
                        "\(muxrate) b/s is below the \(need) b/s the streams need (video maxrate \(encoders.video.effectiveMaxrate) + audio \(audioBitrate) + TS/PES/PSI overhead)"
                )
            }
        }
    }

    /// Audio bits/s.
    public var audioBitrate: Int64 {
        encoders.audio.bitsPerSecond(channels: source.channels, sampleRate: source.sampleRate)
    }

    /// The lowest muxrate that carries the streams: each ES grows by TS headers (188/184), PES
    /// headers and adaptation fields (≈ 2 %), plus PSI and PCR packets.
    public var requiredMuxrate: Int64 {
        let es = encoders.video.effectiveMaxrate + audioBitrate
        let withHeaders = es * 188 / 184 * 102 / 100
        let psi =
            Int64(3 * 188 * 8) * 1000 / max(program.psiInterval, 1) + Int64(188 * 8) * 1000
            / max(program.pcrInterval, 1)
        return withHeaders + psi
    }

    /// The mux's presentation delay, ns.
    public var muxDelay: Int64 {
        if let d = program.delay { return d * MediaTime.millisecond }
        let base: Int64 = 150 * MediaTime.millisecond
        guard program.mode == "cbr" else { return base }
        let vbv =
            encoders.video.effectiveBufsize * MediaTime.nanosecondsPerSecond / max(encoders.video.effectiveMaxrate, 1)
        return base + vbv
    }
}

extension SystemSection {
    static func decode(_ o: inout ObjectReader) throws(ConfigError) -> SystemSection {
        var s = SystemSection()
        if let v = try o.string("instance") {
            guard !v.isEmpty, v.count <= 32,
                v.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            else {
                throw ConfigError(path: o.path("instance"), reason: "must be 1–32 characters of A–Z a–z 0–9 - _")
            }
            s.instance = v
        }
        if let v = try o.string("runDirectory") {
            guard v.hasPrefix("/") else {
                throw ConfigError(path: o.path("runDirectory"), reason: "must be an absolute path")
            }
            s.runDirectory = v
        }
        if let v = try o.choice("logLevel", SystemSection.logLevels) { s.logLevel = v }
        try o.finish()
        return s
    }
}

extension SourceSection {
    static func decode(_ o: inout ObjectReader) throws(ConfigError) -> SourceSection {
        var s = SourceSection()
        if let t = try o.choice("type", ["testsrc", "gateway", "capture"]) { s.type = Kind(rawValue: t)! }
        if s.type == .capture { s.pixelFormat = "YUYV" }
        if let text = try o.string("url") {
            guard s.type == .gateway else {
                throw ConfigError(path: o.path("url"), reason: "only a gateway source has a url")
            }
            let url = try MediaURL.parse(text, path: o.path("url"))
            switch url.scheme {
            case "srt":
                _ = try SRTSettings.parse(url, path: o.path("url"))
            case "rist":
                _ = try RISTSettings.parse(text, path: o.path("url"))
            case "rtp", "udp":
                let allowed = Set(["iface", "source"]).union(url.scheme == "rtp" ? RTPOptions.names : Set<String>())
                for (k, _) in url.options where !allowed.contains(k) {
                    throw ConfigError(
                        path: o.path("url"),
                        reason: "unknown option \"\(k)\" (allowed: \(allowed.sorted().joined(separator: ", ")))")
                }
                guard url.host.isEmpty || IPv4Address(url.host) != nil else {
                    throw ConfigError(
                        path: o.path("url"), reason: "host \"\(url.host)\" must be an IPv4 address (or empty: any)")
                }
                if let v = url.option("source"), IPv4Address(v) == nil {
                    throw ConfigError(path: o.path("url"), reason: "source \"\(v)\" is not an IPv4 address")
                }
                _ = try RTPOptions.parse(url, path: o.path("url"))
            default:
                throw ConfigError(
                    path: o.path("url"),
                    reason: "gateway inputs are srt://, rist://, rtp:// or udp:// (or an SDP file: source.sdp)")
            }
            s.url = url
            s.urlText = text
        }
        if let sdp = try o.string("sdp") {
            guard s.type == .gateway else {
                throw ConfigError(path: o.path("sdp"), reason: "only a gateway source reads an SDP file")
            }
            guard s.url == nil else { throw ConfigError(path: o.path("sdp"), reason: "give url or sdp, not both") }
            guard sdp.hasPrefix("/") else { throw ConfigError(path: o.path("sdp"), reason: "must be an absolute path") }
            s.sdpFile = sdp
        } else if s.type == .gateway && s.url == nil {
            throw ConfigError(path: o.path("url"), reason: "required for a gateway source (or sdp: an SDP file)")
        }
        if var v = try o.object("video") {
            if let w = try v.int("width", in: 16...7680) {
                guard w % 2 == 0 else { throw ConfigError(path: v.path("width"), reason: "must be even (4:2:0)") }
                s.width = w
            }
            if let h = try v.int("height", in: 16...4320) {
                guard h % 2 == 0 else { throw ConfigError(path: v.path("height"), reason: "must be even (4:2:0)") }
                s.height = h
            }
            if let f = v.raw("fps") { s.fps = try parseFrameRate(f, path: v.path("fps")) }
            if s.type == .capture {
                if let p = try v.choice("pixelFormat", ["YUYV", "NV12", "YUV420", "MJPEG"]) { s.pixelFormat = p }
                s.videoDevice = try v.string("device")
                s.videoInput = try v.int("input", in: 0...255)
            } else {
                if let p = try v.choice("pixelFormat", ["I420", "NV12"]) { s.pixelFormat = p }
                if s.type == .testsrc, let signal = try v.choice("signal", ["present", "lost"]) {
                    s.signalLost = signal == "lost"
                }
            }
            try v.finish()
        }
        if s.type == .capture {
            guard let d = s.videoDevice, d.hasPrefix("/dev/") else {
                throw ConfigError(
                    path: o.path("video") + ".device", reason: "a capture source needs a V4L2 device node (/dev/videoN)"
                )
            }
        }
        if var a = try o.object("audio") {
            if let r = try a.int("sampleRate", in: 48_000...48_000) { s.sampleRate = r }
            if let c = try a.int("channels", in: 1...8) { s.channels = c }
            if s.type == .capture {
                s.audioDevice = try a.string("device")
                if s.audioDevice?.isEmpty == true {
                    throw ConfigError(path: a.path("device"), reason: "must name an ALSA PCM (hw:CARD,DEV,SUB)")
                }
                if let f = try a.choice("format", ["S16_LE", "S24_3LE", "S32_LE"]) { s.audioFormat = f }
                if let p = try a.int("periodMs", in: 1...10) { s.audioPeriodMs = p }
            }
            if let f = try a.double("frequency", in: 20...20_000) { s.toneFrequency = f }
            if let l = try a.double("level", in: -96...0) { s.toneLevel = l }
            try a.finish()
        }
        try o.finish()
        return s
    }

    static func parseFrameRate(_ v: JSON, path: String) throws(ConfigError) -> FrameRate {
        switch v {
        case .number(let d) where d.rounded() == d && d >= 1 && d <= 240:
            return FrameRate(Int64(d))
        case .string(let s):
            let parts = s.split(separator: "/")
            if parts.count == 2, let n = Int64(parts[0]), let d = Int64(parts[1]), n > 0, d > 0, n / d <= 240 {
                return FrameRate(n, d)
            }
            if let n = Int64(s), n >= 1, n <= 240 { return FrameRate(n) }
        default: break
        }
        throw ConfigError(path: path, reason: "must be an integer 1…240 or a ratio like \"30000/1001\"")
    }
}

extension EncoderSection {
    static func decode(_ o: inout ObjectReader) throws(ConfigError) -> EncoderSection {
        var s = EncoderSection()
        if var v = try o.object("video") {
            if let c = try v.choice("codec", ["h264", "fwht"]) { s.video.codec = c }
            if let b = try v.choice("backend", ["x264", "v4l2m2m"]) { s.video.backend = b }
            if s.video.codec == "fwht" && s.video.backend != "v4l2m2m" {
                throw ConfigError(
                    path: v.path("codec"), reason: "fwht is vicodec's mem2mem test codec: it needs backend \"v4l2m2m\"")
            }
            if let d = try v.string("device") {
                guard d.hasPrefix("/dev/") else {
                    throw ConfigError(
                        path: v.path("device"), reason: "a mem2mem encoder is a device node (/dev/videoN), got \(d)")
                }
                s.video.device = d
            }
            if let b = try v.int("bitrate", in: 100_000...200_000_000) { s.video.bitrate = b }
            s.video.maxrate = try v.int("maxrate", in: 100_000...400_000_000)
            s.video.bufsize = try v.int("bufsize", in: 10_000...400_000_000)
            if let k = try v.int("keyint", in: 1...1000) { s.video.keyint = k }
            if let p = try v.choice(
                "preset",
                ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"])
            {
                s.video.preset = p
            }
            if v.has("tune") {
                s.video.tune = try v.choice(
                    "tune", ["zerolatency", "film", "animation", "grain", "stillimage", "psnr", "ssim", "fastdecode"])
            }
            if let p = try v.choice("profile", ["baseline", "main", "high"]) { s.video.profile = p }
            if let t = try v.int("threads", in: 0...64) { s.video.threads = t }
            if let m = s.video.maxrate, m < s.video.bitrate {
                throw ConfigError(path: v.path("maxrate"), reason: "\(m) is below bitrate \(s.video.bitrate)")
            }
            try v.finish()
        }
        if var a = try o.object("audio") {
            if let c = try a.choice("codec", ["aac", "mp2", "s302m"]) { s.audio.codec = c }
            if let b = try a.int("bitrate", in: 32_000...512_000) { s.audio.bitrate = b }
            if let b = try a.int("bitsPerSample", in: 16...24) {
                guard b == 16 || b == 24 else {
                    throw ConfigError(path: a.path("bitsPerSample"), reason: "must be 16 or 24")
                }
                s.audio.bitsPerSample = b
            }
            try a.finish()
        }
        try o.finish()
        return s
    }
}

extension ProgramSection {
    static func decode(_ o: inout ObjectReader) throws(ConfigError) -> ProgramSection {
        var s = ProgramSection()
        // The SDT carries both in one packet (EN 300 468 service_descriptor).
        for key in ["serviceName", "providerName"] {
            guard let v = try o.string(key) else { continue }
            guard !v.isEmpty, v.utf8.count <= 64, !v.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw ConfigError(path: o.path(key), reason: "must be 1–64 bytes of UTF-8 without control characters")
            }
            if key == "serviceName" { s.serviceName = v } else { s.providerName = v }
        }
        if let v = try o.choice("mode", ["cbr", "vbr"]) { s.mode = v }
        s.muxrate = try o.int("muxrate", in: 500_000...400_000_000)
        if let v = try o.int("transportStreamId", in: 0...0xFFFF) { s.transportStreamID = v }
        if let v = try o.int("programNumber", in: 1...0xFFFF) { s.programNumber = v }
        let pidRange: ClosedRange<Int64> = 0x20...0x1FFE  // DVB: 0x10–0x1F are SI (EN 300 468 §5.1.3)
        if let v = try o.int("pmtPID", in: pidRange) { s.pmtPID = v }
        if let v = try o.int("videoPID", in: pidRange) { s.videoPID = v }
        if let v = try o.int("audioPID", in: pidRange) { s.audioPID = v }
        if let v = try o.int("pcrInterval", in: 10...40) { s.pcrInterval = v }  // ≤ 40 ms, TR 101 290 §5.2.2
        if let v = try o.int("psiInterval", in: 20...100) { s.psiInterval = v }
        s.delay = try o.int("delay", in: 20...5000)
        try o.finish()
        return s
    }
}

extension OutputSection {
    /// The variables a recording path may use (the seed's).
    public static let recordingVariables = ["$datetime", "$date", "$time", "$output", "$service"]

    /// `file:///abs/path/$datetime.ts?split=SECONDS&maxsize=MB`.
    static func recording(_ text: String, path urlPath: String, id: String) throws(ConfigError) -> OutputSection {
        var rest = Substring(text.dropFirst("file://".count))
        var options: [(String, String)] = []
        if let q = rest.firstIndex(of: "?") {
            for part in rest[rest.index(after: q)...].split(separator: "&") {
                let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
                guard kv.count == 2 else {
                    throw ConfigError(path: urlPath, reason: "option \"\(part)\" needs a value")
                }
                switch kv[0] {
                case "split":
                    guard let v = Int64(kv[1]), (10...86_400).contains(v) else {
                        throw ConfigError(path: urlPath, reason: "split=\(kv[1]): 10…86400 seconds")
                    }
                case "maxsize":
                    guard let v = Int64(kv[1]), (1...1_000_000).contains(v) else {
                        throw ConfigError(path: urlPath, reason: "maxsize=\(kv[1]): 1…1000000 MB")
                    }
                default:
                    throw ConfigError(path: urlPath, reason: "unknown option \"\(kv[0])\" (allowed: maxsize, split)")
                }
                options.append((kv[0], kv[1]))
            }
            rest = rest[..<q]
        }
        let file = MediaURL.percentDecode(String(rest))
        guard file.hasPrefix("/"), !file.hasSuffix("/") else {
            throw ConfigError(
                path: urlPath, reason: "file:// needs an absolute file path (file:///var/lib/rill/rec/$datetime.ts)")
        }
        if file.split(separator: "/").contains("..") {
            throw ConfigError(path: urlPath, reason: "the path may not contain ..")
        }
        let rotating = !options.isEmpty
        if rotating && !(file.contains("$datetime") || file.contains("$time")) {
            throw ConfigError(
                path: urlPath,
                reason:
                    "a rotating recording needs $datetime or $time in its name, or every file would overwrite the last")
        }
        var out = OutputSection(
            id: id, url: MediaURL(scheme: "file", host: "", port: 0, options: options), urlText: text)
        out.recordPath = file
        return out
    }

    /// Options each output scheme accepts.
    static let allowedOptions: [String: Set<String>] = [
        "rtp": ["ttl", "iface", "source", "tos", "ssrc", "fec", "cols", "columns", "rows", "level", "dup"],
        "udp": ["ttl", "iface", "source", "tos"],
    ]

    static func decode(_ o: inout ObjectReader) throws(ConfigError) -> OutputSection {
        guard let id = try o.string("id") else { throw ConfigError(path: o.path("id"), reason: "required") }
        guard !id.isEmpty, id.count <= 32,
            id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else {
            throw ConfigError(path: o.path("id"), reason: "must be 1–32 characters of A–Z a–z 0–9 - _")
        }
        guard let text = try o.string("url") else { throw ConfigError(path: o.path("url"), reason: "required") }
        let urlPath = o.path("url")
        if text.lowercased().hasPrefix("file://") {
            var out = try recording(text, path: urlPath, id: id)
            if try o.string("sdp") != nil {
                throw ConfigError(path: o.path("sdp"), reason: "SDP files describe rtp:// outputs only")
            }
            out.enabled = try o.bool("enabled") ?? true
            try o.finish()
            return out
        }
        let url = try MediaURL.parse(text, path: urlPath)
        if url.scheme == "rist" {
            _ = try RISTSettings.parse(text, path: urlPath)
            if try o.string("sdp") != nil {
                throw ConfigError(path: o.path("sdp"), reason: "SDP files describe rtp:// outputs only")
            }
            let enabled = try o.bool("enabled") ?? true
            try o.finish()
            return OutputSection(id: id, url: url, urlText: text, sdp: nil, enabled: enabled)
        }
        if url.scheme == "srt" {
            _ = try SRTSettings.parse(url, path: urlPath)
            if try o.string("sdp") != nil {
                throw ConfigError(path: o.path("sdp"), reason: "SDP files describe rtp:// outputs only")
            }
            let enabled = try o.bool("enabled") ?? true
            try o.finish()
            return OutputSection(id: id, url: url, urlText: text, sdp: nil, enabled: enabled)
        }
        guard let allowed = allowedOptions[url.scheme] else {
            throw ConfigError(
                path: urlPath, reason: "scheme \"\(url.scheme)\" is not supported (rtp, udp, srt, rist, file)")
        }
        for (k, v) in url.options {
            guard allowed.contains(k) else {
                throw ConfigError(
                    path: urlPath,
                    reason: "unknown option \"\(k)\" (allowed: \(allowed.sorted().joined(separator: ", ")))")
            }
            switch k {
            case "ttl":
                guard let t = Int(v), (1...255).contains(t) else {
                    throw ConfigError(path: urlPath, reason: "ttl must be 1…255")
                }
            case "tos":
                guard let t = Int(v), (0...255).contains(t) else {
                    throw ConfigError(path: urlPath, reason: "tos must be 0…255")
                }
            case "source":
                guard IPv4Address(v) != nil else {
                    throw ConfigError(path: urlPath, reason: "source \"\(v)\" is not an IPv4 address")
                }
            case "ssrc":
                guard UInt32(v) != nil else { throw ConfigError(path: urlPath, reason: "ssrc must be 0…4294967295") }
            default: break
            }
        }
        guard IPv4Address(url.host) != nil else {
            throw ConfigError(path: urlPath, reason: "host \"\(url.host)\" must be an IPv4 address")
        }
        _ = try RTPOptions.parse(url, path: urlPath)
        let sdp = try o.string("sdp")
        if let sdp {
            guard url.scheme == "rtp" else {
                throw ConfigError(path: o.path("sdp"), reason: "SDP files describe rtp:// outputs only")
            }
            guard sdp.hasPrefix("/") else { throw ConfigError(path: o.path("sdp"), reason: "must be an absolute path") }
        }
        let enabled = try o.bool("enabled") ?? true
        try o.finish()
        return OutputSection(id: id, url: url, urlText: text, sdp: sdp, enabled: enabled)
    }
}
