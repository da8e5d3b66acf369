/// SMPTE 302M (AES3 LPCM in MPEG-2 TS), native: a 4-byte header and channel pairs packed as AES3
/// subframes with bit-reversed bytes (SMPTE 302M-2007 §6–7). The V, U, C, F bits are sent as 0.
public final class S302MEncoder: AudioEncoder {
    /// 20 ms at 48 kHz: one PES every 20 ms keeps the PES overhead low and the latency small.
    public let frameSize = 960
    /// Empty: 302M needs no codec configuration (the 4-byte header travels in every payload).
    public let codecConfig: [UInt8] = []
    /// SMPTE 302M is defined for 48 kHz only (§5).
    public static let sampleRate = 48_000

    let channels: Int  // input channels
    let pairs: Int  // coded channel pairs (2, 4, 6 or 8 channels)
    let bits: Int  // 16 or 24
    private var buffer: [UInt8]

    /// An encoder for `channels` (1–8, padded to pairs with silence) at `bitsPerSample` (16 or 24).
    public init(channels: Int, bitsPerSample: Int) {
        self.channels = channels
        self.pairs = max(1, (channels + 1) / 2)
        self.bits = bitsPerSample
        let bytesPerPair = bitsPerSample == 24 ? 7 : 5
        buffer = [UInt8](repeating: 0, count: 4 + frameSize * pairs * bytesPerPair)
    }

    /// Reverses the bit order of a byte (AES3 sends LSB first; 302M carries the bytes reversed).
    @inline(__always)
    static func reversed(_ b: UInt8) -> UInt8 {
        var v = b
        v = (v & 0xF0) >> 4 | (v & 0x0F) << 4
        v = (v & 0xCC) >> 2 | (v & 0x33) << 2
        v = (v & 0xAA) >> 1 | (v & 0x55) << 1
        return v
    }

    /// Packs one block of `frameSize` interleaved S16 sample frames into one 302M payload for `output`.
    public func encode(_ pcm: UnsafePointer<Int16>, firstSample: Int64, output: (CodedAudioFrame) throws -> Void) throws
    {
        let bytesPerPair = bits == 24 ? 7 : 5
        let payload = frameSize * pairs * bytesPerPair
        try buffer.withUnsafeMutableBytes { out in
            // Header, §7.3: audio_packet_size 16 | number_channels 2 | channel_identification 8 |
            // bits_per_sample 2 | alignment_bits 4.
            let channelCode = UInt32(pairs - 1)
            let bitsCode: UInt32 = bits == 24 ? 2 : 0
            let header = UInt32(payload) << 16 | channelCode << 14 | bitsCode << 4
            out[0] = UInt8(header >> 24)
            out[1] = UInt8((header >> 16) & 0xFF)
            out[2] = UInt8((header >> 8) & 0xFF)
            out[3] = UInt8(header & 0xFF)
            var o = 4
            for f in 0..<frameSize {
                for pair in 0..<pairs {
                    let li = pair * 2
                    let ri = pair * 2 + 1
                    let l = li < channels ? Int32(pcm[f * channels + li]) : 0
                    let r = ri < channels ? Int32(pcm[f * channels + ri]) : (channels == 1 ? l : 0)
                    if bits == 24 {
                        let a = UInt32(bitPattern: l << 8) & 0xFF_FFFF
                        let b = UInt32(bitPattern: r << 8) & 0xFF_FFFF
                        out[o] = Self.reversed(UInt8(a & 0xFF))
                        out[o + 1] = Self.reversed(UInt8((a >> 8) & 0xFF))
                        out[o + 2] = Self.reversed(UInt8(a >> 16))
                        out[o + 3] = Self.reversed(UInt8((b & 0x0F) << 4))
                        out[o + 4] = Self.reversed(UInt8((b >> 4) & 0xFF))
                        out[o + 5] = Self.reversed(UInt8((b >> 12) & 0xFF))
                        out[o + 6] = Self.reversed(UInt8((b >> 20) & 0x0F))
                    } else {
                        let a = UInt16(bitPattern: Int16(l))
                        let b = UInt16(bitPattern: Int16(r))
                        out[o] = Self.reversed(UInt8(a & 0xFF))
                        out[o + 1] = Self.reversed(UInt8(a >> 8))
                        out[o + 2] = Self.reversed(UInt8((b & 0x0F) << 4))
                        out[o + 3] = Self.reversed(UInt8((b >> 4) & 0xFF))
                        out[o + 4] = Self.reversed(UInt8(b >> 12))
                    }
                    o += bytesPerPair
                }
            }
            try output(CodedAudioFrame(bytes: UnsafeRawBufferPointer(rebasing: out[0..<o]), firstSample: firstSample))
        }
    }
}
