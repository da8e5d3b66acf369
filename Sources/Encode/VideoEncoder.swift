/// One coded access unit; `bytes` is valid until the encoder's next call.
public struct VideoAccessUnit {
    /// The coded access unit (H.264: Annex B byte stream), valid until the encoder's next call.
    public var bytes: UnsafeRawBufferPointer
    /// Presentation time, ns (CLOCK_MONOTONIC).
    public var ptsNs: Int64
    /// Decoding time, ns (CLOCK_MONOTONIC); equal to `ptsNs` without B-frames.
    public var dtsNs: Int64
    /// When the frame was captured, ns (CLOCK_MONOTONIC), for latency figures.
    public var captureNs: Int64
    /// A keyframe (H.264: an IDR picture, a random access point).
    public var keyframe: Bool
}

/// A video encoder backend of the encode stage: x264 in software, or a V4L2 mem2mem hardware
/// encoder (`encoders.video.backend`).
public protocol VideoEncoder: AnyObject {
    /// Parameter sets known at start (Annex B), for the ring's codec configuration; empty when
    /// they only arrive in-band with the first keyframe (hardware encoders).
    var headers: [UInt8] { get }
    /// Frames inside the encoder (the stage's queue figure).
    var delayedFrames: Int32 { get }
    /// Encodes one tightly packed 4:2:0 frame (I420 or NV12, as opened) and calls `output` with
    /// every access unit that comes out (none, one or several).
    func encode(
        frame: UnsafeRawBufferPointer, ptsNs: Int64, captureNs: Int64, output: (VideoAccessUnit) throws -> Void) throws
    /// Makes the next frame an IDR (after an upstream discontinuity).
    func forceKeyframe()
    /// Drains the frames still inside the encoder (at stop or before a reopen).
    func flush(output: (VideoAccessUnit) throws -> Void) throws
}
