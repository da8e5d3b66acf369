import Hummingbird

/// Headers on every response, errors included, so the page cannot be framed, sniffed into another
/// type or made to run script from anywhere but the box: a `Content-Security-Policy` that allows
/// only the box's own files (no inline script or style, no eval), `frame-ancestors 'none'` and
/// `X-Frame-Options: DENY` for older browsers, `nosniff`, no referrer; over TLS also HSTS; and
/// `Cache-Control: no-store` on the API's answers (configs hold passphrases, the session its CSRF
/// token) where a route set no cache policy of its own.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = RillRequestContext
    let tls: Bool

    /// The page's policy (CSP Level 3): thumbnails may come as blobs, nothing from elsewhere.
    static let contentSecurityPolicy =
        "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
        + "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    static let frameOptions = HTTPFields.Element.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPFields.Element.Name("Referrer-Policy")!
    /// HSTS (RFC 6797 §6.1.1), sent only over TLS: a day, not the usual year — a box's certificate
    /// is often self-made and short-lived, and HSTS makes a certificate error impossible to click
    /// through and a later switch back to plain HTTP unreachable for that long.
    static let hstsMaxAgeSeconds = 86_400

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPResponseError {
            response = try error.response(from: request, context: context)
        } catch {
            response = try Problem(.internalServerError, "\(error)").response(from: request, context: context)
        }
        if request.uri.path.hasPrefix("/api/"), response.headers[.cacheControl] == nil {
            response.headers[.cacheControl] = "no-store"
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[Self.frameOptions] = "DENY"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[Self.referrerPolicy] = "no-referrer"
        if tls { response.headers[.strictTransportSecurity] = "max-age=\(Self.hstsMaxAgeSeconds)" }
        return response
    }
}
