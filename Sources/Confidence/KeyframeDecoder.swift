import CAVCodec

/// Decodes one H.264 keyframe (with its parameter sets in front) to a contiguous I420 picture with
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

    static func decode(_ unit: [UInt8]) throws(Thumbnail.Failure) -> Picture {
        guard let codec = avcodec_find_decoder(AV_CODEC_ID_H264) else {
            throw Thumbnail.Failure(description: "libavcodec has no H.264 decoder")
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
            throw Thumbnail.Failure(description: "libavcodec: cannot open the H.264 decoder")
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
        guard format == AV_PIX_FMT_YUV420P || format == AV_PIX_FMT_YUVJ420P, f.width >= 2, f.height >= 2,
            f.width <= Thumbnail.maxSide, f.height <= Thumbnail.maxSide
        else {
            throw Thumbnail.Failure(description: "the keyframe decoded to pixel format \(f.format), not 4:2:0")
        }
        let (w, h) = (Int(f.width) & ~1, Int(f.height) & ~1)
        var out = [UInt8](repeating: 0, count: w * h * 3 / 2)
        let planes = [
            (f.data.0, Int(f.linesize.0), w, h), (f.data.1, Int(f.linesize.1), w / 2, h / 2),
            (f.data.2, Int(f.linesize.2), w / 2, h / 2),
        ]
        var at = 0
        for (data, stride, pw, ph) in planes {
            guard let data else { throw Thumbnail.Failure(description: "the decoded picture has no plane") }
            for row in 0..<ph {
                out.withUnsafeMutableBufferPointer { o in
                    (o.baseAddress! + at).update(from: data + row * stride, count: pw)
                }
                at += pw
            }
        }
        let fullRange = format == AV_PIX_FMT_YUVJ420P || f.color_range == AVCOL_RANGE_JPEG
        return Picture(frame: out, width: w, height: h, fullRange: fullRange)
    }
}
