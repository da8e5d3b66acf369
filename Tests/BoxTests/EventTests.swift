import Config
import Events
import Foundation
import RillTestSupport
import Runtime
import Testing

@testable import Box

/// Events: payloads, the stage → supervisor channel, the queue, handlers (README's event table).
@Suite("Events")
struct EventTests {
    /// A value of every kind a stage or the supervisor can put in a payload, including the hard ones.
    static func values(_ kind: EventKind) -> [String] {
        kind.fields.enumerated().map { i, field in i == 0 ? "line\nbreak %41 ü \(field)" : "\(kind.rawValue)-\(field)" }
    }

    @Test(
        "every event type: one payload line per documented field, across the event socket and into JSON",
        arguments: EventKind.allCases)
    func everyType(kind: EventKind) throws {
        let dir = makeTemporaryDirectory("ev-\(kind.rawValue)")
        let path = EventChannel.path(instanceDirectory: dir)
        let receiver = try EventChannel(receivingAt: path)
        let sender = EventChannel(sendingTo: path)
        let event = Event(
            kind, output: kind == .systemStart ? nil : "out-1", values: Self.values(kind),
            time: 1_700_000_000_123_000_000)
        #expect(event.payload.split(separator: "\n", omittingEmptySubsequences: false).count == kind.fields.count + 1)
        #expect(event.payload.hasPrefix("line%0Abreak %2541 ü "), "\(event.payload)")
        #expect(sender.send(event))
        var got = try #require(receiver.receive(timeoutMs: 2000), "\(kind.rawValue) did not cross the socket")
        got.time = event.time
        #expect(got == event)
        let json = event.json
        #expect(json["event"] == .string(kind.rawValue))
        #expect(json["time"] == .number(1_700_000_000.123))
        for (i, field) in kind.fields.enumerated() {
            #expect(json["payload"]?[field] == .string(event.values[i]), "\(field)")
        }
        // A datagram with one value too few is not an event.
        var short = event
        short.values.removeLast()
        #expect(Event.parse(datagram: short.datagram) == nil)
    }

    @Test("the queue holds 1024 events: posting 1030 while the worker is idle drops the 6 oldest and counts them")
    func dropOldest() {
        let events = EventDispatcher(handlers: [EventHandlerSection(on: [.inputSignal], handler: "/bin/true")])
        for i in 0..<1030 { events.post(Event(.inputSignal, values: ["lost", "\(i)"])) }
        // Events no handler wants are not queued.
        events.post(Event(.recordingEnd, output: "r", values: ["r", "/x.ts", "1", "2"]))
        let queued = events.queued
        #expect(queued.count == EventDispatcher.queueLimit && EventDispatcher.queueLimit == 1024)
        #expect(queued.first?.values[1] == "6" && queued.last?.values[1] == "1029")
        #expect(events.counters.dropped == 6)
    }

    @Test(
        "SRT_ACCEPT: a handler that overruns its timeout counts as its default answer", arguments: ["accept", "reject"])
    func acceptDefaultOnTimeout(defaultAnswer: String) throws {
        let dir = makeTemporaryDirectory("accept-timeout")
        let script = "\(dir)/slow.sh"
        try "#!/bin/sh\nsleep 5\necho reject never\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        var h = EventHandlerSection(on: [.srtAccept], handler: script)
        h.timeout = 300
        h.defaultAnswer = defaultAnswer
        let events = StageEvents(handlers: [h], instanceDirectory: dir, log: Log(stage: "test"))
        let start = Date()
        let d = events.decideAccept(output: "srt", peer: "10.0.0.1:4000", streamID: "token")
        let seconds = Date().timeIntervalSince(start)
        #expect(d == (defaultAnswer == "accept" ? .accept(name: nil) : .reject(reason: "handler failed")))
        #expect(seconds >= 0.28 && seconds < 1.5, "decided after \(seconds) s")
    }

    @Test(
        "HTTP handlers: POST with X-Rill-Event, X-Rill-Output and the payload; the first body line answers SRT_ACCEPT",
        .tags(.peer))
    func httpHandler() throws {
        let server = try PythonHTTPServer()
        defer { server.stop() }
        var accept = EventHandlerSection(on: [.srtAccept], handler: server.url("/ok"))
        accept.timeout = 2000
        let dir = makeTemporaryDirectory("http-handler")
        let stage = StageEvents(handlers: [accept], instanceDirectory: dir, log: Log(stage: "test"))
        #expect(
            stage.decideAccept(output: "srt", peer: "10.0.0.1:4000", streamID: "tok\nen") == .accept(name: "studio"))

        let events = EventDispatcher(handlers: [EventHandlerSection(on: [.outputEnd], handler: server.url("/ok"))])
        events.start(channel: nil)
        events.post(Event(.outputEnd, output: "srt", values: ["srt", "srt://:9000", "box stopping"]))
        #expect(waitFor(timeout: 10) { events.counters.delivered == 1 }, "\(events.counters)")
        events.drain(timeoutMs: 100)

        let requests = server.requests
        #expect(requests.count == 2)
        let expected = [
            ("SRT_ACCEPT", "srt\n10.0.0.1:4000\ntok%0Aen\n"), ("OUTPUT_END", "srt\nsrt://:9000\nbox stopping\n"),
        ]
        for (r, (kind, body)) in zip(requests, expected) {
            let headers = r["headers"] as? [String: String] ?? [:]
            #expect(r["method"] as? String == "POST" && r["path"] as? String == "/ok")
            #expect(headers["X-Rill-Event"] == kind, "\(headers)")
            #expect(headers["X-Rill-Output"] == "srt", "\(headers)")
            #expect(r["body"] as? String == body)
        }
    }

    @Test("an HTTP handler answering 500 counts as failed, naming the status", .tags(.peer))
    func httpFailure() throws {
        let server = try PythonHTTPServer()
        defer { server.stop() }
        let o = HandlerRunner.run(
            EventHandlerSection(on: [.outputEnd], handler: server.url("/fail")),
            Event(.outputEnd, output: "o", values: ["o", "u", "r"]))
        #expect(o.answer == nil && o.failure == "HTTP status 500")
    }
}
