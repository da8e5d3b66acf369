/// One event of a `text/event-stream` (the box's `/api/v1/events`).
public struct ServerSentEvent: Sendable, Equatable {
    /// The `event:` field; "message" when the event names none.
    public var type: String
    /// The `data:` lines joined with "\n" (without the final line feed).
    public var data: String
    /// The last `id:` seen in the stream up to this event ("" for none).
    public var lastEventID: String

    /// An event of `type` carrying `data`.
    public init(type: String = "message", data: String, lastEventID: String = "") {
        self.type = type
        self.data = data
        self.lastEventID = lastEventID
    }
}

/// Reads a `text/event-stream` as it arrives, in pieces of any size, by the HTML Living Standard's
/// "Interpreting an event stream" (§9.2.6): lines end with CRLF, LF or CR (a CRLF may be split
/// between two pieces); a line starting with ":" is a comment (the API's keep-alives); `field:
/// value` drops one space after the colon; several `data:` lines make one value joined with LF; a
/// blank line dispatches the event, unless it has no data. A leading byte order mark is skipped.
public struct ServerSentEventParser: Sendable {
    /// The longest line kept (bytes); the rest of a longer line is dropped, so a hostile server
    /// cannot grow this buffer without bound.
    public static let maxLineBytes = 1 << 20
    private static let lineFeed: UInt8 = 0x0A
    private static let carriageReturn: UInt8 = 0x0D
    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    private var line: [UInt8] = []
    private var afterCR = false
    private var atStart = true
    private var type = ""
    private var data = ""
    private var hasData = false
    /// The `id:` field's value, kept across events (§9.2.6 "last event ID buffer").
    public private(set) var lastEventID = ""
    /// The `retry:` field's reconnection time (ms), once the stream sent one.
    public private(set) var retryMs: Int64? = nil

    /// A parser at the start of a stream.
    public init() {}

    /// Takes the next bytes of the stream; returns the events they complete, in order.
    public mutating func feed<S: Sequence>(_ bytes: S) -> [ServerSentEvent] where S.Element == UInt8 {
        var events: [ServerSentEvent] = []
        for b in bytes {
            if afterCR {
                afterCR = false
                if b == Self.lineFeed { continue }  // the LF of a CRLF
            }
            if b == Self.lineFeed || b == Self.carriageReturn {
                afterCR = b == Self.carriageReturn
                if let e = endLine() { events.append(e) }
            } else if line.count < Self.maxLineBytes {
                line.append(b)
                if atStart, line.count == 3 {
                    if line == Self.byteOrderMark { line.removeAll() }
                    atStart = false
                }
            }
        }
        return events
    }

    /// Interprets the line just ended; returns the event a blank line dispatches.
    private mutating func endLine() -> ServerSentEvent? {
        atStart = false
        defer { line.removeAll(keepingCapacity: true) }
        guard !line.isEmpty else { return dispatch() }
        if line.first == UInt8(ascii: ":") { return nil }  // a comment
        let colon = line.firstIndex(of: UInt8(ascii: ":"))
        let field = String(decoding: line[..<(colon ?? line.endIndex)], as: UTF8.self)
        var value = colon.map { line[($0 + 1)...] } ?? line[line.endIndex...]
        if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        let text = String(decoding: value, as: UTF8.self)
        switch field {
        case "event": type = text
        case "data":
            // Bounded like a line: endless data lines without a blank line cannot grow it further.
            if data.utf8.count < Self.maxLineBytes { data += (hasData ? "\n" : "") + text }
            hasData = true
        case "id" where !value.contains(0): lastEventID = text
        case "retry" where !value.isEmpty && value.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }):
            retryMs = Int64(text)
        default: break  // unknown fields are ignored
        }
        return nil
    }

    /// A blank line: the buffered event, if it has data; the buffers start over either way.
    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            type = ""
            data = ""
            hasData = false
        }
        guard hasData else { return nil }
        return ServerSentEvent(type: type.isEmpty ? "message" : type, data: data, lastEventID: lastEventID)
    }
}
