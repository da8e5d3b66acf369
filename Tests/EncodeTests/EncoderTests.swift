import Config
import Encode
import Foundation
import MediaTime
import Testing

/// The encoders of the encode stage on their own, without rings or processes.
@Suite("Encoders")
struct EncoderTests {
    /// A 1 kHz sine at −20 dBFS, interleaved S16, `frames` frames of `channels`.
    static func tone(frames: Int, channels: Int) -> [Int16] {
        let amplitude = 32767.0 * pow(10, -20.0 / 20)
        return (0..<frames * channels).map { i in
            Int16(amplitude * sin(2 * Double.pi * 1000 * Double(i / channels) / 48_000))
        }
    }

    /// One 302M sample pair read back by the layout of SMPTE 302M-2007 §7 (AES3 subframe bits,
    /// each byte sent bit-reversed): 16-bit pairs in 5 bytes, 24-bit pairs in 7 bytes.
    static func unpack(_ b: ArraySlice<UInt8>, bits: Int) -> (Int32, Int32) {
        let r = b.map { S302MLayout.reverse($0) }
        let s = r.startIndex == 0 ? r : Array(r)
        if bits == 16 {
            let left = UInt32(s[0]) | UInt32(s[1]) << 8
            let right = UInt32(s[2] >> 4) | UInt32(s[3]) << 4 | UInt32(s[4] & 0x0F) << 12
            return (Int32(Int16(bitPattern: UInt16(left))), Int32(Int16(bitPattern: UInt16(right))))
        }
        let left = UInt32(s[0]) | UInt32(s[1]) << 8 | UInt32(s[2]) << 16
        let right = UInt32(s[3] >> 4) | UInt32(s[4]) << 4 | UInt32(s[5]) << 12 | UInt32(s[6] & 0x0F) << 20
        return (Int32(bitPattern: left << 8) >> 8, Int32(bitPattern: right << 8) >> 8)
    }

    @Test(
        "SMPTE 302M: header fields (§7.3) and AES3 pair packing for 2/4/6/8 channels at 16 and 24 bits",
        arguments: [(2, 16), (4, 16), (6, 24), (8, 24), (1, 16)])
    func s302m(channels: Int, bits: Int) throws {
        let encoder = S302MEncoder(channels: channels, bitsPerSample: bits)
        let pcm = Self.tone(frames: encoder.frameSize, channels: channels).enumerated().map { i, v in
            v &+ Int16(i % channels)
        }
        var frames: [[UInt8]] = []
        try pcm.withUnsafeBufferPointer { p in
            try encoder.encode(p.baseAddress!, firstSample: 0) { frames.append(Array($0.bytes)) }
        }
        let frame = try #require(frames.first)
        let pairs = (channels + 1) / 2
        let bytesPerPair = bits == 24 ? 7 : 5
        // audio_packet_size 16 | number_channels 2 | channel_identification 8 | bits_per_sample 2 | alignment 4
        let header = UInt32(frame[0]) << 24 | UInt32(frame[1]) << 16 | UInt32(frame[2]) << 8 | UInt32(frame[3])
        #expect(Int(header >> 16) == encoder.frameSize * pairs * bytesPerPair)
        #expect(Int((header >> 14) & 0x3) == pairs - 1, "number_channels")
        #expect((header >> 4) & 0x3 == (bits == 24 ? 2 : 0), "bits_per_sample")
        #expect(frame.count == 4 + encoder.frameSize * pairs * bytesPerPair)
        // Every sample comes back; a missing right channel of a mono input repeats the left.
        for f in [0, 1, 479, 959] {
            for pair in 0..<pairs {
                let at = 4 + (f * pairs + pair) * bytesPerPair
                let (l, r) = Self.unpack(frame[at..<(at + bytesPerPair)], bits: bits)
                let scale: Int32 = bits == 24 ? 256 : 1
                let wantL = Int32(pcm[f * channels + pair * 2]) * scale
                let wantR =
                    pair * 2 + 1 < channels
                    ? Int32(pcm[f * channels + pair * 2 + 1]) * scale : (channels == 1 ? wantL : 0)
                #expect(l == wantL && r == wantR, "frame \(f) pair \(pair): (\(l), \(r)) vs (\(wantL), \(wantR))")
            }
        }
    }

    @Test(
        "libavcodec AAC-LC and MP2: one coded frame per frameSize samples, first samples advancing by it",
        arguments: ["aac", "mp2"])
    func libav(codec: String) throws {
        let encoder = try LibAVAudioEncoder(codec: codec, bitrate: 128_000, sampleRate: 48_000, channels: 2)
        #expect(encoder.frameSize == (codec == "aac" ? 1024 : 1152))
        let pcm = Self.tone(frames: 48_000, channels: 2)
        var starts: [Int64] = []
        var bytes = 0
        try pcm.withUnsafeBufferPointer { p in
            var offset = 0
            while offset + encoder.frameSize <= 48_000 {
                try encoder.encode(p.baseAddress! + offset * 2, firstSample: Int64(offset)) {
                    starts.append($0.firstSample)
                    bytes += $0.bytes.count
                }
                offset += encoder.frameSize
            }
        }
        // The codec delay holds back at most a couple of frames; the rest are in order, one frameSize apart.
        #expect(starts.count >= 48_000 / encoder.frameSize - 2, "\(starts.count) frames")
        #expect(
            zip(starts, starts.dropFirst()).allSatisfy { $1 - $0 == Int64(encoder.frameSize) }, "\(starts.prefix(5))")
        // 128 kb/s for ≈ 1 s, within the rate control's slack.
        #expect(bytes > 12_000 && bytes < 20_000, "\(bytes) bytes for 1 s at 128 kb/s")
        if codec == "aac" { #expect(encoder.codecConfig.count >= 2, "AudioSpecificConfig") }
    }

    @Test(
        "x264: fixed GOP (an IDR every keyint frames, no scene cuts), SPS+PPS before each IDR, AUD first, PTS mapped back"
    )
    func x264() throws {
        var config = VideoEncoderSection()
        config.keyint = 10
        config.bitrate = 500_000
        config.preset = "ultrafast"
        let (w, h) = (320, 240)
        let encoder = try X264Encoder(config: config, width: w, height: h, fps: FrameRate(25), nv12: false, cbr: false)
        #expect(Self.nalTypes(encoder.headers).starts(with: [7, 8]), "headers: \(Self.nalTypes(encoder.headers))")
        var units: [(pts: Int64, key: Bool, nals: [UInt8])] = []
        var frame = [UInt8](repeating: 128, count: w * h * 3 / 2)
        for i in 0..<40 {
            // A scene cut every 7 frames (black ↔ white) must not add IDRs: the GOP is fixed.
            for p in 0..<(w * h) { frame[p] = (i / 7) % 2 == 0 ? 16 : 235 }
            try frame.withUnsafeBytes { f in
                try encoder.encode(frame: f, ptsNs: Int64(i) * 40_000_000, captureNs: 7) {
                    units.append(($0.ptsNs, $0.keyframe, Self.nalTypes(Array($0.bytes))))
                }
            }
        }
        try encoder.flush { units.append(($0.ptsNs, $0.keyframe, Self.nalTypes(Array($0.bytes)))) }
        #expect(units.count == 40)
        #expect(units.map(\.pts) == (0..<40).map { Int64($0) * 40_000_000 }, "zerolatency: no reordering, PTS as given")
        #expect(units.enumerated().filter { $0.element.key }.map(\.offset) == [0, 10, 20, 30])
        for u in units {
            #expect(u.nals.first == 9, "AUD first: \(u.nals)")
            #expect(u.key == (u.nals.contains(5) && u.nals.contains(7) && u.nals.contains(8)), "\(u.nals)")
        }
    }

    @Test(
        "x264: forceKeyframe makes the very next frame an IDR (after an upstream restart), and the GOP counts from it")
    func x264ForcedIDR() throws {
        var config = VideoEncoderSection()
        config.keyint = 10
        config.preset = "ultrafast"
        let encoder = try X264Encoder(
            config: config, width: 160, height: 120, fps: FrameRate(25), nv12: false, cbr: false)
        var keys: [Bool] = []
        let frame = [UInt8](repeating: 100, count: 160 * 120 * 3 / 2)
        for i in 0..<30 {
            if i == 5 { encoder.forceKeyframe() }
            try frame.withUnsafeBytes { f in
                try encoder.encode(frame: f, ptsNs: Int64(i) * 40_000_000, captureNs: 0) { keys.append($0.keyframe) }
            }
        }
        try encoder.flush { keys.append($0.keyframe) }
        #expect(keys.enumerated().filter { $0.element }.map(\.offset) == [0, 5, 15, 25])
    }

    @Test("x264 refuses a preset it does not know, naming the field")
    func x264BadPreset() {
        var config = VideoEncoderSection()
        config.preset = "warp-speed"
        #expect {
            try X264Encoder(config: config, width: 320, height: 240, fps: FrameRate(25), nv12: false, cbr: false)
        } throws: { "\($0)".contains("encoders.video.preset") }
    }

    /// nal_unit_type of each Annex B NAL unit in `bytes`.
    static func nalTypes(_ bytes: [UInt8]) -> [UInt8] {
        var types: [UInt8] = []
        var i = 0
        while i + 3 < bytes.count {
            if bytes[i] == 0, bytes[i + 1] == 0, bytes[i + 2] == 1 {
                types.append(bytes[i + 3] & 0x1F)
                i += 3
            } else {
                i += 1
            }
        }
        return types
    }
}

/// Bit reversal as SMPTE 302M's AES3 byte order needs it, written out in the test.
enum S302MLayout {
    static func reverse(_ b: UInt8) -> UInt8 {
        var out: UInt8 = 0
        for bit in 0..<8 where b & (1 << bit) != 0 { out |= 1 << (7 - bit) }
        return out
    }
}
