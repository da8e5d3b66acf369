import Config
import Events
import Foundation
import RillTestSupport
import Runtime
import Testing
import Transport

/// `StageEvents` as the transport stages' `TransportEventSink`: each report arrives at the
/// supervisor as the event of the README's table, with the payload the stages posted before the
/// sink existed.
@Suite("Transport event sink")
struct TransportEventSinkTests {
    /// A stage's sink and the supervisor's receiving channel on a fresh instance directory.
    static func pair(_ label: String) throws -> (any TransportEventSink, EventChannel) {
        let dir = makeTemporaryDirectory(label)
        let receiver = try EventChannel(receivingAt: EventChannel.path(instanceDirectory: dir))
        return (StageEvents(handlers: [], instanceDirectory: dir, log: Log(stage: "test")), receiver)
    }

    /// The next event on `channel` (the datagram carries no time: the supervisor stamps it).
    static func next(_ channel: EventChannel) throws -> Event {
        try #require(channel.receive(timeoutMs: 2000), "no event crossed the socket")
    }

    @Test("connect and disconnect: OUTPUT_CONNECT / OUTPUT_DISCONNECT with output, peer, stream id")
    func connections() throws {
        let (sink, channel) = try Self.pair("sink-conn")
        sink.outputConnected(output: "srt-out", peer: "10.0.0.7:4000", streamID: "#!::r=live/cam1,m=request")
        sink.outputDisconnected(output: "srt-out", peer: "10.0.0.7:4000", streamID: "")
        #expect(
            try Self.next(channel)
                == Event(
                    .outputConnect, output: "srt-out",
                    values: ["srt-out", "10.0.0.7:4000", "#!::r=live/cam1,m=request"]))
        #expect(
            try Self.next(channel)
                == Event(.outputDisconnect, output: "srt-out", values: ["srt-out", "10.0.0.7:4000", ""]))
    }

    @Test(
        "recording end: RECORDING_END with output, path, seconds at ms resolution, bytes",
        arguments: [(Int64(12_345), "12.345"), (3_000, "3.0"), (40, "0.04"), (0, "0.0"), (90_061_001, "90061.001")])
    func recordingEnd(durationMs: Int64, seconds: String) throws {
        let (sink, channel) = try Self.pair("sink-rec")
        sink.recordingEnded(
            output: "rec", path: "/var/lib/rill/rec/a b.ts", durationMs: durationMs, bytes: 5_000_000_000)
        #expect(
            try Self.next(channel)
                == Event(
                    .recordingEnd, output: "rec", values: ["rec", "/var/lib/rill/rec/a b.ts", seconds, "5000000000"]))
    }

    @Test("SRT_ACCEPT through the sink: asked only when a handler matches the output; a handler's answer decides")
    func accept() throws {
        let dir = makeTemporaryDirectory("sink-accept")
        let script = "\(dir)/accept.sh"
        try "#!/bin/sh\nread out; read peer; read sid\necho \"reject $sid from $peer\"\n".write(
            toFile: script, atomically: true, encoding: .utf8)
        #expect(chmod(script, 0o755) == 0)
        var h = EventHandlerSection(on: [.srtAccept], handler: script)
        h.outputs = ["srt"]
        let sink: any TransportEventSink = StageEvents(handlers: [h], instanceDirectory: dir, log: Log(stage: "test"))
        #expect(sink.hasAcceptHandler(output: "srt"))
        #expect(!sink.hasAcceptHandler(output: "other"))
        #expect(
            sink.decideAccept(output: "srt", peer: "10.0.0.1:4000", streamID: "tok")
                == .reject(reason: "tok from 10.0.0.1:4000"))
    }
}
