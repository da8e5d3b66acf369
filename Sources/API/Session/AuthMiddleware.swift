import Hummingbird
import HummingbirdAuth
import Runtime

/// Who may call what. Public: `/health`, the page's files (`/`, `/ui/…`) and the login itself
/// (`GET`/`POST /api/v1/session`). Everything else needs one of: the page's session cookie (and,
/// for anything but GET/HEAD, the session's CSRF token in `X-CSRF-Token`), a bearer token, or
/// the admin password over HTTP Basic (user `admin`) — from localhost too, unless
/// `api.authOnLocalhost` is false. Before any of that, a request another origin's page made
/// (`Origin` not this box, or `Sec-Fetch-Site` cross-site/same-site) is refused with 403, except a
/// plain navigation to the page.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = RillRequestContext
    let credentials: Credentials
    let sessions: SessionStore
    let authOnLocalhost: Bool
    /// Whether the server speaks TLS (the origin a same-origin page sends is then `https://…`).
    let tls: Bool

    /// The session cookie's name.
    static let cookieName = "rill_session"
    /// The header the page sends its CSRF token in.
    static let csrfHeader = HTTPFields.Element.Name("X-CSRF-Token")!
    static let secFetchSite = HTTPFields.Element.Name("Sec-Fetch-Site")!
    static let secFetchMode = HTTPFields.Element.Name("Sec-Fetch-Mode")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let path = request.uri.path
        let isSafe = request.method == .get || request.method == .head
        let isPage = path == "/" || path.hasPrefix("/ui/")
        if let refusal = crossOriginRefusal(request, navigationAllowed: isPage && isSafe) { throw refusal }
        if path == "/health" || isPage || path == "/api/v1/session" && request.method != .delete {
            return try await next(request, context)
        }
        if !authOnLocalhost, let ip = context.remoteAddress?.ipAddress, ip.hasPrefix("127.") || ip == "::1" {
            return try await next(request, context)
        }
        if let bearer = request.headers.bearer {
            if credentials.verifyToken(bearer.token) { return try await next(request, context) }
        } else if let basic = request.headers.basic, basic.username == "admin" {
            if credentials.verifyAdmin(basic.password) { return try await next(request, context) }
        } else if let id = request.headers[.cookie].flatMap({ RequestFields.cookie(Self.cookieName, in: $0) }) {
            guard let session = sessions.session(id, now: MonotonicClock.now()) else {
                throw unauthorized(request, "session expired or ended: log in again")
            }
            if !isSafe {
                let token = request.headers[Self.csrfHeader] ?? ""
                guard SessionStore.constantTimeEqual(token, session.csrf) else {
                    throw Problem(.forbidden, "missing or wrong CSRF token (X-CSRF-Token)")
                }
            }
            var context = context
            context.session = session
            return try await next(request, context)
        }
        throw unauthorized(
            request,
            request.headers[.authorization] == nil
                ? "authentication required: log in, a bearer token or the admin password" : "invalid credentials")
    }

    /// 401 with a challenge. A browser's script (`Sec-Fetch-Mode` other than navigate) is offered
    /// Bearer only, so the browser does not pop up its own password dialog over the page.
    func unauthorized(_ request: Request, _ detail: String) -> Problem {
        var p = Problem(.unauthorized, detail)
        let mode = request.headers[Self.secFetchMode]
        p.headers[.wwwAuthenticate] =
            mode == nil || mode == "navigate" ? "Bearer realm=\"rill\", Basic realm=\"rill\"" : "Bearer realm=\"rill\""
        return p
    }

    /// The 403 for a request another site's page made, or nil. `Origin` (sent by browsers on every
    /// request but a same-origin GET) must be this box as the request addressed it; the Fetch
    /// Metadata header `Sec-Fetch-Site` must not say cross-site or same-site (another port or host
    /// of the same site) — except for a navigation to the page (a link from a wiki).
    func crossOriginRefusal(_ request: Request, navigationAllowed: Bool) -> Problem? {
        if navigationAllowed, request.headers[Self.secFetchMode] == "navigate" { return nil }
        if let origin = request.headers[.origin] {
            let host = request.head.authority ?? ""
            let own = (tls ? "https://" : "http://") + host
            if origin.lowercased() != own.lowercased() {
                return Problem(.forbidden, "cross-origin request refused: Origin \(origin) is not \(own)")
            }
        }
        if let site = request.headers[Self.secFetchSite], site == "cross-site" || site == "same-site" {
            return Problem(.forbidden, "cross-origin request refused: Sec-Fetch-Site \(site)")
        }
        return nil
    }
}
