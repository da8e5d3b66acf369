import CALSA
import MediaTime
import Runtime

#if canImport(Glibc)
import Glibc
#endif

/// An ALSA call that failed.
public struct ALSAError: Error, CustomStringConvertible, Sendable {
    /// The ALSA PCM name (`hw:Loopback,1,0`).
    public var device: String
    /// The call that failed (the snd_pcm_* function or the step).
    public var operation: String
    /// The negative errno ALSA returned.
    public var code: Int32  // negative errno, as ALSA returns it

    /// The device went away (USB unplug, card removed).
    public var isDeviceGone: Bool { code == -ENODEV || code == -ENOENT || code == -ENXIO || code == -EBADFD }

    /// "device: operation: snd_strerror text".
    public var description: String { "\(device): \(operation): \(String(cString: snd_strerror(code)))" }
}

/// One ALSA capture PCM: interleaved, the configured sample format, monotonic timestamps.
final class ALSADevice {
    /// Sample formats the config names (ALSA's names).
    enum SampleFormat: String {
        case s16 = "S16_LE", s24packed = "S24_3LE", s32 = "S32_LE"
        var alsa: snd_pcm_format_t {
            switch self {
            case .s16: SND_PCM_FORMAT_S16_LE
            case .s24packed: SND_PCM_FORMAT_S24_3LE
            case .s32: SND_PCM_FORMAT_S32_LE
            }
        }
        var bytes: Int {
            switch self {
            case .s16: 2
            case .s24packed: 3
            case .s32: 4
            }
        }
    }

    let name: String
    let format: SampleFormat
    let channels: Int
    let rate: Int
    private(set) var periodFrames: Int = 0
    private(set) var bufferFrames: Int = 0
    private let pcm: OpaquePointer

    init(name: String, format: SampleFormat, channels: Int, rate: Int, periodMs: Int) throws(ALSAError) {
        self.name = name
        self.format = format
        self.channels = channels
        self.rate = rate
        var p: OpaquePointer?
        let rc = snd_pcm_open(&p, name, SND_PCM_STREAM_CAPTURE, 0)
        guard rc >= 0, let p else { throw ALSAError(device: name, operation: "open", code: rc) }
        pcm = p
        do throws(ALSAError) { try configure(periodMs: periodMs) } catch {
            snd_pcm_close(pcm)
            throw error
        }
    }

    deinit { snd_pcm_close(pcm) }

    private func check(_ rc: Int32, _ what: String) throws(ALSAError) {
        if rc < 0 { throw ALSAError(device: name, operation: what, code: rc) }
    }

    private func configure(periodMs: Int) throws(ALSAError) {
        var hw: OpaquePointer?
        snd_pcm_hw_params_malloc(&hw)
        defer { snd_pcm_hw_params_free(hw) }
        try check(snd_pcm_hw_params_any(pcm, hw), "no configuration")
        try check(snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED), "interleaved access")
        try check(snd_pcm_hw_params_set_format(pcm, hw, format.alsa), "sample format \(format.rawValue) not offered")
        try check(snd_pcm_hw_params_set_channels(pcm, hw, UInt32(channels)), "\(channels) channels not offered")
        // Resampling is not ours to hide: the rate must be exact (disable ALSA's plug resampler).
        _ = snd_pcm_hw_params_set_rate_resample(pcm, hw, 0)
        try check(snd_pcm_hw_params_set_rate(pcm, hw, UInt32(rate), 0), "\(rate) Hz not offered")
        var period = snd_pcm_uframes_t(rate * periodMs / 1000)
        var dir: Int32 = 0
        try check(snd_pcm_hw_params_set_period_size_near(pcm, hw, &period, &dir), "period \(periodMs) ms")
        var buffer = period * 8
        try check(snd_pcm_hw_params_set_buffer_size_near(pcm, hw, &buffer), "buffer size")
        try check(snd_pcm_hw_params(pcm, hw), "hw params")
        periodFrames = Int(period)
        bufferFrames = Int(buffer)

        var sw: OpaquePointer?
        snd_pcm_sw_params_malloc(&sw)
        defer { snd_pcm_sw_params_free(sw) }
        try check(snd_pcm_sw_params_current(pcm, sw), "sw params")
        try check(snd_pcm_sw_params_set_avail_min(pcm, sw, period), "avail min")
        try check(snd_pcm_sw_params_set_tstamp_mode(pcm, sw, SND_PCM_TSTAMP_ENABLE), "timestamps")
        try check(
            snd_pcm_sw_params_set_tstamp_type(pcm, sw, snd_pcm_tstamp_type_t(SND_PCM_TSTAMP_TYPE_MONOTONIC.rawValue)),
            "monotonic timestamps")
        try check(snd_pcm_sw_params(pcm, sw), "sw params")
        try check(snd_pcm_prepare(pcm), "prepare")
        try check(snd_pcm_start(pcm), "start")
    }

    /// What one read returned.
    enum ReadResult {
        /// `frames` read; the sample `framesAfter` frames past their end was at the hardware
        /// pointer at `time` (CLOCK_MONOTONIC ns).
        case frames(Int, framesAfter: Int, time: Int64)
        /// An overrun (or suspend) was recovered; samples were lost.
        case xrun
    }

    /// Blocks until a period is read into `buffer` (≥ periodFrames × frame bytes).
    func read(into buffer: UnsafeMutableRawPointer, frames: Int) throws(ALSAError) -> ReadResult {
        let n = snd_pcm_readi(pcm, buffer, snd_pcm_uframes_t(frames))
        if n < 0 {
            let code = Int32(n)
            if code == -EPIPE || code == -ESTRPIPE || code == -EINTR {
                try check(snd_pcm_recover(pcm, code, 1), "recover from xrun")
                if code == -EINTR { return .frames(0, framesAfter: 0, time: MonotonicClock.now()) }
                _ = snd_pcm_start(pcm)
                return .xrun
            }
            throw ALSAError(device: name, operation: "read", code: code)
        }
        var avail: snd_pcm_uframes_t = 0
        var ts = timespec()
        let time: Int64
        if snd_pcm_htimestamp(pcm, &avail, &ts) == 0 && (ts.tv_sec != 0 || ts.tv_nsec != 0) {
            time = Int64(ts.tv_sec) * MediaTime.nanosecondsPerSecond + Int64(ts.tv_nsec)
        } else {
            avail = snd_pcm_uframes_t(max(0, snd_pcm_avail(pcm)))
            time = MonotonicClock.now()
        }
        return .frames(Int(n), framesAfter: Int(avail), time: time)
    }
}
