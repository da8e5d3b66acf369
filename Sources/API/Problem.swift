import Config
import Hummingbird

/// An API error as RFC 9457 problem JSON: `{"type","title","status","detail"}` plus, for config
/// errors, `path` (the JSON path) and `file`; for syntax errors, `line` and `column`.
public struct Problem: Error, HTTPResponseError, Sendable {
    /// The HTTP status (also the JSON `status` and, by its reason phrase, `title`).
    public var status: HTTPResponse.Status
    /// The JSON `detail`: what went wrong, naming the field or resource.
    public var detail: String
    /// Further members (`path`, `file`, `line`, `column`), in order.
    public var extra: [(String, JSON)] = []
    /// Extra response headers (e.g. WWW-Authenticate on 401).
    public var headers: HTTPFields = [:]

    /// A problem with `status`, `detail` and `extra` members.
    public init(_ status: HTTPResponse.Status, _ detail: String, _ extra: [(String, JSON)] = []) {
        self.status = status
        self.detail = detail
        self.extra = extra
    }

    /// The problem document (RFC 9457 §3), `type` "about:blank".
    public var json: JSON {
        .object(
            [
                ("type", .string("about:blank")), ("title", .string(status.reasonPhrase)),
                ("status", .number(Double(status.code))),
                ("detail", .string(detail)),
            ] + extra)
    }

    /// The problem JSON as an `application/problem+json` response with `headers`.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var h = headers
        h[.contentType] = "application/problem+json"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(string: json.pretty)))
    }
}

extension JSON {
    /// A JSON response.
    func response(_ status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: pretty)))
    }
}
