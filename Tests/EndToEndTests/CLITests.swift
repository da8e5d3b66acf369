import Foundation
import RillTestSupport
import Testing

/// The `rill` binary's behaviour on bad input: non-zero exit and a message naming the field.
@Suite("CLI")
struct CLITests {
    @Test(
        "rill run/check refuse a bad config, naming the field",
        arguments: [
            (#"{ "source": { "type": "testsrc", "video": { "widht": 1280 } } }"#, "source.video.widht: unknown key"),
            (#"{ "outputs": [ { "id": "mc", "url": "rtp://239.255.42.1" } ] }"#, "outputs[0].url: missing :port"),
            (#"{ "program": { "mode": "cbr", "muxrate": 3000000 }, "encoders": { "video": { "bitrate": 4000000 } } }"#, "program.muxrate: 3000000 b/s is below"),
            (#"{ "outputs": [ "#, "JSON syntax error at line 1"),
        ])
    func badConfig(json: String, message: String) throws {
        let dir = makeTemporaryDirectory("cli")
        let path = "\(dir)/bad.json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        for command in ["run", "check"] {
            let r = try runProcess([rillBinary(), command, "--config", path], timeout: 20)
            #expect(r.status == 2, "\(command): exit \(r.status)")
            #expect(r.stderr.contains(message), "\(command): \(r.stderr)")
        }
    }

    @Test("the embedded default config is valid and explains its destination")
    func defaultConfig() throws {
        let r = try runProcess([rillBinary(), "--help"], timeout: 20)
        #expect(r.status == 0 && r.stdout.contains("run"))
    }
}
