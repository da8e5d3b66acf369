import Box
import Config
import MediaTime
import Runtime

#if canImport(Glibc)
import Glibc
#endif

/// The JSON of `GET /api/v1/status`, assembled from the supervisor's stage table and the stages'
/// statistics files.
enum StatusReport {
    static func make(_ box: BoxController) -> JSON {
        let cfg = box.store.config
        let stages = box.supervisor.status
        let now = MonotonicClock.wallNow()
        func stage(_ name: String) -> Supervisor.StageStatus? { stages.first { $0.name == name } }
        func num(_ v: JSON?) -> JSON { v ?? .number(0) }

        var stageList: [JSON] = []
        for s in stages {
            var m: [(String, JSON)] = [
                ("name", .string(s.name)), ("pid", .number(Double(s.pid))), ("state", .string(s.state.rawValue)),
                ("restarts", .number(Double(s.restarts))),
            ]
            if let e = s.lastExit { m.append(("lastExit", .string(e))) }
            if s.startedAt > 0 {
                m.append(("uptimeSeconds", .number(Double((now - s.startedAt) / MediaTime.nanosecondsPerSecond))))
            }
            stageList.append(.object(m))
        }

        var source: [(String, JSON)] = [("type", .string(cfg.source.type.rawValue))]
        if cfg.source.type != .gateway {
            let st = box.statistics("source")
            let running = stage(cfg.source.type == .capture ? "vcap" : "testsrc")?.state == .running
            source += [
                (
                    "signal",
                    .string(
                        running && st != nil
                            ? (st?["signal"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? "present")
                            : "lost")
                ),
                ("width", .number(Double(cfg.source.width))), ("height", .number(Double(cfg.source.height))),
                ("fps", st?["fps"] ?? .number(0)), ("nominalFps", .string("\(cfg.source.fps)")),
                ("frames", num(st?["frames"])), ("droppedFrames", num(st?["dropped"])),
            ]
            if cfg.source.type == .capture {
                let audio = box.statistics("audio-source")
                source += [
                    ("videoDevice", .string(cfg.source.videoDevice ?? "")),
                    ("audioDevice", .string(cfg.source.audioDevice ?? "")),
                    ("slateFrames", num(st?["slateFrames"])), ("captureLatencyP99Us", num(st?["latencyP99Us"])),
                    ("audioXruns", num(audio?["xruns"])), ("audioClockPPM", num(audio?["clockPPM"])),
                ]
            }
        } else {
            source.append(("url", .string(cfg.source.urlText ?? cfg.source.sdpFile ?? "")))
            // Gateway input counters (RTP/UDP: FEC and 2022-7; RIST: librist's), as the input wrote them.
            if let st = box.statistics("recv") {
                for key in [
                    "received", "duplicates", "late", "fecPackets", "recovered", "lost", "ccErrors", "bitrate", "rist",
                    "rttMs", "connected",
                    "peer", "streamid", "connects", "rejected", "retransmitted", "dropped",
                ] {
                    if let v = st[key] { source.append((key, v)) }
                }
            }
        }

        var encoders: [(String, JSON)] = []
        for (key, name) in [("video", "encode-video"), ("audio", "encode-audio")] {
            guard let st = box.statistics(name) else { continue }
            encoders.append(
                (
                    key,
                    .object([
                        ("codec", num(st["codec"])), ("bitrate", num(st["bitrate"])), ("fps", num(st["fps"])),
                        ("frames", num(st["frames"])),
                        ("queue", num(st["queue"])), ("dropped", num(st["dropped"])),
                    ])
                ))
        }
        var program: [(String, JSON)] = [
            ("mode", .string(cfg.program.mode)), ("pcrIntervalMs", .number(Double(cfg.program.pcrInterval))),
            ("psiIntervalMs", .number(Double(cfg.program.psiInterval))),
        ]
        if let m = cfg.program.muxrate { program.append(("muxrate", .number(Double(m)))) }
        if let st = box.statistics("mux") {
            program += [
                ("packets", num(st["frames"])), ("bitrate", num(st["bitrate"])),
                ("nullPackets", num(st["nullPackets"])),
            ]
        }

        var outputs: [JSON] = []
        for o in cfg.outputs {
            let s = stage("send-\(o.id)")
            var m: [(String, JSON)] = [
                ("id", .string(o.id)), ("url", .string(o.urlText)), ("state", .string(s?.state.rawValue ?? "stopped")),
            ]
            if let st = box.statistics(o.id) {
                for key in [
                    "bytes", "packets", "datagrams", "sendErrors", "lostChunks", "connects", "rejected", "peers",
                    "rist", "file", "fileBytes", "fileSeconds",
                ] {
                    if let v = st[key] { m.append((key, v)) }
                }
                if let h = st["captureToWire"] {
                    m.append(
                        (
                            "captureToWireMs",
                            .object([
                                ("p50", .number(ms(h["p50Ns"]))), ("p99", .number(ms(h["p99Ns"]))),
                                ("max", .number(ms(h["maxNs"]))),
                            ])
                        ))
                }
            }
            if let sdp = o.sdp { m.append(("sdp", .string(sdp))) }
            outputs.append(.object(m))
        }
        let c = box.events.counters
        return .object([
            (
                "box",
                .object([
                    ("instance", .string(box.instance)), ("version", .string(BoxController.version)),
                    ("pid", .number(Double(getpid()))),
                    ("uptimeSeconds", .number(Double((now - box.startedAt) / MediaTime.nanosecondsPerSecond))),
                    ("config", .string(box.store.mainFile)),
                    ("configDirectory", box.store.directory.map { .string($0) } ?? .null),
                ])
            ),
            ("stages", .array(stageList)),
            ("source", .object(source)),
            ("encoders", .object(encoders)),
            ("program", .object(program)),
            ("outputs", .array(outputs)),
            (
                "events",
                .object([
                    ("delivered", .number(Double(c.delivered))), ("failed", .number(Double(c.failed))),
                    ("dropped", .number(Double(c.dropped))),
                ])
            ),
        ])
    }

    static func ms(_ v: JSON?) -> Double {
        guard case .number(let ns) = v ?? .null else { return 0 }
        return (ns / 1e4).rounded() / 100
    }
}
