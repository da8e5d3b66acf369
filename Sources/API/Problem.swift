import Config
import Hummingbird

/// An API error as RFC 9457 problem JSON: `{"type","title","status","detail"}` plus, for config
/// errors, `path` (the JSON path) and `file`; for syntax errors, `line` and `column`.
public struct Problem: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var detail: String
    public var extra: [(String, JSON)] = []
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ detail: String, _ extra: [(String, JSON)] = []) {
        self.status = status
        self.detail = detail
        self.extra = extra
    }

    public var json: JSON {
        .object(
            [("type", .string("about:blank")), ("title", .string(status.reasonPhrase)), ("status", .number(Double(status.code))),
             ("detail", .string(detail))] + extra)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var h = headers
        h[.contentType] = "application/problem+json"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(string: json.pretty)))
    }
}

extension JSON {
    /// A JSON response.
    func response(_ status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: pretty)))
    }
}
