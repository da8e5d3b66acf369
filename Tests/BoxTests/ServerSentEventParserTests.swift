import Events
import Testing

/// `rill ctl events`' reader of the API's `text/event-stream` (HTML Living Standard §9.2.6).
@Suite("Server-Sent Events parser")
struct ServerSentEventParserTests {
    /// All events of `stream` fed in pieces of `size` bytes.
    static func parse(_ stream: String, pieces size: Int) -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        let bytes = Array(stream.utf8)
        var events: [ServerSentEvent] = []
        var i = 0
        while i < bytes.count {
            events += parser.feed(bytes[i..<min(i + size, bytes.count)])
            i += size
        }
        return events
    }

    /// What the box's API sends: a named event with one JSON data line, then a keep-alive comment.
    static let apiStream =
        "event: OUTPUT_CONNECT\ndata: {\"event\":\"OUTPUT_CONNECT\",\"payload\":{\"peer\":\"10.0.0.1:4000\"}}\n\n"
        + ": keep-alive\n\n" + "event: SYSTEM_STOP\ndata: {\"event\":\"SYSTEM_STOP\"}\n\n"

    @Test("the API's stream, whole or split at every size down to single bytes", arguments: [1, 2, 3, 7, 64, 4096])
    func apiStream(pieceSize: Int) {
        let events = Self.parse(Self.apiStream, pieces: pieceSize)
        #expect(
            events == [
                ServerSentEvent(
                    type: "OUTPUT_CONNECT",
                    data: "{\"event\":\"OUTPUT_CONNECT\",\"payload\":{\"peer\":\"10.0.0.1:4000\"}}"),
                ServerSentEvent(type: "SYSTEM_STOP", data: "{\"event\":\"SYSTEM_STOP\"}"),
            ])
    }

    @Test("several data lines make one value joined with LF; a comment between them changes nothing")
    func multiLineData() {
        let events = Self.parse("data: first\n: a comment\ndata:second\ndata:  third\ndata\n\n", pieces: 5)
        #expect(events == [ServerSentEvent(data: "first\nsecond\n third\n")])
    }

    @Test(
        "CRLF, CR and LF all end lines, and a CRLF split between two reads is one line end",
        arguments: ["\r\n", "\r", "\n"])
    func lineEnds(end: String) {
        let stream = ["event: A", "data: 1", "data: 2", "", ": keep-alive", "", "data: 3", "", ""]
            .joined(separator: end)
        let expected = [ServerSentEvent(type: "A", data: "1\n2"), ServerSentEvent(data: "3")]
        for size in [1, 2, 3, 9, stream.utf8.count] {
            #expect(Self.parse(stream, pieces: size) == expected, "pieces of \(size)")
        }
        // The CR at the end of one read and the LF at the start of the next: not a blank line in between.
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("data: a\r".utf8)).isEmpty)
        #expect(parser.feed(Array("\ndata: b\r".utf8)).isEmpty)
        #expect(parser.feed(Array("\n\r\n".utf8)) == [ServerSentEvent(data: "a\nb")])
    }

    @Test("comments and blank lines alone dispatch nothing; an unterminated event is held back")
    func nothingToDispatch() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array(": keep-alive\n\n\n\n:\n\nevent: X\n\n".utf8)).isEmpty)
        #expect(parser.feed(Array("data: half".utf8)).isEmpty)
        #expect(parser.feed(Array("\n".utf8)).isEmpty)
        // The earlier `event: X` was discarded with its empty event; this one has no name.
        #expect(parser.feed(Array("\n".utf8)) == [ServerSentEvent(data: "half")])
    }

    @Test("id is kept across events, an id with NUL is ignored, retry takes digits only, a BOM is skipped")
    func fields() {
        var parser = ServerSentEventParser()
        let events = parser.feed(
            Array("\u{FEFF}id: 7\nretry: 2500\ndata: a\n\nretry: 12x\ndata: b\n\nid: 8\u{0}9\ndata: c\n\n".utf8))
        #expect(
            events == [
                ServerSentEvent(data: "a", lastEventID: "7"), ServerSentEvent(data: "b", lastEventID: "7"),
                ServerSentEvent(data: "c", lastEventID: "7"),
            ])
        #expect(parser.retryMs == 2500)
        #expect(parser.lastEventID == "7")
    }
}
