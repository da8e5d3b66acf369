import FrameRing
import MediaTime
import Runtime
import Synchronization

/// Thumbnails of the raw video ring, made on request in rilld (never in the send path) and kept
/// for `maxAge` per width, so any number of pages polling costs one picture a second.
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
        public var description: String
    }

    /// How long a thumbnail is served again before a new one is made (the issue: cached ≤ 1 s).
    public static let maxAge: Int64 = MediaTime.nanosecondsPerSecond
    /// How long a request waits for the source's next picture when the ring has none yet.
    static let wait: Int64 = 300 * MediaTime.millisecond

    let ringName: String
    private let cache = Mutex<[Int: Picture]>([:])
    /// One picture is made at a time; other requests wait for it and then find it cached.
    private let making = Mutex<Void>(())

    /// Thumbnails of `instance`'s raw video.
    public init(instance: String) {
        ringName = SharedRing.name(instance: instance, track: Track.rawVideo)
    }

    /// The newest picture at `width` (Thumbnail.widthRange), from the cache when younger than `maxAge`.
    public func picture(width: Int) throws(Unavailable) -> Picture {
        if let p = cached(width) { return p }
        return try making.withLock { _ throws(Unavailable) -> Picture in
            if let p = cached(width) { return p }
            let p = try make(width: width)
            cache.withLock { $0[width] = p }
            return p
        }
    }

    private func cached(_ width: Int) -> Picture? {
        cache.withLock { c in
            guard let p = c[width], MonotonicClock.now() - p.madeAt <= Self.maxAge else { return nil }
            return p
        }
    }

    private func make(width: Int) throws(Unavailable) -> Picture {
        let reader: RingReader
        do { reader = try RingReader(name: ringName, start: .newest) } catch {
            throw Unavailable(
                description: "no raw video: \(error) (source.type gateway, or the source has not started)")
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(reader.ring.slotBytes), alignment: 64)
        defer { buffer.deallocate() }
        let end = MonotonicClock.now() + Self.wait
        while MonotonicClock.now() < end {
            guard case .record(let info) = reader.next(into: buffer, timeout: Self.wait) else { continue }
            do {
                let jpeg = try Thumbnail.jpeg(
                    frame: UnsafeRawBufferPointer(rebasing: buffer[0..<info.length]), width: Int(info.width),
                    height: Int(info.height), nv12: info.aux0 == RingCodec.nv12.rawValue, targetWidth: width)
                return Picture(jpeg: jpeg, captureTime: info.captureTime, madeAt: MonotonicClock.now())
            } catch {
                throw Unavailable(description: "\(ringName): \(error)")
            }
        }
        throw Unavailable(description: "\(ringName): no picture within \(Self.wait / MediaTime.millisecond) ms")
    }
}
