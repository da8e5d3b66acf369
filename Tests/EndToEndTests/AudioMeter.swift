import Foundation
import RillTestSupport

/// Host-side audio measurements on a recorded TS: ffmpeg decodes the first audio stream to 48 kHz
/// stereo S16, and each half-second block is measured against the expected tone per channel
/// (amplitude and phase at the exact frequency by correlation; whatever is left is noise).
enum AudioMeter {
    /// A sine expected on one channel.
    struct Tone: Sendable {
        var hz: Double
        /// Peak, full scale = 1.
        var amplitude: Double
        var dBFS: Double { 20 * log10(amplitude) }
    }

    /// Decoded interleaved stereo samples.
    struct PCM {
        var left: [Int16]
        var right: [Int16]
        var seconds: Double { Double(left.count) / AudioMeter.rate }

        /// Runs of more than 2 samples where both channels are exactly 0 (what acap inserts for a
        /// gap; the tones cross zero on single samples only), as sample ranges.
        func silences() -> [Range<Int>] {
            var out: [Range<Int>] = []
            var i = 0
            while i < left.count {
                guard left[i] == 0 && right[i] == 0 else {
                    i += 1
                    continue
                }
                let start = i
                while i < left.count && left[i] == 0 && right[i] == 0 { i += 1 }
                if i - start > 2 { out.append(start..<i) }
            }
            return out
        }
    }

    /// One channel of one block, measured at the expected tone's frequency.
    struct Channel {
        /// Amplitude at the tone's frequency, dBFS (peak).
        var dBFS: Double
        /// Tone power over the power of everything else, dB.
        var snr: Double
    }

    /// One half-second block.
    struct Block {
        /// First sample.
        var start: Int
        var hasSilence: Bool
        var channels: [Channel]

        /// Level within 0.1 dB of the played tone and SNR ≥ 60 dB on every channel.
        func matches(_ tones: [Tone]) -> Bool {
            zip(channels, tones).allSatisfy { abs($0.dBFS - $1.dBFS) <= 0.1 && $0.snr >= 60 }
        }

        var summary: String {
            String(format: "%.1f s: ", Double(start) / AudioMeter.rate)
                + channels.map { String(format: "%.2f dBFS SNR %.1f dB", $0.dBFS, $0.snr) }.joined(separator: " / ")
        }
    }

    static let rate = 48_000.0
    /// Half a second: a whole number of periods of 1 kHz (48 samples) and 1.5 kHz (32 samples).
    static let blockSamples = 24_000

    static func decode(_ path: String) throws -> PCM {
        let out = path + ".s16"
        let r = try runProcess(
            [
                "ffmpeg", "-v", "error", "-i", path, "-map", "0:a:0", "-ac", "2", "-ar", "48000", "-f", "s16le", "-y",
                out,
            ],
            timeout: 120)
        // A TS cut at shutdown may end inside a PES: ffmpeg says so and decodes the rest.
        guard FileManager.default.fileExists(atPath: out) else {
            throw TestEnvironmentError("ffmpeg decode \(path): \(r.stderr.prefix(500))")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        try? FileManager.default.removeItem(atPath: out)
        let samples = data.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        var pcm = PCM(left: [], right: [])
        pcm.left.reserveCapacity(samples.count / 2)
        pcm.right.reserveCapacity(samples.count / 2)
        for i in stride(from: 0, to: samples.count - 1, by: 2) {
            pcm.left.append(samples[i])
            pcm.right.append(samples[i + 1])
        }
        return pcm
    }

    /// Every whole block of `pcm`, channel c measured at `tones[c]`.
    static func blocks(_ pcm: PCM, tones: [Tone]) -> [Block] {
        let silent = pcm.silences()
        var out: [Block] = []
        var start = 0
        while start + blockSamples <= pcm.left.count {
            let range = start..<(start + blockSamples)
            let channels = zip([pcm.left, pcm.right], tones).map { measure(Array($0[range]), hz: $1.hz) }
            out.append(Block(start: start, hasSilence: silent.contains { $0.overlaps(range) }, channels: channels))
            start += blockSamples
        }
        return out
    }

    static func measure(_ x: [Int16], hz: Double) -> Channel {
        let n = Double(x.count)
        var i = 0.0
        var q = 0.0
        var power = 0.0
        let w = 2 * Double.pi * hz / rate
        for (k, s) in x.enumerated() {
            let v = Double(s)
            i += v * cos(w * Double(k))
            q += v * sin(w * Double(k))
            power += v * v
        }
        let amplitude = 2 * (i * i + q * q).squareRoot() / n
        let tonePower = amplitude * amplitude / 2
        let noise = max(power / n - tonePower, 1e-9)
        return Channel(
            dBFS: amplitude > 0 ? 20 * log10(amplitude / 32_768) : -200, snr: 10 * log10(max(tonePower, 1e-9) / noise))
    }

    /// The PTS (s) of every audio PES of the first audio stream, in file order (ffprobe).
    static func packetPTS(_ path: String) throws -> [Double] {
        let r = try runProcess(
            [
                "ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "packet=pts_time", "-of",
                "csv=p=0", path,
            ],
            timeout: 120)
        guard r.status == 0 else { throw TestEnvironmentError("ffprobe \(path): \(r.stderr.prefix(500))") }
        return r.stdout.split(separator: "\n").compactMap { Double($0.split(separator: ",").first ?? "") }
    }
}
