import CAVCodec
import CX264
import Logging
import Testing

@testable import Encode

@Suite("Codec libraries' log lines keep their priority in the journal")
struct CodecLoggingTests {
    @Test("av_log levels map to swift-log levels (log.h: PANIC 0 … TRACE 56), colour bits ignored")
    func libavLevels() {
        let expected: [(Int32, Logger.Level)] = [
            (AV_LOG_PANIC, .critical), (AV_LOG_FATAL, .critical), (AV_LOG_ERROR, .error),
            (AV_LOG_WARNING, .warning), (AV_LOG_INFO, .info), (AV_LOG_VERBOSE, .debug), (AV_LOG_DEBUG, .debug),
            (AV_LOG_TRACE, .trace), (AV_LOG_WARNING | (3 << 8), .warning),
        ]
        for (raw, level) in expected { #expect(CodecLogging.level(libav: raw) == level, "\(raw)") }
    }

    @Test("x264 levels map both ways, so x264 formats only the lines the journal keeps")
    func x264Levels() {
        #expect(CodecLogging.level(x264: X264_LOG_ERROR) == .error)
        #expect(CodecLogging.level(x264: X264_LOG_WARNING) == .warning)
        #expect(CodecLogging.level(x264: X264_LOG_INFO) == .info)
        #expect(CodecLogging.level(x264: X264_LOG_DEBUG) == .debug)
        for level in Logger.Level.allCases {
            // Whatever x264 is told to print maps back to a level the process keeps.
            #expect(CodecLogging.level(x264: CodecLogging.x264Level(for: level)) >= min(level, .error), "\(level)")
        }
        #expect(CodecLogging.x264Level(for: .info) == X264_LOG_INFO)
        #expect(CodecLogging.x264Level(for: .warning) == X264_LOG_WARNING)
        #expect(CodecLogging.avLevel(for: .info) == AV_LOG_INFO)
        #expect(CodecLogging.avLevel(for: .error) == AV_LOG_ERROR)
    }
}
