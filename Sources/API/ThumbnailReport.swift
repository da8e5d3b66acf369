import Confidence
import Dispatch
import Hummingbird
import NIOCore
import Runtime

/// `GET /api/v1/thumbnails/source.jpg?width=N` (the raw picture) and `…/program.jpg` (the newest
/// coded keyframe, decoded) as JPEG, with the capture time of the picture (`X-Rill-Capture-Time`,
/// CLOCK_MONOTONIC ns) and `Cache-Control: no-store`.
enum ThumbnailReport {
    /// The capture time of the picture, CLOCK_MONOTONIC ns (the clock of every stage and status figure).
    static let captureTimeHeader = HTTPFields.Element.Name("X-Rill-Capture-Time")!
    /// How old the picture is, ms: a frozen source or encoder shows as a growing age.
    static let ageHeader = HTTPFields.Element.Name("X-Rill-Picture-Age-Ms")!

    /// Making a picture waits on a ring (up to 2 s for a keyframe) and compresses: done on a
    /// Dispatch worker, never on the server's event loop or the cooperative pool.
    static func response(_ thumbnails: ThumbnailSource?, _ kind: ThumbnailSource.Kind, request: Request) async throws
        -> Response
    {
        let width = try requestedWidth(request.uri.queryParameters.get("width"))
        guard let thumbnails else { throw Problem(.serviceUnavailable, "no thumbnails on this box") }
        let picture: ThumbnailSource.Picture
        do {
            picture = try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(with: Result { try thumbnails.picture(kind, width: width) })
                }
            }
        } catch {
            throw Problem(.serviceUnavailable, "\(error)")
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "image/jpeg", .cacheControl: "no-store",
                captureTimeHeader: String(picture.captureTime),
                ageHeader: String(max(0, MonotonicClock.now() - picture.captureTime) / 1_000_000),
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: picture.jpeg)))
    }

    /// `?width=`: absent → the default; otherwise an integer in Thumbnail.widthRange, or 400 naming it.
    static func requestedWidth(_ value: String?) throws -> Int {
        guard let value else { return Thumbnail.defaultWidth }
        guard let w = Int(value), Thumbnail.widthRange.contains(w) else {
            let r = Thumbnail.widthRange
            throw Problem(
                .badRequest, "width: \"\(value)\" is not an integer \(r.lowerBound)…\(r.upperBound)",
                [("path", .string("width"))])
        }
        return w
    }
}
