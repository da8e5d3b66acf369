import Config
import Testing

let minimal = """
    { "outputs": [ { "id": "mc", "url": "rtp://239.255.42.1:5000?ttl=4", "sdp": "/run/rill/mc.sdp" } ] }
    """

@Suite("Config decoding and validation")
struct ConfigTests {
    @Test("the issue's example config decodes")
    func example() throws {
        let c = try RillConfig.decode(
            """
            { "source":   { "type": "testsrc", "video": { "width": 1280, "height": 720, "fps": 50 },
                            "audio": { "sampleRate": 48000, "channels": 2 } },
              "encoders": { "video": { "codec": "h264", "bitrate": 4000000, "keyint": 50 },
                            "audio": { "codec": "aac", "bitrate": 128000 } },
              "program":  { "serviceName": "Studio 1", "mode": "cbr", "muxrate": 6000000 },
              "outputs":  [ { "id": "mc", "url": "rtp://239.255.42.1:5000?ttl=4", "sdp": "/run/rill/mc.sdp" } ] }
            """)
        #expect(c.source.width == 1280 && c.source.fps.numerator == 50)
        #expect(c.program.muxrate == 6_000_000)
        #expect(c.outputs.first?.url.option("ttl") == "4")
        #expect(c.outputs.first?.url.port == 5000)
    }

    @Test(
        "bad configs name the field",
        arguments: [
            (#"{ "source": { "video": { "colour": 1 } } }"#, "source.video.colour", "unknown key"),
            (#"{ "sauce": {} }"#, "sauce", "unknown key"),
            (#"{ "api": { "tls": { "certificate": "cert.pem", "key": "/k" } } }"#, "api.tls.certificate", "absolute"),
            (#"{ "api": { "tls": { "certificate": "/c" } } }"#, "api.tls.key", "required"),
            (#"{ "source": { "video": { "signal": "gone" } } }"#, "source.video.signal", "present"),
            (
                #"{ "source": { "type": "capture", "video": { "device": "/dev/video0", "signal": "lost" } } }"#,
                "source.video.signal", "unknown key"
            ),
            (#"{ "api": { "tls": { "certificate": "/c", "key": "/k", "ca": "/a" } } }"#, "api.tls.ca", "unknown key"),
            (#"{ "outputs": [ { "id": "a", "url": "rtp//1.2.3.4:5" } ] }"#, "outputs[0].url", "not a URL"),
            (#"{ "outputs": [ { "id": "a", "url": "rtp://1.2.3.4:99999" } ] }"#, "outputs[0].url", "port"),
            (
                #"{ "outputs": [ { "id": "a", "url": "rtp://1.2.3.4:5000?tll=4" } ] }"#, "outputs[0].url",
                "unknown option \"tll\""
            ),
            (#"{ "outputs": [ { "id": "a", "url": "http://1.2.3.4:5000" } ] }"#, "outputs[0].url", "scheme"),
            (
                #"{ "outputs": [ { "id": "a", "url": "rtp://1.2.3.4:5000" }, { "id": "a", "url": "rtp://1.2.3.4:5002" } ] }"#,
                "outputs[1].id", "duplicate"
            ),
            (#"{ "program": { "mode": "cbr", "muxrate": 1000000 } }"#, "program.muxrate", "below"),
            (#"{ "program": { "mode": "cbr" } }"#, "program.muxrate", "required"),
            (#"{ "program": { "pcrInterval": 100 } }"#, "program.pcrInterval", "outside"),
            (#"{ "source": { "video": { "width": 641 } } }"#, "source.video.width", "even"),
            (#"{ "source": { "video": { "fps": "abc" } } }"#, "source.video.fps", "ratio"),
            (#"{ "encoders": { "video": { "preset": "ludicrous" } } }"#, "encoders.video.preset", "not one of"),
            (#"{ "encoders": { "video": { "codec": "fwht" } } }"#, "encoders.video.codec", "backend \"v4l2m2m\""),
            (#"{ "encoders": { "video": { "codec": "hevc" } } }"#, "encoders.video.codec", "not one of"),
            (#"{ "monitoring": { "silenceLevel": -10 } }"#, "monitoring.silenceLevel", "outside"),
            (#"{ "monitoring": { "clipHoldSeconds": 0 } }"#, "monitoring.clipHoldSeconds", "outside"),
            (#"{ "monitoring": { "silence": 1 } }"#, "monitoring.silence", "unknown key"),
            (
                #"{ "encoders": { "audio": { "codec": "s302m", "bitsPerSample": 20 } } }"#,
                "encoders.audio.bitsPerSample", "16 or 24"
            ),
            (#"{ "program": { "videoPID": 16 } }"#, "program.videoPID", "outside"),
            (#"{ "program": { "audioPID": 4096 } }"#, "program.audioPID", "used twice"),
            (
                #"{ "outputs": [ { "id": "a", "url": "rtp://1.2.3.4:5000?fec=2022-1&cols=20&rows=10" } ] }"#,
                "outputs[0].url", "exceeds 100"
            ),
            (
                #"{ "outputs": [ { "id": "a", "url": "rtp://1.2.3.4:5000?fec=2022-1&cols=3&rows=4" } ] }"#,
                "outputs[0].url", "cols: L = 3"
            ),
            (
                #"{ "outputs": [ { "id": "a", "url": "rtp://1.2.3.4:5000?fec=prompeg&columns=8&rows=2" } ] }"#,
                "outputs[0].url", "rows: D = 2"
            ),
            (#"{ "outputs": [ { "id": "a", "url": "rtp://1.2.3.4:5000?rows=4" } ] }"#, "outputs[0].url", "without fec"),
            (#"{ "outputs": [ { "id": "a", "url": "rtp://1.2.3.4:5000?dup=nowhere" } ] }"#, "outputs[0].url", "2022-7"),
            (
                #"{ "outputs": [ { "id": "a", "url": "udp://1.2.3.4:5000?fec=2022-1" } ] }"#, "outputs[0].url",
                "unknown option \"fec\""
            ),
            (
                #"{ "outputs": [ { "id": "a", "url": "rist://1.2.3.4:5001?profile=simple" } ] }"#, "outputs[0].url",
                "odd"
            ),
            (
                #"{ "outputs": [ { "id": "a", "url": "rist://1.2.3.4:5000?profile=simple&secret=0123456789" } ] }"#,
                "outputs[0].url", "profile=main"
            ),
            (
                #"{ "outputs": [ { "id": "a", "url": "rist://1.2.3.4:5000?secret=short" } ] }"#, "outputs[0].url",
                "at least 10"
            ),
            (
                #"{ "outputs": [ { "id": "a", "url": "rist://1.2.3.4:5000?profile=advanced" } ] }"#, "outputs[0].url",
                "simple or main"
            ),
            (
                #"{ "outputs": [ { "id": "a", "url": "rist://1.2.3.4:5000?bufer=100" } ] }"#, "outputs[0].url",
                "unknown option \"bufer\""
            ),
            (#"{ "outputs": [ { "id": "a", "url": "file://rec/$datetime.ts" } ] }"#, "outputs[0].url", "absolute"),
            (
                #"{ "outputs": [ { "id": "a", "url": "file:///rec/fixed.ts?split=600" } ] }"#, "outputs[0].url",
                "$datetime"
            ),
            (
                #"{ "outputs": [ { "id": "a", "url": "file:///rec/$datetime.ts?split=5" } ] }"#, "outputs[0].url",
                "10…86400"
            ),
            (#"{ "source": { "type": "gateway", "url": "rtp://:5000?fec=2022-1&cols=30" } }"#, "source.url", "L = 30"),
            (#"{ "source": { "type": "gateway", "sdp": "relative.sdp" } }"#, "source.sdp", "absolute"),
        ])
    func badConfig(json: String, path: String, reason: String) {
        do {
            _ = try RillConfig.decode(json)
            Issue.record("accepted: \(json)")
        } catch let e as ConfigError {
            #expect(e.path == path, "\(e)")
            #expect(e.reason.contains(reason), "\(e)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test(
        "malformed JSON reports line and column",
        arguments: [
            ("{\n  \"a\": 1,\n}", 3, 1),
            ("{ \"a\": tru }", 1, 8),
            ("[1, 2", 1, 6),
        ])
    func malformed(json: String, line: Int, column: Int) {
        do {
            _ = try JSONParser.parse(json)
            Issue.record("accepted")
        } catch {
            #expect(error.line == line && error.column == column, "\(error)")
        }
    }

    @Test("URLs: options, percent-decoding, IPv6, listener form")
    func urls() throws {
        let u = try MediaURL.parse(
            "srt://host.example:8890?streamid=a%20b&latency=16000&packetfilter=fec,cols:4,rows:4", path: "x")
        #expect(u.scheme == "srt" && u.host == "host.example" && u.port == 8890)
        #expect(u.option("streamid") == "a b" && u.option("packetfilter") == "fec,cols:4,rows:4")
        #expect(try MediaURL.parse("srt://:9000", path: "x").host == "")
        #expect(try MediaURL.parse("udp://[::1]:5000", path: "x").host == "::1")
        #expect(try MediaURL.parse("rist://@:5000", path: "x").host == "")
    }

    @Test("RIST: listener and caller forms; librist gets the options as written, without profile")
    func rist() throws {
        let l = try RISTSettings.parse("rist://@:8000?profile=simple&buffer=500", path: "x")
        #expect(l.listener && l.profile == .simple && l.bufferMs == 500)
        #expect(l.libristURL == "rist://@0.0.0.0:8000?buffer=500")
        let c = try RISTSettings.parse("rist://10.1.2.3:8001?secret=a%26b-0123456789&aes-type=256", path: "x")
        #expect(!c.listener && c.profile == .main)
        #expect(c.libristURL == "rist://10.1.2.3:8001?secret=a%26b-0123456789&aes-type=256")
    }

    @Test("recording: path template, rotation options")
    func recording() throws {
        let c = try RillConfig.decode(
            #"{ "outputs": [ { "id": "r", "url": "file:///var/rec/$service-$datetime.ts?split=600&maxsize=2000" } ] }"#)
        #expect(c.outputs[0].recordPath == "/var/rec/$service-$datetime.ts")
        #expect(c.outputs[0].url.option("split") == "600" && c.outputs[0].url.option("maxsize") == "2000")
    }

    @Test("requiredMuxrate grows with the streams")
    func muxrate() throws {
        let c = try RillConfig.decode(minimal)
        #expect(c.requiredMuxrate > c.encoders.video.effectiveMaxrate + c.audioBitrate)
        #expect(c.requiredMuxrate < (c.encoders.video.effectiveMaxrate + c.audioBitrate) * 12 / 10)
    }

    @Test("JSON serialisation round-trips")
    func roundTrip() throws {
        let j = try JSONParser.parse(#"{"a":[1,2.5,"x\n\"y"],"b":{"c":null,"d":true}}"#)
        #expect(try JSONParser.parse(j.serialized) == j)
    }
}

@Suite("Fuzz regressions")
struct FuzzRegressions {
    @Test("a number that overflows to infinity is a syntax error, not a value")
    func infiniteNumber() {
        #expect(throws: JSONError.self) { try JSONParser.parse(#"{ "muxrate": 748e792 }"#) }
    }
}

@Suite("SRT URLs")
struct SRTURLTests {
    func settings(_ url: String) throws -> SRTSettings {
        try SRTSettings.parse(try MediaURL.parse(url, path: "u"), path: "u")
    }

    @Test("mode rules: host ⇒ caller, none ⇒ listener, mode= overrides")
    func modes() throws {
        #expect(try settings("srt://host:9000").mode == .caller)
        #expect(try settings("srt://:9000").mode == .listener)
        #expect(try settings("srt://10.0.0.1:9000?mode=listener").mode == .listener)
        #expect(try settings("srt://h:9000?mode=rendezvous").mode == .rendezvous)
        let seed = try settings("srt://host:8890?streamid=streamname&latency=16000&packetfilter=fec,cols:4,rows:4")
        #expect(seed.option("streamid") == "streamname" && seed.option("latency") == "16000")
        #expect(seed.option("packetfilter") == "fec,cols:4,rows:4")
    }

    @Test(
        "bad SRT options are errors naming the option",
        arguments: [
            ("srt://h:1?passphrase=short", "passphrase must be 10–79"),
            ("srt://h:1?pbkeylen=20", "pbkeylen=20 must be one of"),
            ("srt://h:1?latencyy=100", "unknown option \"latencyy\""),
            ("srt://h:1?mode=server", "mode \"server\""),
            ("srt://:1?mode=caller", "needs a host"),
            ("srt://h:1?payloadsize=1000", "multiple of 188"),
            ("srt://h:1?accept=a", "listeners only"),
        ])
    func bad(url: String, reason: String) {
        do {
            _ = try settings(url)
            Issue.record("accepted \(url)")
        } catch let e as ConfigError {
            #expect(e.reason.contains(reason), "\(e)")
        } catch {
            Issue.record("\(error)")
        }
    }
}
