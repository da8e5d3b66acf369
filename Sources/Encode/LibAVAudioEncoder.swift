import CAVCodec

/// AAC-LC (with ADTS headers, ISO/IEC 13818-7 §6.2) or MPEG-1 Layer II through FFmpeg's
/// libavcodec (LGPL-2.1+ as Debian builds it; see the README's licensing note).
public final class LibAVAudioEncoder: AudioEncoder {
    /// Sample frames per input block, as libavcodec sets it (AAC-LC 1024, MP2 1152).
    public let frameSize: Int
    /// libavcodec's extradata (AAC: the AudioSpecificConfig), empty when it gives none.
    public private(set) var codecConfig: [UInt8] = []
    private var context: UnsafeMutablePointer<AVCodecContext>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private let channels: Int
    private let sampleRate: Int
    private let adts: Bool
    private let planarFloat: Bool
    private var outBuffer = [UInt8](repeating: 0, count: 16_384)

    /// Opens `codec` ("aac" or "mp2") for interleaved S16 input.
    public init(codec: String, bitrate: Int64, sampleRate: Int, channels: Int) throws {
        self.channels = channels
        self.sampleRate = sampleRate
        adts = codec == "aac"
        CodecLogging.installLibAV()
        let id = codec == "aac" ? AV_CODEC_ID_AAC : AV_CODEC_ID_MP2
        guard let c = avcodec_find_encoder(id) else {
            throw EncoderError.rejected(field: "encoders.audio.codec", reason: "libavcodec has no \(codec) encoder")
        }
        guard let ctx = avcodec_alloc_context3(c) else { throw EncoderError.failed("avcodec_alloc_context3") }
        context = ctx
        planarFloat = codec == "aac"
        ctx.pointee.sample_fmt = planarFloat ? AV_SAMPLE_FMT_FLTP : AV_SAMPLE_FMT_S16
        ctx.pointee.sample_rate = Int32(sampleRate)
        av_channel_layout_default(&ctx.pointee.ch_layout, Int32(channels))
        ctx.pointee.bit_rate = bitrate
        ctx.pointee.time_base = AVRational(num: 1, den: Int32(sampleRate))
        if adts { ctx.pointee.profile = FF_PROFILE_AAC_LOW }
        let rc = avcodec_open2(ctx, c, nil)
        guard rc >= 0 else {
            avcodec_free_context(&context)
            throw EncoderError.rejected(
                field: "encoders.audio",
                reason:
                    "libavcodec cannot open \(codec) at \(bitrate) b/s, \(channels) ch, \(sampleRate) Hz (error \(rc))")
        }
        frameSize = Int(ctx.pointee.frame_size)
        if let extra = ctx.pointee.extradata, ctx.pointee.extradata_size > 0 {
            codecConfig = Array(UnsafeBufferPointer(start: extra, count: Int(ctx.pointee.extradata_size)))
        }
        frame = av_frame_alloc()
        packet = av_packet_alloc()
        guard let frame, packet != nil else { throw EncoderError.failed("av_frame_alloc / av_packet_alloc") }
        frame.pointee.nb_samples = Int32(frameSize)
        frame.pointee.format = ctx.pointee.sample_fmt.rawValue
        frame.pointee.sample_rate = Int32(sampleRate)
        av_channel_layout_copy(&frame.pointee.ch_layout, &ctx.pointee.ch_layout)
        guard av_frame_get_buffer(frame, 0) >= 0 else { throw EncoderError.failed("av_frame_get_buffer") }
    }

    deinit {
        av_frame_free(&frame)
        av_packet_free(&packet)
        avcodec_free_context(&context)
    }

    /// Encodes one block of `frameSize` interleaved S16 sample frames starting at sample `firstSample`;
    /// calls `output` with every coded frame libavcodec returns.
    public func encode(_ pcm: UnsafePointer<Int16>, firstSample: Int64, output: (CodedAudioFrame) throws -> Void) throws
    {
        guard let frame, let context, let packet else { return }
        guard av_frame_make_writable(frame) >= 0 else { throw EncoderError.failed("av_frame_make_writable") }
        if planarFloat {
            for c in 0..<channels {
                let plane = UnsafeMutableRawPointer(frame.pointee.extended_data[c]!).assumingMemoryBound(to: Float.self)
                for i in 0..<frameSize { plane[i] = Float(pcm[i * channels + c]) / 32768 }
            }
        } else {
            let plane = UnsafeMutableRawPointer(frame.pointee.extended_data[0]!)
            plane.copyMemory(from: pcm, byteCount: frameSize * channels * 2)
        }
        frame.pointee.pts = firstSample
        var rc = avcodec_send_frame(context, frame)
        guard rc >= 0 else { throw EncoderError.failed("avcodec_send_frame: \(rc)") }
        while true {
            rc = avcodec_receive_packet(context, packet)
            if rc == rill_averror_eagain() || rc == rill_averror_eof() { return }
            guard rc >= 0 else { throw EncoderError.failed("avcodec_receive_packet: \(rc)") }
            defer { av_packet_unref(packet) }
            let size = Int(packet.pointee.size)
            let header = adts ? ADTSHeader.size : 0
            if outBuffer.count < size + header { outBuffer = [UInt8](repeating: 0, count: size + header) }
            let pts = packet.pointee.pts
            try outBuffer.withUnsafeMutableBytes { out in
                if adts {
                    ADTSHeader.write(into: out, frameLength: size + header, sampleRate: sampleRate, channels: channels)
                }
                if size > 0 { (out.baseAddress! + header).copyMemory(from: packet.pointee.data, byteCount: size) }
                try output(
                    CodedAudioFrame(bytes: UnsafeRawBufferPointer(rebasing: out[0..<(size + header)]), firstSample: pts)
                )
            }
        }
    }
}

/// The 7-byte ADTS header without CRC, ISO/IEC 13818-7 §6.2 / ISO/IEC 14496-3 §1.A.2.
enum ADTSHeader {
    static let size = 7
    /// sampling_frequency_index, ISO/IEC 14496-3 Table 1.18.
    static let sampleRates = [
        96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000, 7_350,
    ]
    /// Audio object type AAC LC = 2; ADTS stores it minus one.
    static let aacLC: UInt8 = 2

    static func write(into o: UnsafeMutableRawBufferPointer, frameLength: Int, sampleRate: Int, channels: Int) {
        let sfi = UInt8(sampleRates.firstIndex(of: sampleRate) ?? 3)
        let chanConfig = UInt8(channels == 8 ? 7 : channels)  // 14496-3 Table 1.19: 7 = 7.1
        let len = UInt32(frameLength)
        o[0] = 0xFF
        o[1] = 0xF1  // syncword low nibble, MPEG-4, layer 00, protection_absent 1
        o[2] = (aacLC - 1) << 6 | sfi << 2 | (chanConfig >> 2)
        o[3] = (chanConfig & 3) << 6 | UInt8((len >> 11) & 0x3)
        o[4] = UInt8((len >> 3) & 0xFF)
        o[5] = UInt8((len & 0x7) << 5) | 0x1F  // buffer fullness 0x7FF (VBR)
        o[6] = 0xFC  // fullness low bits, number_of_raw_data_blocks 0
    }
}
