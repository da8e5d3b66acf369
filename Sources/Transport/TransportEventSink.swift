/// What the transport stages tell the box, and the one thing they ask it. Transport never imports
/// `Events`: rilld's side (`StageEvents` in `Events`) implements this protocol and turns each call
/// into the `Event` the supervisor dispatches (OUTPUT_CONNECT, OUTPUT_DISCONNECT, RECORDING_END,
/// SRT_ACCEPT), so the payloads are defined in one place, next to the event table.
///
/// Called from stage threads and from libsrt's listen callback (a libsrt thread): implementations
/// must be thread-safe and the reporting methods must never block.
public protocol TransportEventSink: AnyObject, Sendable {
    /// An output's connection came up: an SRT caller connected, or a client reached an SRT listener.
    /// `peer` is "host:port", `streamID` the connection's stream id ("" for none).
    func outputConnected(output: String, peer: String, streamID: String)

    /// An output's connection ended (the counterpart of `outputConnected`, same values).
    func outputDisconnected(output: String, peer: String, streamID: String)

    /// A recording file was closed: its `path`, its duration (ms, from the first to the last PTS,
    /// rounded) and its size (bytes).
    func recordingEnded(output: String, path: String, durationMs: Int64, bytes: Int64)

    /// Whether an SRT_ACCEPT decision is wanted for `output` (nil: the gateway input); when false
    /// the stage admits every connection its `accept=` list lets through without asking.
    func hasAcceptHandler(output: String?) -> Bool

    /// Decides on one SRT connection during its handshake (blocking the libsrt thread until the
    /// decision, bounded by the handlers' timeouts). `output` nil means the gateway input.
    func decideAccept(output: String?, peer: String, streamID: String) -> AcceptDecision
}

/// The answer of a blocking SRT_ACCEPT: accept (optionally naming the connection, as MistServer's
/// PUSH_REWRITE rewrites a token to a stream name) or reject.
public enum AcceptDecision: Sendable, Equatable {
    /// Let the connection in, optionally under another name.
    case accept(name: String?)
    /// Refuse it, with the reason for the log.
    case reject(reason: String)

    /// Reads a handler's first answer line: `accept`, `accept NAME`, `reject [reason]`, an empty
    /// answer (reject) or any other single word (accept, named by it).
    public static func parse(_ answer: String) -> AcceptDecision {
        let words = answer.split(separator: " ", maxSplits: 1).map(String.init)
        guard let first = words.first else { return .reject(reason: "empty answer") }
        switch first.lowercased() {
        case "accept": return .accept(name: words.count > 1 ? words[1] : nil)
        case "reject": return .reject(reason: words.count > 1 ? words[1] : "rejected by handler")
        default: return .accept(name: answer)
        }
    }
}
