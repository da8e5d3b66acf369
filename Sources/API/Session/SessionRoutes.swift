import Config
import Hummingbird
import NIOCore
import Runtime

/// The page's login: `GET /api/v1/session` (the session and its CSRF token, or 401),
/// `POST /api/v1/session` (log in with the admin password, JSON `{"password"}` or a form body;
/// throttled), `DELETE /api/v1/session` (log out) and `POST /api/v1/password`
/// (`{"current","new"}`, throttled: every session ends).
enum SessionRoutes {
    /// A login body is a password: anything longer is refused before it is read further.
    static let maxLoginBody = 4096
    /// How a 413 names that limit.
    static let limitName = "a login or password body is at most 4 KiB"

    static func add(
        to v1: RouterGroup<RillRequestContext>, credentials: Credentials, sessions: SessionStore,
        throttle: LoginThrottle, cookies: PageCookies
    ) {
        v1.get("session") { request, _ in
            guard let id = cookies.session(in: request), let s = sessions.session(id, now: MonotonicClock.now())
            else { throw Problem(.unauthorized, "not logged in") }
            return describe(s).response()
        }
        v1.post("session") { request, context in
            let password = try await field("password", of: request)
            guard credentials.hasAdminPassword else {
                throw Problem(.unauthorized, "no admin password is set: set one with `rill passwd`")
            }
            let key = try throttle.admit(
                device: cookies.device(in: request), address: context.remoteAddress?.ipAddress ?? "unknown",
                now: MonotonicClock.now())
            guard credentials.verifyAdmin(password) else {
                let next = LoginThrottle.delay(failures: throttle.failures(key))
                throw Problem(
                    .unauthorized, "wrong password" + (next > 0 ? ": the next attempt is possible in \(next) s" : ""),
                    [("path", .string("password"))])
            }
            throttle.succeeded(key)
            let s = sessions.open(now: MonotonicClock.now())
            var response = describe(s).response()
            let session = cookies.sessionCookie(s.id, maxAge: SessionStore.lifetimeSeconds)
            response.headers.append(HTTPFields.Element(name: .setCookie, value: session))
            if !key.hasPrefix("device:") {
                response.headers.append(
                    HTTPFields.Element(name: .setCookie, value: cookies.deviceCookie(throttle.trustDevice())))
            }
            return response
        }
        v1.delete("session") { _, context in
            if let s = context.session { sessions.close(s.id) }
            return Response(status: .noContent, headers: [.setCookie: cookies.sessionCookie("", maxAge: 0)])
        }
        v1.post("password") { request, context in
            let body = try await RillAPI.body(request, limit: maxLoginBody, limitName: limitName)
            guard case .string(let current) = body["current"] ?? .null else {
                throw Problem(.unprocessableContent, "current: the current password is required", path("current"))
            }
            guard case .string(let new) = body["new"] ?? .null, new.count >= Credentials.minimumPasswordLength else {
                throw Problem(
                    .unprocessableContent,
                    "new: the new password must have at least \(Credentials.minimumPasswordLength) characters",
                    path("new"))
            }
            let key = try throttle.admit(
                device: cookies.device(in: request), address: context.remoteAddress?.ipAddress ?? "unknown",
                now: MonotonicClock.now())
            guard credentials.verifyAdmin(current) else {
                throw Problem(.forbidden, "current: wrong password", path("current"))
            }
            throttle.succeeded(key)
            do { try credentials.setAdminPassword(new) } catch {
                throw Problem(.internalServerError, "the credentials file could not be saved: \(error)")
            }
            sessions.closeAll()
            return Response(status: .noContent, headers: [.setCookie: cookies.sessionCookie("", maxAge: 0)])
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

    /// The string field `name` of a JSON object body or of a form body (`application/x-www-form-
    /// urlencoded`); 422 naming it when missing.
    static func field(_ name: String, of request: Request) async throws -> String {
        let limit = maxLoginBody
        if request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true {
            let buffer = try await RillAPI.collect(request, limit: limit, limitName: limitName)
            if let f = RequestFields.form(buffer.readableBytesView).first(where: { $0.name == name }) { return f.value }
        } else if case .string(let v) = try await RillAPI.body(request, limit: limit, limitName: limitName)[name]
            ?? .null
        {
            return v
        }
        throw Problem(.unprocessableContent, "\(name): required", path(name))
    }
}
