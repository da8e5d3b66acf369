import Config
import Runtime
import Testing
import Transport

/// `TransportStages`: the one place that picks a sender or input by the URL's scheme.
@Suite("Transport stage factory")
struct TransportStagesTests {
    /// A validated config with one output of every scheme and a gateway source of `source`.
    static func config(source: String = "srt://:9000") throws -> RillConfig {
        try RillConfig.decode(
            """
            { "system": { "instance": "factory", "runDirectory": "/run/rill-test" },
              "source": { "type": "gateway", "url": "\(source)" },
              "program": { "serviceName": "Factory", "videoPID": 256 },
              "outputs": [
                { "id": "mc", "url": "rtp://239.255.1.1:5000" }, { "id": "uni", "url": "udp://127.0.0.1:5010" },
                { "id": "srt", "url": "srt://:9001" }, { "id": "rist", "url": "rist://127.0.0.1:8000" },
                { "id": "rec", "url": "file:///tmp/rec-$datetime.ts" } ] }
            """)
    }

    @Test(
        "each output scheme gets its sender",
        arguments: [
            ("mc", "PacedSender"), ("uni", "PacedSender"), ("srt", "SRTOutput"), ("rist", "RISTOutput"),
            ("rec", "FileRecorder"),
        ])
    func senders(id: String, type: String) throws {
        let cfg = try Self.config()
        let output = try #require(cfg.outputs.first { $0.id == id })
        let stage = try TransportStages.sender(for: output, config: cfg, events: nil)
        #expect(String(describing: Swift.type(of: stage)) == type)
    }

    @Test(
        "each gateway input scheme gets its input, writing the statistics it is given",
        arguments: [
            ("srt://:9000", "SRTInput"), ("rist://@127.0.0.1:8000", "RISTInput"), ("rtp://:5000", "RTPInput"),
            ("udp://:5000", "RTPInput"),
        ])
    func inputs(url: String, type: String) throws {
        let cfg = try Self.config(source: url)
        let stats = StageStatistics(path: "/run/rill-test/factory/stats/recv.json")
        let stage = try TransportStages.input(config: cfg, statistics: stats, events: nil)
        #expect(String(describing: Swift.type(of: stage)) == type)
        // The stage writes the statistics it was given.
        let written =
            (stage as? SRTInput)?.statistics.path ?? (stage as? RISTInput)?.statistics.path
            ?? (stage as? RTPInput)?.statistics.path
        #expect(written == stats.path)
    }

    @Test("an output scheme without a sender is a ConfigError naming the output's url field")
    func unknownOutputScheme() throws {
        let cfg = try Self.config()
        let output = OutputSection(
            id: "web", url: MediaURL(scheme: "http", host: "127.0.0.1", port: 80), urlText: "http://127.0.0.1:80")
        #expect {
            _ = try TransportStages.sender(for: output, config: cfg, events: nil)
        } throws: { error in
            guard let e = error as? ConfigError else { return false }
            return e.path == "outputs[web].url" && e.reason.contains("\"http\"") && e.reason.contains("srt")
        }
    }

    @Test("a gateway source without a url, or with a scheme without an input, is a ConfigError naming source.url")
    func unknownInputScheme() throws {
        var cfg = try Self.config()
        cfg.source.url = MediaURL(scheme: "file", host: "", port: 0)
        var reasons: [String] = []
        for _ in 0..<2 {
            do {
                _ = try TransportStages.input(config: cfg, statistics: StageStatistics(path: nil), events: nil)
                Issue.record("no error for source.url \(String(describing: cfg.source.url))")
            } catch let e as ConfigError {
                #expect(e.path == "source.url")
                reasons.append(e.reason)
            }
            cfg.source.url = nil
        }
        #expect(reasons.count == 2)
        #expect(reasons.first?.contains("\"file\"") == true)
        #expect(reasons.last?.contains("needs a url") == true)
    }

    @Test("statistics go to <runDirectory>/<instance>/stats/<id>.json")
    func statisticsPath() throws {
        let cfg = try Self.config()
        #expect(
            TransportStages.statisticsPath(of: cfg.outputs[0], config: cfg) == "/run/rill-test/factory/stats/mc.json")
    }
}
