import RTP
import Testing

@Suite("RTP and SDP")
struct RTPTests {
    @Test("RTP header round-trip")
    func header() throws {
        var bytes = [UInt8](repeating: 0, count: 12 + 188)
        let h = RTPHeader(marker: true, sequenceNumber: 65535, timestamp: 0xDEAD_BEEF, ssrc: 42)
        bytes.withUnsafeMutableBytes { h.write(into: $0) }
        let (p, range) = try bytes.withUnsafeBytes { try RTPHeader.parse($0) }
        #expect(
            p.marker && p.payloadType == 33 && p.sequenceNumber == 65535 && p.timestamp == 0xDEAD_BEEF && p.ssrc == 42)
        #expect(range == 12..<200)
    }

    @Test(
        "malformed RTP is rejected with a reason",
        arguments: [
            ([UInt8](repeating: 0x80, count: 5), RTPError.tooShort(5)),
            ([0x40] + [UInt8](repeating: 0, count: 15), RTPError.badVersion(1)),
            ([0x8F] + [UInt8](repeating: 0, count: 15), RTPError.headerOverrun(needed: 72, have: 16)),
            ([0xA0] + [UInt8](repeating: 0, count: 14) + [200], RTPError.badPadding),
        ])
    func malformed(bytes: [UInt8], error: RTPError) {
        #expect(throws: error) { try bytes.withUnsafeBytes { _ = try RTPHeader.parse($0) } }
    }

    @Test("SDP written for VLC/FFmpeg/GStreamer parses back")
    func sdpRoundTrip() throws {
        var d = SessionDescription(
            originAddress: "192.0.2.10", name: "Studio 1\r\na=injected", connectionAddress: "239.1.1.1", ttl: 4,
            port: 5000,
            sourceFilter: "192.0.2.10")
        d.information = "Rill"
        let text = d.text
        #expect(!text.contains("\r\na=injected"))
        #expect(text.hasPrefix("v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=Studio 1a=injected\r\n"))
        #expect(text.contains("a=source-filter: incl IN IP4 239.1.1.1 192.0.2.10\r\n"))
        #expect(text.contains("m=video 5000 RTP/AVP 33\r\na=rtpmap:33 MP2T/90000\r\n"))
        let back = try SessionDescription.parse(text)
        #expect(
            back.connectionAddress == "239.1.1.1" && back.ttl == 4 && back.port == 5000
                && back.sourceFilter == "192.0.2.10")
    }

    @Test(
        "malformed SDP names the line",
        arguments: [
            ("v=1\n", 1, "version"),
            ("v=0\no=x\n", 2, "o="),
            ("v=0\ns=x\nc=IN IP6 ::1\nm=video 5000 RTP/AVP 33\n", 3, "IP4"),
            ("v=0\ns=x\nc=IN IP4 239.1.1.1\nm=video 5000 RTP/AVP 33\n", 4, ""),
            ("v=0\ns=x\nm=video 5000 RTP/AVP 33\n", 3, "no c="),
            ("v=0\nc=IN IP4 239.1.1.1\nm=video x RTP/AVP 33\n", 3, "port"),
            ("v=0\nc=IN IP4 239.1.1.1\nm=video 5000 TCP 33\n", 3, "transport"),
            ("v=0\nc=IN IP4 239.1.1.1\nzz\n", 3, "<type>=<value>"),
        ])
    func badSDP(text: String, line: Int, reason: String) {
        do {
            let d = try SessionDescription.parse(text)
            #expect(reason.isEmpty, "accepted: \(d)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.reason.contains(reason), "\(error)")
        }
    }
}
