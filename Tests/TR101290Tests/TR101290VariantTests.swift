import Foundation
import MPEGTS
import RillTestSupport
import Testing

/// The analyzer against an independent stream: FFmpeg's CBR TS (libx264 + AAC at 4 Mb/s) and the
/// variants Tests/tools/ts-impair.py makes of it, each breaking one TR 101 290 indicator.
@Suite("TR 101 290 variants", .serialized, .tags(.peer))
struct TR101290VariantTests {
    /// What the analyzer found in a file (file timing): clause → count, indicators with errors only.
    static func analyze(_ path: String) throws -> [String: Int64] {
        errors(try analyzer(path))
    }

    /// The analyzer after a whole file (file timing).
    static func analyzer(_ path: String) throws -> TR101290Analyzer {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var analyzer = TR101290Analyzer()
        data.withUnsafeBytes { analyzer.feed($0) }
        return analyzer
    }

    static func errors(_ analyzer: TR101290Analyzer) -> [String: Int64] {
        var found: [String: Int64] = [:]
        for i in TR101290Analyzer.Indicator.allCases where analyzer.status(i).count > 0 {
            found[i.clause] = analyzer.status(i).count
        }
        return found
    }

    /// A clean 8 s CBR stream from FFmpeg, and the variants with what each injected.
    static func makeVariants(_ dir: String) throws -> [String: [String: Int64]] {
        try makeSource("\(dir)/source.ts", muxrate: ["-muxrate", "4M"])
        let tool = "\(packageRoot())/Tests/tools/ts-impair.py"
        let impair = try runProcess(["python3", tool, "\(dir)/source.ts", "\(dir)/v"], timeout: 120)
        try #require(impair.status == 0, "ts-impair: \(impair.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(impair.stdout.utf8)) as? [String: [String: Int]]
        let report = try #require(json, "ts-impair printed \(impair.stdout)")
        return report.mapValues { $0.mapValues { Int64($0) } }
    }

    /// 8 s of FFmpeg's test pattern and tone, libx264 + AAC, CBR with `-muxrate` or VBR without.
    static func makeSource(_ path: String, muxrate: [String]) throws {
        let ffmpeg = try runProcess(
            [
                "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                "testsrc=size=640x360:rate=25",
                "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000", "-t", "8", "-c:v", "libx264", "-preset",
                "ultrafast", "-b:v", "1500k", "-maxrate", "1500k", "-bufsize", "1500k", "-g", "25", "-c:a", "aac",
                "-b:a",
                "128k", "-f", "mpegts",
            ] + muxrate + [path], timeout: 120)
        try #require(ffmpeg.status == 0, "ffmpeg: \(ffmpeg.stderr)")
    }

    @Test(
        "FFmpeg's clean CBR stream shows no error; every ts-impair variant shows exactly the indicators it broke, as many times as it broke them"
    )
    func variants() throws {
        let dir = makeTemporaryDirectory("tr101290")
        let injected = try Self.makeVariants(dir)
        #expect(injected.count >= 17, "\(injected.keys.sorted())")
        #expect(injected["clean"] == [:])
        // FFmpeg's -muxrate stream is CBR to the analyzer: 2.4 is measured (the 2.4 variant needs it).
        #expect(try Self.analyzer("\(dir)/v/clean.ts").pcrAccuracyApplicability == .cbr)
        for (name, expected) in injected.sorted(by: { $0.key < $1.key }) {
            let found = try Self.analyze("\(dir)/v/\(name).ts")
            #expect(found == expected, "\(name): injected \(expected), the analyzer found \(found)")
        }
    }

    /// What the analyzer finds when the file arrives as 7-packet datagrams at its 4 Mb/s, each late
    /// by up to `jitterNs` (a network input with arrival timing).
    static func analyzeAsNetwork(_ path: String, jitterNs: Int64) throws -> [String: Int64] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var analyzer = TR101290Analyzer()
        var rng = SystemRandomNumberGenerator()
        let datagram = 7 * 188
        let nsPerDatagram = Int64(datagram * 8) * 1_000_000_000 / 4_000_000
        var last: Int64 = 0
        data.withUnsafeBytes { bytes in
            for (n, offset) in stride(from: 0, to: bytes.count, by: datagram).enumerated() {
                let arrival = max(last, Int64(n) * nsPerDatagram + Int64.random(in: 0...jitterNs, using: &rng))
                last = arrival
                analyzer.feed(
                    UnsafeRawBufferPointer(rebasing: bytes[offset..<min(offset + datagram, bytes.count)]),
                    arrivalNs: arrival)
            }
        }
        return errors(analyzer)
    }

    @Test(
        "The same variants as datagrams with up to 5 ms of arrival jitter (arrival timing): the same indicators and counts"
    )
    func variantsWithArrivalTiming() throws {
        let dir = makeTemporaryDirectory("tr101290-arrival")
        let injected = try Self.makeVariants(dir)
        for (name, expected) in injected.sorted(by: { $0.key < $1.key }) {
            let found = try Self.analyzeAsNetwork("\(dir)/v/\(name).ts", jitterNs: 5_000_000)
            #expect(found == expected, "\(name): injected \(expected), the analyzer found \(found)")
        }
    }

    /// Continuity errors tshark's MP2T dissector reports (expert info "Detected N missing TS frames").
    static func tsharkMissingFrames(_ path: String) throws -> Int64 {
        let r = try runProcess(["tshark", "-r", path, "-q", "-z", "expert"], timeout: 120)
        var total: Int64 = 0
        for line in r.stdout.split(separator: "\n") where line.contains("missing TS frames") {
            let words = line.split(separator: " ")
            if let k = words.firstIndex(of: "Detected"), k + 1 < words.count, let n = Int64(words[k + 1]) { total += n }
        }
        return total
    }

    /// Packets with transport_error_indicator set, as tshark decodes them.
    static func tsharkTEIPackets(_ path: String) throws -> Int64 {
        let r = try runProcess(["tshark", "-r", path, "-Y", "mp2t.tei == 1", "-T", "fields", "-e", "frame.number"])
        return Int64(r.stdout.split(separator: "\n").count)
    }

    @Test(
        "Cross-check with tshark: the 1.4 and 2.1 counts match the lost packets and TEI packets its MP2T dissector finds"
    )
    func tsharkCrossCheck() throws {
        try #require(toolAvailable("tshark"))
        let dir = makeTemporaryDirectory("tr101290-tshark")
        let injected = try Self.makeVariants(dir)
        // The impairments happened, as an independent decoder sees them.
        let lost = try Self.tsharkMissingFrames("\(dir)/v/cc-drop.ts")
        let tei = try Self.tsharkTEIPackets("\(dir)/v/tei.ts")
        #expect(lost == injected["cc-drop"]?["1.4"] && lost > 0, "tshark: \(lost) missing")
        #expect(tei == injected["tei"]?["2.1"] && tei > 0, "tshark: \(tei) TEI packets")
        #expect(try Self.tsharkMissingFrames("\(dir)/v/clean.ts") == 0)
        #expect(try Self.tsharkTEIPackets("\(dir)/v/clean.ts") == 0)
        // The analyzer agrees with tshark.
        #expect(try Self.analyzer("\(dir)/v/cc-drop.ts").status(.continuityCountError).count == lost)
        #expect(try Self.analyzer("\(dir)/v/tei.ts").status(.transportError).count == tei)
    }

    @Test(
        "FFmpeg's VBR stream (no -muxrate): 2.4 not applicable; with -pcr_period 20 no priority 1 or 2 error, by default PCRs 80 ms apart (2.3.a) and nothing else"
    )
    func ffmpegVBR() throws {
        let dir = makeTemporaryDirectory("tr101290-vbr")
        try Self.makeSource("\(dir)/vbr.ts", muxrate: ["-pcr_period", "20"])
        let a = try Self.analyzer("\(dir)/vbr.ts")
        #expect(a.pcrAccuracyApplicability == .vbr)
        #expect(Self.errors(a).filter { $0.key.hasPrefix("1.") || $0.key.hasPrefix("2.") } == [:], "\(Self.errors(a))")
        // FFmpeg's default VBR PCR period at 25 fps is two frames (80 ms): over DVB's 40 ms.
        try Self.makeSource("\(dir)/default.ts", muxrate: [])
        let d = Self.errors(try Self.analyzer("\(dir)/default.ts")).filter {
            $0.key.hasPrefix("1.") || $0.key.hasPrefix("2.")
        }
        #expect(d.keys.sorted() == ["2.3.a"] && (d["2.3.a"] ?? 0) >= 50, "\(d)")
    }
}
