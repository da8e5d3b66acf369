import Hummingbird
import NIOCore

/// The page: `GET /` is `index.html`, `GET /ui/<file>` its styles and script modules, all
/// embedded in the binary (`Sources/API/Page/`, SwiftPM `embedInCode`), so a box with no network
/// and no files beside the binary serves it. Public (the page asks for the login itself); the
/// browser revalidates with the ETag, which is the build's (the files change only with it).
enum PageRoutes {
    /// One embedded file: its bytes and media type.
    struct Asset: Sendable {
        let bytes: [UInt8]
        let contentType: String
    }

    static func add(to router: Router<RillRequestContext>, etag: String) {
        router.get("/") { request, _ in try serve("index.html", request, etag: etag) }
        router.get("/ui/:file") { request, context in
            try serve(try context.parameters.require("file"), request, etag: etag)
        }
    }

    static func serve(_ name: String, _ request: Request, etag: String) throws -> Response {
        guard let asset = PageAssets.files[name] else { throw Problem(.notFound, "no page file \"\(name)\"") }
        let tag = "\"\(etag)\""
        if request.headers[.ifNoneMatch] == tag {
            return Response(status: .notModified, headers: [.eTag: tag, .cacheControl: "no-cache"])
        }
        return Response(
            status: .ok, headers: [.contentType: asset.contentType, .eTag: tag, .cacheControl: "no-cache"],
            body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }

    /// The media type of a page file, by its extension.
    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last ?? "" {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        default: "application/octet-stream"
        }
    }
}
