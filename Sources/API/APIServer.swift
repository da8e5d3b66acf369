import Box
import Confidence
import Config
import Hummingbird
import Logging
import Runtime

extension RillAPI {
    /// rilld's HTTP server: `router(box:credentials:metrics:)` served on `api.address`:`api.port`
    /// with the `Server` header `rill/<version>`. `log` gets a notice once the server listens; the
    /// server's own messages (NIO's, Hummingbird's) go to `logger`. Run it as a service of rilld's
    /// `ServiceGroup`; it stops on the group's graceful shutdown.
    public static func application(
        box: BoxController, credentials: Credentials, metrics: BoxMetrics, api: APISection, log: Log,
        levels: LevelMonitor? = nil, thumbnails: ThumbnailSource? = nil, logger: Logger = Logger(label: "api")
    ) -> Application<RouterResponder<RillRequestContext>> {
        Application(
            router: router(
                box: box, credentials: credentials, metrics: metrics, levels: levels, thumbnails: thumbnails),
            configuration: .init(
                address: .hostname(api.address, port: Int(api.port)), serverName: serverName),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? Int(api.port)
                log.notice("API on http://\(api.address):\(port)/api/v1")
            },
            logger: logger)
    }

    /// The `Server` header of every response: `rill/<version>`.
    public static var serverName: String { "rill/\(BoxController.version)" }
}
