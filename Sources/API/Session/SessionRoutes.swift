import Config
import Hummingbird
import NIOCore
import Runtime

/// The page's login: `GET /api/v1/session` (the session and its CSRF token, or 401),
/// `POST /api/v1/session` (log in with the admin password, JSON `{"password"}` or a form body;
/// throttled per address), `DELETE /api/v1/session` (log out) and `POST /api/v1/password`
/// (`{"current","new"}`: every session ends).
enum SessionRoutes {
    static func add(
        to v1: RouterGroup<RillRequestContext>, credentials: Credentials, sessions: SessionStore,
        throttle: LoginThrottle, tls: Bool, maxBody: Int
    ) {
        v1.get("session") { request, _ in
            guard
                let id = request.headers[.cookie].flatMap({ RequestFields.cookie(AuthMiddleware.cookieName, in: $0) }),
                let s = sessions.session(id, now: MonotonicClock.now())
            else { throw Problem(.unauthorized, "not logged in") }
            return describe(s).response()
        }
        v1.post("session") { request, context in
            let address = context.remoteAddress?.ipAddress ?? "unknown"
            let wait = throttle.wait(address, now: MonotonicClock.now())
            if wait > 0 {
                var p = Problem(.tooManyRequests, "too many wrong passwords: try again in \(wait) s")
                p.headers[.retryAfter] = "\(wait)"
                throw p
            }
            let password = try await field("password", of: request, limit: maxBody)
            guard credentials.hasAdminPassword else {
                throw Problem(.unauthorized, "no admin password is set: set one with `rill passwd`")
            }
            guard credentials.verifyAdmin(password) else {
                let n = throttle.failed(address, now: MonotonicClock.now())
                let next = LoginThrottle.delay(failures: n)
                throw Problem(
                    .unauthorized, "wrong password" + (next > 0 ? ": the next attempt is possible in \(next) s" : ""),
                    [("path", .string("password"))])
            }
            throttle.succeeded(address)
            let s = sessions.open(now: MonotonicClock.now())
            var response = describe(s).response()
            response.headers[.setCookie] = cookie(s.id, maxAge: SessionStore.lifetimeSeconds, tls: tls)
            return response
        }
        v1.delete("session") { _, context in
            if let s = context.session { sessions.close(s.id) }
            return Response(status: .noContent, headers: [.setCookie: cookie("", maxAge: 0, tls: tls)])
        }
        v1.post("password") { request, _ in
            let body = try await RillAPI.body(request, limit: maxBody)
            guard case .string(let current) = body["current"] ?? .null else {
                throw Problem(.unprocessableContent, "current: the current password is required", path("current"))
            }
            guard case .string(let new) = body["new"] ?? .null, new.count >= Credentials.minimumPasswordLength else {
                throw Problem(
                    .unprocessableContent,
                    "new: the new password must have at least \(Credentials.minimumPasswordLength) characters",
                    path("new"))
            }
            guard credentials.verifyAdmin(current) else {
                throw Problem(.forbidden, "current: wrong password", path("current"))
            }
            do { try credentials.setAdminPassword(new) } catch {
                throw Problem(.internalServerError, "the credentials file could not be saved: \(error)")
            }
            sessions.closeAll()
            return Response(status: .noContent, headers: [.setCookie: cookie("", maxAge: 0, tls: tls)])
        }
    }

    static func path(_ p: String) -> [(String, JSON)] { [("path", .string(p))] }

    /// The session as the page sees it: the CSRF token and the seconds left.
    static func describe(_ s: SessionStore.Session) -> JSON {
        .object([
            ("user", .string("admin")), ("csrf", .string(s.csrf)),
            ("expiresInSeconds", .number(Double(s.secondsLeft(now: MonotonicClock.now())))),
        ])
    }

    /// The `Set-Cookie` value (RFC 6265 §4.1): script cannot read it, no other site's request
    /// carries it, over TLS only when the box speaks TLS.
    static func cookie(_ value: String, maxAge: Int64, tls: Bool) -> String {
        "\(AuthMiddleware.cookieName)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict"
            + (tls ? "; Secure" : "")
    }

    /// The string field `name` of a JSON object body or of a form body (`application/x-www-form-
    /// urlencoded`); 422 naming it when missing.
    static func field(_ name: String, of request: Request, limit: Int) async throws -> String {
        if request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true {
            var r = request
            let buffer: ByteBuffer
            do { buffer = try await r.collectBody(upTo: limit) } catch {
                throw Problem(.contentTooLarge, "request body larger than \(limit) bytes (api.maxBodyBytes)")
            }
            if let f = RequestFields.form(buffer.readableBytesView).first(where: { $0.name == name }) { return f.value }
        } else if case .string(let v) = try await RillAPI.body(request, limit: limit)[name] ?? .null {
            return v
        }
        throw Problem(.unprocessableContent, "\(name): required", path(name))
    }
}
