import CALSA
import Config
import V4L2

#if canImport(Glibc)
import Glibc
#endif

/// The capture devices of this machine with what they offer, for `rill devices` and the API's
/// `/api/v1/devices`: V4L2 capture nodes (formats, sizes, rates, inputs) and ALSA capture PCMs
/// (sample formats, channels, rates). A device that is busy is listed with the reason.
public enum DeviceInventory {
    /// `{ "video": [...], "audio": [...] }`.
    public static func json(devDirectory: String = "/dev") -> JSON {
        .object([("video", .array(videoDevices(devDirectory: devDirectory))), ("audio", .array(audioDevices()))])
    }

    static func videoDevices(devDirectory: String) -> [JSON] {
        var nodes: [String] = []
        if let dir = opendir(devDirectory) {
            while let e = readdir(dir) {
                let name = withUnsafeBytes(of: e.pointee.d_name) {
                    String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name.hasPrefix("video"), Int(name.dropFirst(5)) != nil { nodes.append("\(devDirectory)/\(name)") }
            }
            closedir(dir)
        }
        nodes.sort { $0.count != $1.count ? $0.count < $1.count : $0 < $1 }
        return nodes.compactMap { path in
            do {
                let d = try CaptureDevice(path: path)
                let formats: [JSON] = d.formats().map { f in
                    .object([
                        ("pixelFormat", .string(f.fourcc.configName)), ("fourcc", .string(f.fourcc.description)),
                        ("description", .string(f.description)), ("compressed", .bool(f.compressed)),
                        ("supported", .bool(f.fourcc.isCapturable)),
                        ("sizes", .array(f.sizes.map { .string($0.summary) })),
                    ])
                }
                return .object([
                    ("device", .string(path)), ("driver", .string(d.driver)), ("card", .string(d.card)),
                    ("bus", .string(d.bus)),
                    ("inputs", .array(d.inputs().map { .string($0) })), ("formats", .array(formats)),
                ])
            } catch let e as V4L2Error where e.code == ENOTTY {
                return nil  // not a capture node (metadata, output, mem2mem)
            } catch {
                return .object([("device", .string(path)), ("error", .string("\(error)"))])
            }
        }
    }

    static func audioDevices() -> [JSON] {
        var out: [JSON] = []
        var card: Int32 = -1
        while snd_card_next(&card) == 0 && card >= 0 {
            var ctl: OpaquePointer?
            guard snd_ctl_open(&ctl, "hw:\(card)", 0) == 0, let ctl else { continue }
            defer { snd_ctl_close(ctl) }
            var cardInfo: OpaquePointer?
            snd_ctl_card_info_malloc(&cardInfo)
            defer { snd_ctl_card_info_free(cardInfo) }
            _ = snd_ctl_card_info(ctl, cardInfo)
            let cardID = String(cString: snd_ctl_card_info_get_id(cardInfo))
            let cardName = String(cString: snd_ctl_card_info_get_name(cardInfo))
            var device: Int32 = -1
            while snd_ctl_pcm_next_device(ctl, &device) == 0 && device >= 0 {
                var info: OpaquePointer?
                snd_pcm_info_malloc(&info)
                defer { snd_pcm_info_free(info) }
                snd_pcm_info_set_device(info, UInt32(device))
                snd_pcm_info_set_subdevice(info, 0)
                snd_pcm_info_set_stream(info, SND_PCM_STREAM_CAPTURE)
                guard snd_ctl_pcm_info(ctl, info) == 0 else { continue }  // playback only
                let name = "hw:\(cardID),\(device)"
                var entry: [(String, JSON)] = [
                    ("device", .string(name)), ("card", .string(cardName)),
                    ("pcm", .string(String(cString: snd_pcm_info_get_name(info)))),
                    ("subdevices", .number(Double(snd_pcm_info_get_subdevices_count(info)))),
                ]
                entry += capabilities(of: name)
                out.append(.object(entry))
            }
        }
        return out
    }

    /// Formats, channel and rate ranges of a capture PCM (opened non-blocking, briefly).
    static func capabilities(of name: String) -> [(String, JSON)] {
        var pcm: OpaquePointer?
        let rc = snd_pcm_open(&pcm, name, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK)
        guard rc == 0, let pcm else { return [("error", .string(String(cString: snd_strerror(rc))))] }
        defer { snd_pcm_close(pcm) }
        var hw: OpaquePointer?
        snd_pcm_hw_params_malloc(&hw)
        defer { snd_pcm_hw_params_free(hw) }
        guard snd_pcm_hw_params_any(pcm, hw) >= 0 else { return [("error", .string("no configuration"))] }
        let formats = [
            ("S16_LE", SND_PCM_FORMAT_S16_LE), ("S24_3LE", SND_PCM_FORMAT_S24_3LE), ("S32_LE", SND_PCM_FORMAT_S32_LE),
        ]
        .filter { snd_pcm_hw_params_test_format(pcm, hw, $0.1) == 0 }.map { JSON.string($0.0) }
        var cmin: UInt32 = 0
        var cmax: UInt32 = 0
        var rmin: UInt32 = 0
        var rmax: UInt32 = 0
        var dir: Int32 = 0
        snd_pcm_hw_params_get_channels_min(hw, &cmin)
        snd_pcm_hw_params_get_channels_max(hw, &cmax)
        snd_pcm_hw_params_get_rate_min(hw, &rmin, &dir)
        snd_pcm_hw_params_get_rate_max(hw, &rmax, &dir)
        return [
            ("formats", .array(formats)), ("channels", .string("\(cmin)–\(min(cmax, 64))")),
            ("rates", .string("\(rmin)–\(rmax) Hz")),
        ]
    }
}
