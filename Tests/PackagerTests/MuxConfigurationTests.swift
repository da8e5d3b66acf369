import Config
import MPEGTS
import MediaTime
import Packager
import Testing

/// What the mux stage makes of the config: the programme's PIDs, codecs, tables, rate mode and
/// presentation delay.
@Suite("Mux stage configuration")
struct MuxConfigurationTests {
    @Test(
        "the programme section maps to PIDs, service names, table intervals and codecs",
        arguments: ["aac", "mp2", "s302m"])
    func programme(audio: String) throws {
        let config = try RillConfig.decode(
            """
            { "encoders": { "audio": { "codec": "\(audio)" } },
              "program": { "serviceName": "Studio 4", "providerName": "Rill Tests", "videoPID": 480, "audioPID": 481,
                           "pmtPID": 4000, "programNumber": 7, "transportStreamId": 99, "pcrInterval": 30, "psiInterval": 100 },
              "outputs": [ { "id": "o", "url": "udp://127.0.0.1:5000" } ] }
            """)
        let m = MuxStage.muxConfiguration(config)
        #expect(m.streams.map(\.pid) == [480, 481])
        #expect(m.streams.map(\.codec) == [.h264, TSCodec(rawValue: audio)!])
        #expect(m.pcrPID == 480, "the PCR rides on the video PID")
        #expect(m.pmtPID == 4000 && m.programNumber == 7 && m.transportStreamID == 99)
        #expect(m.serviceName == "Studio 4" && m.providerName == "Rill Tests")
        #expect(m.pcrInterval == 30 * MediaTime.millisecond && m.psiInterval == 100 * MediaTime.millisecond)
        #expect(m.mode == .vbr && m.delay == 150 * MediaTime.millisecond, "VBR: the 150 ms presentation delay alone")
    }

    @Test("CBR: the muxrate, and the presentation delay grows by the VBV buffer's duration")
    func cbr() throws {
        let config = try RillConfig.decode(
            """
            { "encoders": { "video": { "bitrate": 4000000, "bufsize": 2000000 } },
              "program": { "mode": "cbr", "muxrate": 6000000 },
              "outputs": [ { "id": "o", "url": "udp://127.0.0.1:5000" } ] }
            """)
        let m = MuxStage.muxConfiguration(config)
        #expect(m.mode == .cbr(muxrate: 6_000_000))
        // 2 Mbit of VBV at 4 Mb/s is 500 ms, on top of 150 ms.
        #expect(m.delay == 650 * MediaTime.millisecond, "\(m.delay)")
    }

    @Test("an explicit program.delay wins")
    func explicitDelay() throws {
        let config = try RillConfig.decode(
            #"{ "program": { "delay": 80 }, "outputs": [ { "id": "o", "url": "udp://127.0.0.1:5000" } ] }"#)
        #expect(MuxStage.muxConfiguration(config).delay == 80 * MediaTime.millisecond)
    }
}
