import Config
import Runtime
import Transport

/// The event handlers of a config, for stages: fire-and-forget events go to the supervisor over
/// the event channel; blocking ones (SRT_ACCEPT) run their handler right here and wait.
/// `@unchecked Sendable`: every stored property is immutable after `init`, and `EventChannel.send`
/// is one non-blocking `sendto` on a socket it never changes.
public final class StageEvents: @unchecked Sendable {
    let handlers: [EventHandlerSection]
    let channel: EventChannel
    let log: Log

    /// The handlers of a stage's config; events go to the supervisor of `instanceDirectory`.
    public init(handlers: [EventHandlerSection], instanceDirectory: String, log: Log) {
        self.handlers = handlers
        self.channel = EventChannel(sendingTo: EventChannel.path(instanceDirectory: instanceDirectory))
        self.log = log
    }

    /// Tells the supervisor (never blocks).
    public func post(_ event: Event) {
        var e = event
        if e.time == 0 { e.time = MonotonicClock.wallNow() }
        if !channel.send(e) { log.info("event \(e.kind.rawValue) dropped: the supervisor is not listening") }
    }

    /// Whether any handler decides SRT_ACCEPT for `output`.
    public func hasAcceptHandler(output: String?) -> Bool {
        handlers.contains { $0.matches(.srtAccept, output: output) }
    }

    /// Asks the SRT_ACCEPT handlers in order; the first rejection wins, the last name given names
    /// the connection. A failed handler counts as its `default` answer.
    public func decideAccept(output: String?, peer: String, streamID: String) -> AcceptDecision {
        var e = Event(.srtAccept, output: output, values: [output ?? "input", peer, streamID])
        e.time = MonotonicClock.wallNow()
        var name: String? = nil
        for h in handlers where h.matches(.srtAccept, output: output) {
            let o = HandlerRunner.run(h, e)
            let d: AcceptDecision
            if let answer = o.answer {
                d = AcceptDecision.parse(answer)
            } else {
                log.warning("SRT_ACCEPT handler \(h.handler): \(o.failure ?? "failed"); answering \(h.defaultAnswer)")
                d = h.defaultAnswer == "accept" ? .accept(name: nil) : .reject(reason: "handler failed")
            }
            switch d {
            case .reject: return d
            case .accept(let n): if let n { name = n }
            }
        }
        return .accept(name: name)
    }
}

/// The transport stages' reports, as the events of the README's table (payload fields in the
/// order of `EventKind.fields`).
extension StageEvents: TransportEventSink {
    /// OUTPUT_CONNECT: output id, peer, stream id.
    public func outputConnected(output: String, peer: String, streamID: String) {
        post(Event(.outputConnect, output: output, values: [output, peer, streamID]))
    }

    /// OUTPUT_DISCONNECT: output id, peer, stream id.
    public func outputDisconnected(output: String, peer: String, streamID: String) {
        post(Event(.outputDisconnect, output: output, values: [output, peer, streamID]))
    }

    /// RECORDING_END: output id, file path, duration in seconds (ms resolution, e.g. "12.345"), bytes.
    public func recordingEnded(output: String, path: String, durationMs: Int64, bytes: Int64) {
        post(Event(.recordingEnd, output: output, values: [output, path, Self.seconds(ms: durationMs), "\(bytes)"]))
    }

    /// A duration in ms as the RECORDING_END payload writes it: seconds as a decimal ("2.5", "0.04", "3.0").
    public static func seconds(ms: Int64) -> String { String(Double(ms) / 1000) }
}
