import Hummingbird
import HummingbirdAuth
import NIOCore

/// The request context: Hummingbird's core storage plus the peer's address (local peers may be
/// exempt from auth when the config says so).
public struct RillRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's per-request storage (logger, request id, …).
    public var coreContext: CoreRequestContextStorage
    /// The peer's address, for the localhost exemption (`api.authOnLocalhost`).
    public let remoteAddress: SocketAddress?

    /// The context of a request arriving on `source`'s channel.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// Every endpoint but `/health` needs the admin password (HTTP Basic, user `admin`) or a bearer
/// token — from localhost too, unless `api.authOnLocalhost` is false.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = RillRequestContext
    let credentials: Credentials
    let authOnLocalhost: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if request.uri.path == "/health" { return try await next(request, context) }
        if !authOnLocalhost, let ip = context.remoteAddress?.ipAddress, ip.hasPrefix("127.") || ip == "::1" {
            return try await next(request, context)
        }
        if let bearer = request.headers.bearer {
            if credentials.verifyToken(bearer.token) { return try await next(request, context) }
        } else if let basic = request.headers.basic, basic.username == "admin" {
            if credentials.verifyAdmin(basic.password) { return try await next(request, context) }
        }
        var p = Problem(
            .unauthorized,
            request.headers[.authorization] == nil
                ? "authentication required: a bearer token or the admin password" : "invalid credentials")
        p.headers[.wwwAuthenticate] = "Bearer realm=\"rill\", Basic realm=\"rill\""
        throw p
    }
}
