import CAVCodec

/// Decodes one H.264 (or H.265) keyframe (with its parameter sets in front) to a contiguous I420 picture with
/// libavcodec's decoder: the program thumbnail shows the picture as the far end decodes it.
enum KeyframeDecoder {
    /// The decoded picture: I420 planes back to back, and its size.
    struct Picture {
        var frame: [UInt8]
        var width: Int
        var height: Int
        /// The samples are 0…255 (YUVJ420P or AVCOL_RANGE_JPEG), not video range.
        var fullRange: Bool
    }

    /// The decoded formats taken: chroma steps to I420 (1: every other sample/row), bytes per sample
    /// (2: 10-bit little-endian), full range (the J formats).
    static let layouts: [(format: AVPixelFormat, x: Int, y: Int, bytes: Int, fullRange: Bool)] = [
        (AV_PIX_FMT_YUV420P, 0, 0, 1, false), (AV_PIX_FMT_YUVJ420P, 0, 0, 1, true),
        (AV_PIX_FMT_YUV422P, 0, 1, 1, false), (AV_PIX_FMT_YUVJ422P, 0, 1, 1, true),
        (AV_PIX_FMT_YUV444P, 1, 1, 1, false), (AV_PIX_FMT_YUVJ444P, 1, 1, 1, true),
        (AV_PIX_FMT_YUV420P10LE, 0, 0, 2, false), (AV_PIX_FMT_YUV422P10LE, 0, 1, 2, false),
    ]

    static func decode(_ unit: [UInt8], hevc: Bool = false) throws(Thumbnail.Failure) -> Picture {
        let name = hevc ? "H.265" : "H.264"
        guard let codec = avcodec_find_decoder(hevc ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264) else {
            throw Thumbnail.Failure(description: "libavcodec has no \(name) decoder")
        }
        var context = avcodec_alloc_context3(codec)
        var packet = av_packet_alloc()
        var frame = av_frame_alloc()
        defer {
            avcodec_free_context(&context)
            av_packet_free(&packet)
            av_frame_free(&frame)
        }
        guard let context, let packet, let frame else {
            throw Thumbnail.Failure(description: "libavcodec: out of memory")
        }
        context.pointee.thread_count = 1
        guard avcodec_open2(context, codec, nil) >= 0 else {
            throw Thumbnail.Failure(description: "libavcodec: cannot open the \(name) decoder")
        }
        guard av_new_packet(packet, Int32(clamping: unit.count)) >= 0 else {
            throw Thumbnail.Failure(description: "libavcodec: no packet of \(unit.count) bytes")
        }
        unit.withUnsafeBytes {
            packet.pointee.data.update(from: $0.bindMemory(to: UInt8.self).baseAddress!, count: unit.count)
        }
        // One unit, then the end of the stream: the decoder hands out the picture it holds.
        guard avcodec_send_packet(context, packet) >= 0, avcodec_send_packet(context, nil) >= 0,
            avcodec_receive_frame(context, frame) >= 0
        else { throw Thumbnail.Failure(description: "the newest keyframe (\(unit.count) bytes) did not decode") }
        let f = frame.pointee
        let format = AVPixelFormat(rawValue: f.format)
        guard let layout = Self.layouts.first(where: { $0.format == format }), f.width >= 2, f.height >= 2,
            f.width <= Thumbnail.maxSide, f.height <= Thumbnail.maxSide
        else {
            throw Thumbnail.Failure(
                description: "the keyframe decoded to pixel format \(f.format), not planar 4:2:0/4:2:2/4:4:4")
        }
        let (w, h) = (Int(f.width) & ~1, Int(f.height) & ~1)
        var out = [UInt8](repeating: 0, count: w * h * 3 / 2)
        // Each plane to its I420 size: chroma planes with more samples (4:2:2, 4:4:4) take every
        // other one, 10-bit samples their high 8 bits.
        let planes = [
            (f.data.0, Int(f.linesize.0), w, h, 0, 0),
            (f.data.1, Int(f.linesize.1), w / 2, h / 2, layout.x, layout.y),
            (f.data.2, Int(f.linesize.2), w / 2, h / 2, layout.x, layout.y),
        ]
        var at = 0
        for (data, stride, pw, ph, stepX, stepY) in planes {
            guard let data else { throw Thumbnail.Failure(description: "the decoded picture has no plane") }
            out.withUnsafeMutableBufferPointer { o in
                for row in 0..<ph {
                    let line = data + (row << stepY) * stride
                    if layout.bytes == 1, stepX == 0 {
                        (o.baseAddress! + at).update(from: line, count: pw)
                    } else {
                        for x in 0..<pw {
                            let i = (x << stepX) * layout.bytes
                            // 10-bit little-endian: bits 9…2 of line[i] | line[i + 1] << 8.
                            o[at + x] =
                                layout.bytes == 1
                                ? line[i] : UInt8(truncatingIfNeeded: Int(line[i + 1]) << 6 | Int(line[i]) >> 2)
                        }
                    }
                    at += pw
                }
            }
        }
        let fullRange = layout.fullRange || f.color_range == AVCOL_RANGE_JPEG
        return Picture(frame: out, width: w, height: h, fullRange: fullRange)
    }
}
