import Hummingbird
import NIOCore

/// The request context: Hummingbird's core storage, the peer's address (local peers may be exempt
/// from auth when the config says so; the login throttle counts per address) and the session.
public struct RillRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's per-request storage (logger, request id, …).
    public var coreContext: CoreRequestContextStorage
    /// The peer's address, for the localhost exemption (`api.authOnLocalhost`).
    public let remoteAddress: SocketAddress?
    /// The page's login session the request came with, once `AuthMiddleware` checked it.
    public var session: SessionStore.Session?

    /// The context of a request arriving on `source`'s channel.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
