/// The rings of one box instance and their geometry. One definition so every stage agrees.
public enum Track {
    /// Raw video from the source (capture daemon or test source).
    public static let rawVideo = "video.raw"
    /// Raw audio, interleaved PCM.
    public static let rawAudio = "audio.raw"
    /// Coded video access units.
    public static let codedVideo = "video.coded"
    /// Coded audio frames.
    public static let codedAudio = "audio.coded"
    /// The muxed transport stream, 7-packet chunks with send deadlines.
    public static let transportStream = "ts"

    /// Slots of the raw video ring (any source): 8 frames of slack for the encoder (160 ms at 50 fps).
    public static let rawVideoSlots: UInt32 = 8
    /// Slots of the raw audio ring (any source): 256 records ≈ 2.5 s of 10 ms periods.
    public static let rawAudioSlots: UInt32 = 256

    /// Slots of the TS ring: 4096 chunks ≈ 7 s at 6 Mb/s, enough for any output to catch up.
    public static let tsSlots: UInt32 = 4096
    /// One TS chunk: 7 × 188 bytes.
    public static let tsSlotBytes: UInt32 = 1316
}
