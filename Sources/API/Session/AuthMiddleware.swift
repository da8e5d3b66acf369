import Hummingbird
import HummingbirdAuth
import Runtime

/// Who may call what. Public: `/health`, the page's files (`/`, `/ui/…`) and the login itself
/// (`GET`/`POST /api/v1/session`). Everything else needs one of: the page's session cookie (and,
/// for anything but GET/HEAD, the session's CSRF token in `X-CSRF-Token`), a bearer token, or
/// the admin password over HTTP Basic (user `admin`) — from localhost too, unless
/// `api.authOnLocalhost` is false. Before any of that, a request another origin's page made
/// (`Origin` not this box, or `Sec-Fetch-Site` cross-site/same-site) is refused with 403, except a
/// plain navigation to the page. The admin password over Basic goes through the login throttle
/// like the page's login; wrong tokens are counted there too.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = RillRequestContext
    let credentials: Credentials
    let sessions: SessionStore
    let throttle: LoginThrottle
    let cookies: PageCookies
    let authOnLocalhost: Bool

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
        let address = context.remoteAddress?.ipAddress ?? "unknown"
        if !authOnLocalhost, address.hasPrefix("127.") || address == "::1" {
            return try await next(request, context)
        }
        if let bearer = request.headers.bearer {
            // A token's 128 random bits are not guessed, so a right one is never held up by its
            // address's throttle (a script behind the same NAT as an attacker); wrong ones count.
            guard credentials.verifyToken(bearer.token) else {
                let key = throttle.key(device: nil, address: address)
                throttle.failed(key, now: MonotonicClock.now())
                let wait = throttle.wait(key, now: MonotonicClock.now())
                throw wait > 0 ? LoginThrottle.refusal(wait) : unauthorized("invalid credentials")
            }
            return try await next(request, context)
        } else if let basic = request.headers.basic {
            try checked(request, address) { basic.username == "admin" && credentials.verifyAdmin(basic.password) }
            return try await next(request, context)
        } else if let id = cookies.session(in: request) {
            guard let session = sessions.session(id, now: MonotonicClock.now()) else {
                throw unauthorized("session expired or ended: log in again")
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
        throw unauthorized("authentication required: log in, a bearer token or the admin password")
    }

    /// Runs `verify` through the login throttle: 429 while the client must wait, 401 when it fails.
    func checked(_ request: Request, _ address: String, _ verify: () -> Bool) throws {
        let key = try throttle.admit(device: cookies.device(in: request), address: address, now: MonotonicClock.now())
        guard verify() else { throw unauthorized("invalid credentials") }
        throttle.succeeded(key)
    }

    /// 401 with a Bearer challenge only: a Basic one would make browsers pop up their own password
    /// dialog over the page and keep credentials that outlive its logout (scripts using Basic, curl
    /// `-u` among them, send it without being asked).
    func unauthorized(_ detail: String) -> Problem {
        var p = Problem(.unauthorized, detail)
        p.headers[.wwwAuthenticate] = "Bearer realm=\"rill\""
        return p
    }

    /// The 403 for a request another site's page made, or nil. `Origin` (sent by browsers on every
    /// request but a same-origin GET) must be this box as the request addressed it; the Fetch
    /// Metadata header `Sec-Fetch-Site` must not say cross-site or same-site (another port or host
    /// of the same site) — except for a navigation to the page (a link from a wiki). Behind a
    /// reverse proxy, the proxy must pass the original `Host`.
    func crossOriginRefusal(_ request: Request, navigationAllowed: Bool) -> Problem? {
        if navigationAllowed, request.headers[Self.secFetchMode] == "navigate" { return nil }
        if let origin = request.headers[.origin] {
            let own = (cookies.tls ? "https://" : "http://") + (request.head.authority ?? "")
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

/// The page's cookies, named per API port (browsers do not separate cookies by port, so two boxes
/// or instances on one host would otherwise log each other out): the session, and the device
/// cookie that tells the login throttle a browser that logged in before, sent only to the login.
struct PageCookies: Sendable {
    /// `rill_session_<port>`.
    let sessionName: String
    /// `rill_device_<port>`.
    let deviceName: String
    /// Whether the server speaks TLS (`Secure` cookies, the `https://` origin).
    let tls: Bool

    /// A device cookie lives a year.
    static let deviceMaxAgeSeconds: Int64 = 365 * 86_400

    init(port: Int64, tls: Bool) {
        sessionName = "rill_session_\(port)"
        deviceName = "rill_device_\(port)"
        self.tls = tls
    }

    func session(in request: Request) -> String? {
        request.headers[.cookie].flatMap { RequestFields.cookie(sessionName, in: $0) }
    }

    func device(in request: Request) -> String? {
        request.headers[.cookie].flatMap { RequestFields.cookie(deviceName, in: $0) }
    }

    /// The session cookie's `Set-Cookie` (RFC 6265 §4.1): script cannot read it, no other site's
    /// request carries it, over TLS only when the box speaks TLS.
    func sessionCookie(_ value: String, maxAge: Int64) -> String {
        "\(sessionName)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (tls ? "; Secure" : "")
    }

    /// The device cookie's `Set-Cookie`, sent back only to the login.
    func deviceCookie(_ value: String) -> String {
        "\(deviceName)=\(value); Path=/api/v1/session; Max-Age=\(Self.deviceMaxAgeSeconds); HttpOnly; SameSite=Strict"
            + (tls ? "; Secure" : "")
    }
}
