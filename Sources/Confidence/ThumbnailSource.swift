import FrameRing
import MediaTime
import Runtime
import Synchronization

/// Thumbnails made on request in rilld (never in the send path) and kept for `maxAge` per kind and
/// width, so any number of pages polling costs one picture a second: the source (the raw video
/// ring's newest picture) and the program (the coded video ring's newest keyframe, decoded: what
/// the far end sees, encoder artefacts, a frozen encoder or the slate included). On a gateway the
/// program is the received TS's newest keyframe (ThumbnailSource+TS.swift) and there is no source.
public final class ThumbnailSource: Sendable {
    /// One thumbnail and the capture time of its picture.
    public struct Picture: Sendable {
        /// The JPEG.
        public var jpeg: [UInt8]
        /// Capture time of the picture (CLOCK_MONOTONIC, ns).
        public var captureTime: Int64
        /// When it was made (CLOCK_MONOTONIC, ns).
        public var madeAt: Int64
    }

    /// Why there is no picture (no ring: a gateway, or the source has not started; a silent writer).
    public struct Unavailable: Error, CustomStringConvertible {
        /// Why, naming the ring.
        public var description: String
    }

    /// How long a thumbnail is served again before a new one is made (the issue: cached ≤ 1 s).
    public static let maxAge: Int64 = MediaTime.nanosecondsPerSecond
    /// How long a request waits for the source's next picture when the ring has none yet.
    static let wait: Int64 = 300 * MediaTime.millisecond

    /// Which picture.
    public enum Kind: Sendable, Hashable {
        case source, program
    }

    /// How long a program request waits for a keyframe when the coded ring holds none.
    static let keyframeWait: Int64 = 2 * MediaTime.nanosecondsPerSecond

    let ringName: String
    let codedRingName: String
    /// The TS ring a gateway's `recv` stage writes.
    let tsRingName: String
    /// Whether the box is a gateway now (source.type, asked at each picture: the config may change).
    let isGateway: @Sendable () -> Bool
    /// Pictures per kind and width, none older than `maxAge` kept (pruned at every insert), and per
    /// kind the last failure, answered again for `maxAge` instead of waiting on the ring anew.
    private let cache = Mutex<[Kind: [Int: Picture]]>([:])
    private let failures = Mutex<[Kind: (error: Unavailable, at: Int64)]>([:])
    /// One picture of a kind is made at a time; other requests wait for it and then find it cached
    /// (a program request waiting for a keyframe never holds up a source request).
    private let makingSource = Mutex<Void>(())
    private let makingProgram = Mutex<Void>(())
    /// The last keyframe's coded bytes and capture time: the program picture when the coded ring
    /// holds none (a GOP longer than the ring) — its capture time tells how old it is.
    private let lastKeyframe = Mutex<(bytes: [UInt8], config: [UInt8], captureTime: Int64)?>(nil)
    /// The same for a gateway: the received TS's last keyframe (its `arrival` is the capture time).
    let lastTSKeyframe = Mutex<TSKeyframeFinder.Keyframe?>(nil)

    /// Thumbnails of `instance`'s raw and coded video, or while `gateway()` (source.type gateway) of
    /// the video in the TS the box receives (its TS ring). `gateway` is called on a Dispatch worker.
    public init(instance: String, gateway: @escaping @Sendable () -> Bool = { false }) {
        ringName = SharedRing.name(instance: instance, track: Track.rawVideo)
        codedRingName = SharedRing.name(instance: instance, track: Track.codedVideo)
        tsRingName = SharedRing.name(instance: instance, track: Track.transportStream)
        isGateway = gateway
    }

    /// The newest `kind` picture at `width` (Thumbnail.widthRange), from the cache when younger
    /// than `maxAge`.
    public func picture(_ kind: Kind = .source, width: Int) throws(Unavailable) -> Picture {
        if let p = cached(kind, width) { return p }
        switch kind {
        case .source: return try makingSource.withLock { _ throws(Unavailable) in try make(kind, width: width) }
        case .program: return try makingProgram.withLock { _ throws(Unavailable) in try make(kind, width: width) }
        }
    }

    /// Under the kind's lock: the cache again (another request may have made it), a recent failure
    /// again, or a new picture.
    private func make(_ kind: Kind, width: Int) throws(Unavailable) -> Picture {
        if let p = cached(kind, width) { return p }
        let now = MonotonicClock.now()
        if let f = failures.withLock({ $0[kind] }), now - f.at <= Self.maxAge { throw f.error }
        let p: Picture
        do throws(Unavailable) {
            p = kind == .source ? try makeSource(width: width) : try makeProgram(width: width)
        } catch {
            failures.withLock { $0[kind] = (error, MonotonicClock.now()) }
            throw error
        }
        failures.withLock { $0[kind] = nil }
        cache.withLock { c in
            c[kind] = (c[kind] ?? [:]).filter { p.madeAt - $0.value.madeAt <= Self.maxAge }
            c[kind, default: [:]][width] = p
        }
        return p
    }

    private func cached(_ kind: Kind, _ width: Int) -> Picture? {
        cache.withLock { c in
            guard let p = c[kind]?[width], MonotonicClock.now() - p.madeAt <= Self.maxAge else { return nil }
            return p
        }
    }

    /// The coded ring's newest keyframe (or the next one within `keyframeWait`), decoded.
    private func makeProgram(width: Int) throws(Unavailable) -> Picture {
        if isGateway() { return try makeProgram(fromTS: tsRingName, width: width) }
        let reader: RingReader
        do { reader = try RingReader(name: codedRingName, start: .oldest) } catch {
            throw Unavailable(
                description: "no coded video: \(error) (source.type gateway, or the encoder has not started)")
        }
        // One read of the format (a seqlock copy): the codec decides before any scanning.
        var format = reader.ring.format
        guard format.codec == .h264 || format.codec == .none else {
            throw Unavailable(description: "\(codedRingName): \(format.codec) is not decoded here")
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(reader.ring.slotBytes), alignment: 64)
        defer { buffer.deallocate() }
        var key: (bytes: [UInt8], captureTime: Int64)? = nil
        func keep(_ info: RecordInfo) {
            key = (Array(UnsafeRawBufferPointer(rebasing: buffer[0..<info.length])), info.captureTime)
        }
        // Everything the ring holds (timeout 0: no waiting once caught up), keeping the last keyframe…
        while true {
            let event = reader.next(into: buffer, timeout: 0)
            if case .timeout = event { break }
            if case .record(let info) = event, info.flags.contains(.keyframe) { keep(info) }
        }
        // …or the next one to come.
        let end = MonotonicClock.now() + Self.keyframeWait
        while key == nil, MonotonicClock.now() < end {
            if case .record(let info) = reader.next(into: buffer, timeout: 100 * MediaTime.millisecond),
                info.flags.contains(.keyframe)
            {
                keep(info)
            }
        }
        if format.codec == .none { format = reader.ring.format }  // set before the first unit
        if let k = key {
            lastKeyframe.withLock { $0 = (k.bytes, format.config, k.captureTime) }
        }
        // None in the ring nor within the wait (a GOP longer than both): the last one seen, if any.
        guard let key = lastKeyframe.withLock({ $0 }) else {
            throw Unavailable(
                description: "\(codedRingName): no keyframe within \(Self.keyframeWait / MediaTime.millisecond) ms")
        }
        // The parameter sets from the ring's format, in case the keyframe does not repeat them.
        return try Self.picture(
            decoding: key.config + key.bytes, hevc: false, width: width, captureTime: key.captureTime,
            ring: codedRingName)
    }

    /// A keyframe access unit decoded (libavcodec) and made a JPEG `width` wide; a failure names `ring`.
    static func picture(
        decoding unit: [UInt8], hevc: Bool, width: Int, captureTime: Int64, ring: String
    ) throws(Unavailable) -> Picture {
        do {
            let decoded = try KeyframeDecoder.decode(unit, hevc: hevc)
            let jpeg = try decoded.frame.withUnsafeBytes { f throws(Thumbnail.Failure) in
                try Thumbnail.jpeg(
                    frame: f, width: decoded.width, height: decoded.height, nv12: false, targetWidth: width,
                    fullRange: decoded.fullRange)
            }
            return Picture(jpeg: jpeg, captureTime: captureTime, madeAt: MonotonicClock.now())
        } catch {
            throw Unavailable(description: "\(ring): \(error)")
        }
    }

    private func makeSource(width: Int) throws(Unavailable) -> Picture {
        guard !isGateway() else {
            throw Unavailable(
                description: "source.type gateway: no raw picture (the box relays a received TS; program.jpg shows it)")
        }
        let reader: RingReader
        do { reader = try RingReader(name: ringName, start: .newest) } catch {
            throw Unavailable(
                description: "no raw video: \(error) (source.type gateway, or the source has not started)")
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(reader.ring.slotBytes), alignment: 64)
        defer { buffer.deallocate() }
        let end = MonotonicClock.now() + Self.wait
        while MonotonicClock.now() < end {
            let event = reader.next(into: buffer, timeout: max(0, end - MonotonicClock.now()))
            if case .writerGone = event { throw Unavailable(description: "\(ringName): the source has stopped") }
            guard case .record(let info) = event else { continue }
            do {
                // Sizes from a shared-memory header: clamped here, bounded by Thumbnail before any product.
                let jpeg = try Thumbnail.jpeg(
                    frame: UnsafeRawBufferPointer(rebasing: buffer[0..<info.length]), width: Int(clamping: info.width),
                    height: Int(clamping: info.height), nv12: info.aux0 == RingCodec.nv12.rawValue,
                    targetWidth: width)
                return Picture(jpeg: jpeg, captureTime: info.captureTime, madeAt: MonotonicClock.now())
            } catch {
                throw Unavailable(description: "\(ringName): \(error)")
            }
        }
        throw Unavailable(description: "\(ringName): no picture within \(Self.wait / MediaTime.millisecond) ms")
    }
}
