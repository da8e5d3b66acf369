/// One coded audio frame ready for the mux (ADTS for AAC, an MPEG audio frame for MP2, a full 302M
/// payload for SMPTE 302M). `bytes` is valid until the next call into the encoder.
public struct CodedAudioFrame {
    /// The coded frame, valid until the next call into the encoder.
    public var bytes: UnsafeRawBufferPointer
    /// Index of the first sample on the stream's sample timeline.
    public var firstSample: Int64
}

/// An audio encoder fed with interleaved S16 PCM blocks of exactly `frameSize` sample frames.
public protocol AudioEncoder: AnyObject {
    /// Sample frames per input block.
    var frameSize: Int { get }
    /// Codec configuration for the ring header (AudioSpecificConfig for AAC), possibly empty.
    var codecConfig: [UInt8] { get }
    /// Encodes one block whose first sample has index `firstSample`; calls `output` per coded frame.
    func encode(_ pcm: UnsafePointer<Int16>, firstSample: Int64, output: (CodedAudioFrame) throws -> Void) throws
}
