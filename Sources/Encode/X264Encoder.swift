import CX264
import Config
import MediaTime
import Runtime

/// Why an encoder could not start or run.
public enum EncoderError: Error, CustomStringConvertible, Sendable {
    /// The library refused the settings (`field` names the config field where known).
    case rejected(field: String, reason: String)
    /// The library failed at run time.
    case failed(String)

    /// "field: reason" for a rejection, the reason alone for a run-time failure.
    public var description: String {
        switch self {
        case .rejected(let field, let reason): "\(field): \(reason)"
        case .failed(let reason): reason
        }
    }
}

/// H.264 through libx264 (GPL-2.0+; see the README's licensing note). Settings follow what a
/// contribution encoder needs: tune zerolatency by default, fixed GOP, VBV, nal-hrd CBR for CBR
/// muxing, AUD and SPS/PPS on every IDR (ISO/IEC 13818-1 §2.14, ETSI TS 101 154).
public final class X264Encoder: VideoEncoder {
    /// The coded access unit type (`VideoAccessUnit`).
    public typealias AccessUnit = VideoAccessUnit

    private let handle: OpaquePointer
    private var picture = x264_picture_t()
    private let width: Int
    private let height: Int
    private let nv12: Bool
    private let frameDuration: Int64
    private var frameIndex: Int64 = 0
    /// pts/capture of frames inside the encoder, by frame index modulo the table size.
    private var times = [(pts: Int64, capture: Int64)](repeating: (0, 0), count: 256)

    /// SPS and PPS (Annex B), for the ring's codec configuration.
    public private(set) var headers: [UInt8] = []

    /// Opens an encoder for `width`×`height` 4:2:0 frames at `fps`.
    /// - Parameter cbr: signal CBR HRD (nal-hrd=cbr, maxrate = bitrate) for a CBR transport stream.
    public init(config: VideoEncoderSection, width: Int, height: Int, fps: FrameRate, nv12: Bool, cbr: Bool) throws {
        self.width = width
        self.height = height
        self.nv12 = nv12
        self.frameDuration = fps.frameDuration
        var p = x264_param_t()
        guard x264_param_default_preset(&p, config.preset, config.tune) == 0 else {
            throw EncoderError.rejected(
                field: "encoders.video.preset",
                reason: "x264 rejected preset \(config.preset) / tune \(config.tune ?? "none")")
        }
        p.i_width = Int32(width)
        p.i_height = Int32(height)
        p.i_csp = nv12 ? X264_CSP_NV12 : X264_CSP_I420
        p.i_fps_num = UInt32(fps.numerator)
        p.i_fps_den = UInt32(fps.denominator)
        p.i_timebase_num = UInt32(fps.denominator)
        p.i_timebase_den = UInt32(fps.numerator)
        p.b_vfr_input = 0
        p.i_keyint_max = Int32(config.keyint)
        p.i_keyint_min = Int32(config.keyint)  // fixed GOP: receivers and splicers expect it
        p.i_scenecut_threshold = 0
        p.b_open_gop = 0
        p.i_threads = Int32(config.threads)
        p.rc.i_rc_method = X264_RC_ABR
        let maxrate = cbr ? config.bitrate : config.effectiveMaxrate
        p.rc.i_bitrate = Int32(config.bitrate / 1000)
        p.rc.i_vbv_max_bitrate = Int32(maxrate / 1000)
        p.rc.i_vbv_buffer_size = Int32(config.effectiveBufsize / 1000)
        if cbr { p.i_nal_hrd = X264_NAL_HRD_CBR }
        p.b_aud = 1
        p.b_repeat_headers = 1
        p.b_annexb = 1
        p.i_log_level = CodecLogging.x264Level(for: LogLevel.level)
        rill_x264_param_log(&p)
        guard x264_param_apply_profile(&p, config.profile) == 0 else {
            throw EncoderError.rejected(
                field: "encoders.video.profile", reason: "x264 cannot apply profile \(config.profile) to these settings"
            )
        }
        guard let h = rill_x264_encoder_open(&p) else {
            throw EncoderError.rejected(
                field: "encoders.video", reason: "x264_encoder_open failed for \(width)x\(height)@\(fps)")
        }
        handle = h
        x264_picture_init(&picture)
        picture.img.i_csp = p.i_csp
        var nals: UnsafeMutablePointer<x264_nal_t>? = nil
        var count: Int32 = 0
        let size = x264_encoder_headers(h, &nals, &count)
        if size > 0, let nals {
            headers = Array(UnsafeRawBufferPointer(start: nals[0].p_payload, count: Int(size)))
        }
    }

    deinit { x264_encoder_close(handle) }

    /// Encodes one raw frame (tightly packed I420/NV12 in `frame`) and calls `output` with every
    /// access unit that comes out (none, one or several).
    public func encode(
        frame: UnsafeRawBufferPointer, ptsNs: Int64, captureNs: Int64, output: (AccessUnit) throws -> Void
    ) throws {
        let base = UnsafeMutablePointer(mutating: frame.baseAddress!.assumingMemoryBound(to: UInt8.self))
        let lumaBytes = width * height
        picture.img.i_plane = nv12 ? 2 : 3
        picture.img.i_stride.0 = Int32(width)
        picture.img.plane.0 = base
        if nv12 {
            picture.img.i_stride.1 = Int32(width)
            picture.img.plane.1 = base + lumaBytes
        } else {
            picture.img.i_stride.1 = Int32(width / 2)
            picture.img.i_stride.2 = Int32(width / 2)
            picture.img.plane.1 = base + lumaBytes
            picture.img.plane.2 = base + lumaBytes + lumaBytes / 4
        }
        picture.i_pts = frameIndex
        times[Int(frameIndex % Int64(times.count))] = (ptsNs, captureNs)
        frameIndex += 1
        try encodeOne(&picture, output: output)
    }

    /// Forces the next frame to be an IDR (after an upstream discontinuity).
    public func forceKeyframe() { picture.i_type = X264_TYPE_IDR }

    /// Frames inside the encoder (lookahead and threads), the encoder's queue.
    public var delayedFrames: Int32 { x264_encoder_delayed_frames(handle) }

    /// Drains delayed frames at stop.
    public func flush(output: (AccessUnit) throws -> Void) throws {
        while x264_encoder_delayed_frames(handle) > 0 {
            try encodeOne(nil, output: output)
        }
    }

    private func encodeOne(_ input: UnsafeMutablePointer<x264_picture_t>?, output: (AccessUnit) throws -> Void) throws {
        var nals: UnsafeMutablePointer<x264_nal_t>? = nil
        var count: Int32 = 0
        var out = x264_picture_t()
        let size = x264_encoder_encode(handle, &nals, &count, input, &out)
        if input != nil { input!.pointee.i_type = X264_TYPE_AUTO }
        guard size >= 0 else { throw EncoderError.failed("x264_encoder_encode returned \(size)") }
        guard size > 0, let nals else { return }
        // x264 lays the NAL payloads of one call out contiguously.
        let bytes = UnsafeRawBufferPointer(start: nals[0].p_payload, count: Int(size))
        let t = times[Int(out.i_pts % Int64(times.count))]
        let dts = t.pts - (out.i_pts - out.i_dts) * frameDuration
        try output(
            AccessUnit(bytes: bytes, ptsNs: t.pts, dtsNs: dts, captureNs: t.capture, keyframe: out.b_keyframe != 0))
    }
}
