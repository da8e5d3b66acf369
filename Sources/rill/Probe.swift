import ArgumentParser
import Config
import MPEGTS
import RTP
import Runtime
import Transport

/// `rill probe URL`: receives a TS (udp://, rtp://) for a while and prints a TR 101 290-style
/// summary as JSON: CC errors, PCR/PSI intervals, PCR accuracy, PCR vs arrival, streams.
struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Receive a TS over UDP/RTP and print a TR 101 290 summary as JSON.")

    @Argument(help: "udp://GROUP_OR_ADDR:PORT or rtp://…, optionally ?source=ADDR for SSM.")
    var url: String

    @Option(name: .long, help: "Seconds to receive.")
    var seconds: Double = 5

    func run() throws {
        let u = try MediaURL.parse(url, path: "url")
        let receiver = try UDPReceiver(
            host: u.host, port: u.port, source: u.option("source"), interface: u.option("iface"))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
        defer { buffer.deallocate() }
        var analyzer = TSAnalyzer()
        var rtpErrors = 0
        var lastSeq: UInt16? = nil
        var seqGaps = 0
        var datagrams = 0
        let end = MonotonicClock.now() + Int64(seconds * 1e9)
        while MonotonicClock.now() < end {
            let n = try receiver.receive(into: buffer, timeoutMs: 100)
            guard n > 0 else { continue }
            let arrival = MonotonicClock.now()
            datagrams += 1
            var payload = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            if u.scheme == "rtp" {
                do {
                    let (h, range) = try RTPHeader.parse(payload)
                    if let l = lastSeq, h.sequenceNumber != l &+ 1 { seqGaps += 1 }
                    lastSeq = h.sequenceNumber
                    payload = UnsafeRawBufferPointer(rebasing: payload[range])
                } catch {
                    rtpErrors += 1
                    continue
                }
            }
            analyzer.feed(payload, arrivalNs: arrival)
        }
        let dev = analyzer.pcrArrivalDeviations.map { abs($0) }.sorted()
        let p99 = dev.isEmpty ? 0 : dev[min(dev.count - 1, Int(Double(dev.count) * 0.99))]
        // Service name and registration come from the network: JSON.serialized escapes them
        // (quotes, backslashes, control characters; RFC 8259 §7).
        let streams = analyzer.streams.map { s -> JSON in
            var members: [(String, JSON)] = [
                ("pid", .number(Double(s.pid))), ("streamType", .number(Double(s.streamType))),
            ]
            if let r = s.registration { members.append(("registration", .string(r))) }
            return .object(members)
        }
        func n<T: BinaryInteger>(_ v: T) -> JSON { .number(Double(v)) }
        let summary: JSON = .object([
            ("datagrams", n(datagrams)), ("packets", n(analyzer.packets)), ("syncErrors", n(analyzer.syncErrors)),
            ("continuityErrors", n(analyzer.continuityErrors)), ("crcErrors", n(analyzer.crcErrors)),
            ("rtpErrors", n(rtpErrors)),
            ("rtpSequenceGaps", n(seqGaps)), ("pcrCount", n(analyzer.pcrs.count)),
            ("maxPCRIntervalNs", n(analyzer.maxPCRInterval)),
            ("maxPATIntervalNs", n(analyzer.maxInterval(ofPackets: analyzer.patPackets))),
            ("maxPMTIntervalNs", n(analyzer.maxInterval(ofPackets: analyzer.pmtPackets))),
            ("pcrAccuracyErrorNs", n(analyzer.pcrAccuracyError)), ("pcrBitrate", n(Int64(analyzer.pcrBitrate))),
            ("pcrArrivalDeviationP99Ns", n(p99)), ("nullPackets", n(analyzer.packetsByPID[PID.null] ?? 0)),
            ("serviceName", .string(analyzer.serviceName ?? "")),
            ("providerName", .string(analyzer.providerName ?? "")),
            ("streams", .array(streams)),
        ])
        print(summary.serialized)
    }
}
