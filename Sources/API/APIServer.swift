import Box
import Confidence
import Config
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL
import Runtime

extension RillAPI {
    /// rilld's HTTP server: `router(box:credentials:metrics:)` served on `api.address`:`api.port`
    /// with the `Server` header `rill/<version>`, over TLS when `api.tls` names a certificate and
    /// key. `log` gets a notice once the server listens; the server's own messages (NIO's,
    /// Hummingbird's) go to `logger`. Run it as a service of rilld's `ServiceGroup`; it stops on
    /// the group's graceful shutdown. Throws `TLSFilesError` (naming the field) when the
    /// certificate or key cannot be used.
    public static func application(
        box: BoxController, credentials: Credentials, metrics: BoxMetrics, api: APISection, log: Log,
        levels: LevelMonitor? = nil, thumbnails: ThumbnailSource? = nil, sessions: SessionStore = SessionStore(),
        logger: Logger = Logger(label: "api")
    ) throws(TLSFilesError) -> Application<RouterResponder<RillRequestContext>> {
        let scheme = api.tls == nil ? "http" : "https"
        let server: HTTPServerBuilder
        if let files = api.tls {
            let tls = try tlsConfiguration(files)
            do { server = try .tls(.http1(), tlsConfiguration: tls) } catch {
                throw TLSFilesError(field: "api.tls", reason: "\(error)")
            }
        } else {
            server = .http1()
        }
        return Application(
            router: router(
                box: box, credentials: credentials, metrics: metrics, levels: levels, thumbnails: thumbnails,
                sessions: sessions),
            server: server,
            configuration: .init(
                address: .hostname(api.address, port: Int(api.port)), serverName: serverName),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? Int(api.port)
                log.notice(
                    "API on \(scheme)://\(api.address):\(port)/api/v1 (the page at \(scheme)://\(api.address):\(port)/)"
                )
            },
            logger: logger)
    }

    /// A certificate or key of `api.tls` that cannot be used, naming the field.
    public struct TLSFilesError: Error, CustomStringConvertible {
        /// `api.tls.certificate` or `api.tls.key`.
        public var field: String
        /// What is wrong with it.
        public var reason: String
        /// "field: reason".
        public var description: String { "\(field): \(reason)" }
    }

    /// The server side of TLS 1.2+ with `files`' certificate chain and key (PEM).
    static func tlsConfiguration(_ files: APISection.TLSFiles) throws(TLSFilesError) -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(files.certificate) } catch {
            throw TLSFilesError(field: "api.tls.certificate", reason: "\(files.certificate): \(error)")
        }
        guard !chain.isEmpty else {
            throw TLSFilesError(field: "api.tls.certificate", reason: "\(files.certificate) holds no PEM certificate")
        }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: files.key, format: .pem) } catch {
            throw TLSFilesError(field: "api.tls.key", reason: "\(files.key): \(error)")
        }
        var c = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        c.minimumTLSVersion = .tlsv12
        return c
    }

    /// The `Server` header of every response: `rill/<version>`.
    public static var serverName: String { "rill/\(BoxController.version)" }
}
