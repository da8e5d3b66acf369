import CRIST
import Config
import Runtime
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Why a RIST link could not be set up.
public struct RISTError: Error, CustomStringConvertible, Sendable {
    /// What failed (create, URL parse, peer, start), with the URL where one is involved.
    public var operation: String
    /// `librist: <operation> failed`, for the log.
    public var description: String { "librist: \(operation) failed" }
}

/// A librist context (sender or receiver) with one peer from a `rist://` URL, its log routed to
/// Rill's log (with a plain-language line for a wrong secret) and its statistics kept for the
/// status file. librist calls back from its own threads: what they touch is behind a Mutex.
final class RISTContext: @unchecked Sendable {
    // Invariant: `ctx` and `peer` are set once in init and freed in deinit; the callbacks only
    // touch `observer`.
    let ctx: OpaquePointer
    let settings: RISTSettings
    let observer: RISTObserver
    var log: Log { observer.log }
    private var peer: OpaquePointer? = nil
    private var logging: UnsafeMutablePointer<rist_logging_settings>? = nil

    enum Role { case sender, receiver }

    init(_ role: Role, settings: RISTSettings, log: Log) throws {
        self.settings = settings
        observer = RISTObserver(log: log, settings: settings)
        let profile = settings.profile == .simple ? RIST_PROFILE_SIMPLE : RIST_PROFILE_MAIN
        var created: OpaquePointer? = nil
        // Log callback first: creation itself logs.
        let me = Unmanaged.passUnretained(observer).toOpaque()
        _ = rist_logging_set(
            &logging, RIST_LOG_WARN,
            { arg, level, message in
                guard let arg, let message else { return 0 }
                Unmanaged<RISTObserver>.fromOpaque(arg).takeUnretainedValue().librist(level, String(cString: message))
                return 0
            }, me, nil, nil)
        let rc =
            role == .sender
            ? rist_sender_create(&created, profile, 0, logging)
            : rist_receiver_create(&created, profile, logging)
        guard rc == 0, let created else { throw RISTError(operation: "\(role) create") }
        ctx = created
        var config: UnsafeMutablePointer<rist_peer_config>? = nil
        guard rist_parse_address2(settings.libristURL, &config) == 0, let parsed = config else {
            rist_destroy(ctx)
            throw RISTError(operation: "parsing \(settings.libristURL)")
        }
        defer { _ = rist_peer_config_free2(&config) }
        guard rist_peer_create(ctx, &peer, parsed) == 0 else {
            rist_destroy(ctx)
            throw RISTError(operation: "peer \(settings.libristURL) (address in use, or unreachable)")
        }
        _ = rist_connection_status_callback_set(
            ctx,
            { arg, _, status in
                guard let arg else { return }
                let me = Unmanaged<RISTObserver>.fromOpaque(arg).takeUnretainedValue()
                let up = status == RIST_CONNECTION_ESTABLISHED || status == RIST_CLIENT_CONNECTED
                me.shared.withLock { $0.connected = up }
                me.log.notice(up ? "RIST peer connected" : "RIST peer timed out")
            }, me)
        _ = rist_stats_callback_set(
            ctx, 1000,
            { arg, stats in
                guard let arg, let stats else { return 0 }
                let me = Unmanaged<RISTObserver>.fromOpaque(arg).takeUnretainedValue()
                let s = stats.pointee
                me.shared.withLock {
                    if s.stats_type == RIST_STATS_SENDER_PEER {
                        $0.sender = s.stats.sender_peer
                        $0.sentTotal &+= s.stats.sender_peer.sent
                        $0.retransmittedTotal &+= s.stats.sender_peer.retransmitted
                    } else {
                        $0.receiver = s.stats.receiver_flow
                        $0.receivedTotal &+= s.stats.receiver_flow.received
                        $0.lostTotal &+= UInt64(s.stats.receiver_flow.lost)
                        $0.recoveredTotal &+= UInt64(s.stats.receiver_flow.recovered)
                    }
                }
                _ = rist_stats_free(stats)
                return 0
            }, me)
    }

    func start() throws {
        guard rist_start(ctx) == 0 else { throw RISTError(operation: "start") }
    }

    deinit {
        rist_destroy(ctx)
        _ = rist_logging_settings_free2(&logging)
    }

    func statusExtra() -> String { observer.statusExtra() }
}

/// What librist's callback threads report: log lines, connection state, statistics.
final class RISTObserver: Sendable {
    let log: Log
    let settings: RISTSettings

    struct Shared {
        var sender = rist_stats_sender_peer()
        var receiver = rist_stats_receiver_flow()
        var connected = false
        var decryptFailures = 0
        /// Totals since start (librist's counters cover one stats interval each).
        var sentTotal: UInt64 = 0
        var retransmittedTotal: UInt64 = 0
        var receivedTotal: UInt64 = 0
        var lostTotal: UInt64 = 0
        var recoveredTotal: UInt64 = 0
    }
    let shared = Mutex(Shared())

    init(log: Log, settings: RISTSettings) {
        self.log = log
        self.settings = settings
    }

    /// librist's warnings and errors, into Rill's log; a peer whose packets do not decrypt is said
    /// plainly (librist reports it as malformed RTP, then waits for a new nonce).
    func librist(_ level: rist_log_level, _ message: String) {
        let text = message.trimmingSuffix()
        if text.contains("Malformed packet") || text.contains("till new NONCE") {
            let first = shared.withLock { s -> Bool in
                s.decryptFailures += 1
                return s.decryptFailures == 1
            }
            if first {
                log.error(
                    "RIST: the peer's packets do not decrypt: wrong secret or aes-type (librist: \(text)); no stream")
            }
            return
        }
        if level.rawValue <= RIST_LOG_ERROR.rawValue {
            log.error("librist: \(text)")
        } else {
            log.warning("librist: \(text)")
        }
    }

    /// Status members for the stats file: RTT, retransmits, loss, recovery (as SRT's).
    /// librist's quality percentage (NaN before any traffic).
    private func quality(_ q: Double) -> Int { q.isFinite ? Int(q.rounded()) : 0 }

    func statusExtra() -> String {
        shared.withLock { s in
            let r = s.receiver
            let t = s.sender
            return "\"protocol\":\"rist\",\"profile\":\"\(settings.profile.rawValue)\",\"connected\":\(s.connected),"
                + "\"rttMs\":\(max(t.rtt, r.rtt)),\"retransmitted\":\(s.retransmittedTotal),\"sent\":\(s.sentTotal),"
                + "\"received\":\(s.receivedTotal),\"lost\":\(s.lostTotal),\"recovered\":\(s.recoveredTotal),\"missing\":\(r.missing),"
                + "\"quality\":\(quality(max(t.quality, r.quality))),"
                + "\"decryptFailures\":\(s.decryptFailures)"
        }
    }
}

extension String {
    func trimmingSuffix() -> String {
        var s = Substring(self)
        while let last = s.last, last.isWhitespace { s.removeLast() }
        return String(s)
    }
}
