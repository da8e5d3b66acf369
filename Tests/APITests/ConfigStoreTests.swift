import Box
import Config
import Events
import Foundation
import RillTestSupport
import Testing
import Transport

@Suite("Split config and events")
struct ConfigStoreTests {
    @Test("a section in two files, an unknown section and a syntax error name the file")
    func layoutErrors() throws {
        let dir = makeTemporaryDirectory("store")
        try FileManager.default.createDirectory(atPath: "\(dir)/conf.d", withIntermediateDirectories: true)
        try #"{ "program": { "mode": "vbr" } }"#.write(toFile: "\(dir)/rill.json", atomically: true, encoding: .utf8)
        try #"{ "program": { "mode": "vbr" } }"#.write(
            toFile: "\(dir)/conf.d/10-p.json", atomically: true, encoding: .utf8)
        /// The error loading the layout gives (nil: it loaded).
        func loadError() -> String? {
            do {
                _ = try ConfigStore(mainFile: "\(dir)/rill.json", directory: "\(dir)/conf.d")
                return nil
            } catch {
                return "\(error)"
            }
        }
        let twice = try #require(loadError(), "a section in two files was accepted")
        #expect(twice.contains("10-p.json") && twice.contains("rill.json"))
        try #"{ "programme": {} }"#.write(toFile: "\(dir)/conf.d/10-p.json", atomically: true, encoding: .utf8)
        #expect(try #require(loadError(), "unknown section accepted").contains("10-p.json: programme: unknown section"))
        try "{ \"outputs\": [ }".write(toFile: "\(dir)/conf.d/10-p.json", atomically: true, encoding: .utf8)
        #expect(try #require(loadError(), "syntax error accepted").contains("10-p.json: JSON syntax error at line 1"))
        // Temp files of an interrupted save are not config.
        try "{ \"outputs\": [] }".write(toFile: "\(dir)/conf.d/10-p.json", atomically: true, encoding: .utf8)
        try "{ broken".write(toFile: "\(dir)/conf.d/10-p.json.tmp.123", atomically: true, encoding: .utf8)
        #expect(try ConfigStore(mainFile: "\(dir)/rill.json", directory: "\(dir)/conf.d").config.outputs.isEmpty)
    }

    @Test("merge patch follows RFC 7396")
    func mergePatch() throws {
        let doc = try JSONParser.parse(#"{"a": {"b": 1, "c": [1, 2]}, "d": "x"}"#)
        let patch = try JSONParser.parse(#"{"a": {"b": null, "c": [3], "e": {"f": true}}, "d": null}"#)
        #expect(doc.merged(with: patch) == (try JSONParser.parse(#"{"a": {"c": [3], "e": {"f": true}}}"#)))
    }

    @Test("event payloads: one line per value; newlines and control characters cannot add lines")
    func payloadEscaping() throws {
        let e = Event(
            .outputConnect, output: "srt", values: ["srt", "10.0.0.1:5000", "evil\nOUTPUT_END\r;rm -rf / %0A"])
        let lines = e.payload.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 4 && lines[3] == "")
        #expect(lines[2] == "evil%0AOUTPUT_END%0D;rm -rf / %250A")
        #expect(Event.unescape(lines[2]) == "evil\nOUTPUT_END\r;rm -rf / %0A")
        let back = Event.parse(datagram: e.datagram)
        #expect(back?.values == e.values && back?.output == "srt" && back?.kind == .outputConnect)
        #expect(Event.parse(datagram: Array("OUTPUT_START\n\nonly-one\n".utf8)) == nil)
        #expect(Event.parse(datagram: Array("NOT_AN_EVENT\n\na\nb\n".utf8)) == nil)
    }

    @Test("SRT_ACCEPT answers: accept, accept NAME, reject, a bare word renames")
    func acceptAnswers() {
        #expect(AcceptDecision.parse("accept") == .accept(name: nil))
        #expect(AcceptDecision.parse("accept studio-a") == .accept(name: "studio-a"))
        #expect(AcceptDecision.parse("reject bad token") == .reject(reason: "bad token"))
        #expect(AcceptDecision.parse("") == .reject(reason: "empty answer"))
        #expect(AcceptDecision.parse("live/cam1") == .accept(name: "live/cam1"))
    }

    @Test("an executable handler gets argv without a shell and the payload on stdin; a slow one is killed")
    func executableHandler() throws {
        let dir = makeTemporaryDirectory("handler")
        let script = "\(dir)/h.sh"
        try "#!/bin/sh\necho \"$1|$2\" > \(dir)/argv\ncat > \(dir)/stdin\necho accept named\n".write(
            toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        var h = EventHandlerSection(on: [.srtAccept], handler: script)
        h.arguments = ["$(touch \(dir)/pwned)"]
        let o = HandlerRunner.run(h, Event(.srtAccept, output: "o", values: ["o", "1.2.3.4:5", "tok"]))
        #expect(o.answer == "accept named")
        #expect(try String(contentsOfFile: "\(dir)/argv", encoding: .utf8) == "SRT_ACCEPT|$(touch \(dir)/pwned)\n")
        #expect(try String(contentsOfFile: "\(dir)/stdin", encoding: .utf8) == "o\n1.2.3.4:5\ntok\n")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/pwned"))
        try "#!/bin/sh\nsleep 5\n".write(toFile: script, atomically: true, encoding: .utf8)
        h.timeout = 200
        let start = Date()
        let slow = HandlerRunner.run(h, Event(.srtAccept, output: "o", values: ["o", "p", "s"]))
        #expect(slow.answer == nil && Date().timeIntervalSince(start) < 2)
    }
}
