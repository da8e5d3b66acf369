import CAVCodec
import CX264
import Logging
import Runtime

/// The codec libraries' own messages (libavcodec's `av_log`, x264's `pf_log`, formatted by the
/// C shims because Swift cannot take a `va_list` in a callback) go to the journal
/// through ``Log`` like every other line of the box, at the matching priority and only above the
/// process's ``LogLevel``, instead of being printed to stderr without a priority.
enum CodecLogging {
    static let libav = Log(stage: "libav")
    static let x264 = Log(stage: "x264")

    /// Installs the libavcodec callback (process-wide; idempotent) and sets libav's level so that
    /// lines the journal would drop are not even formatted.
    static func installLibAV() {
        av_log_set_level(avLevel(for: LogLevel.level))
        rill_av_log_install()
    }

    /// x264's level for the process's level (x264 tests it before formatting a line).
    static func x264Level(for level: Logger.Level) -> Int32 {
        switch level {
        case .trace, .debug: X264_LOG_DEBUG
        case .info: X264_LOG_INFO
        case .notice, .warning: X264_LOG_WARNING
        case .error, .critical: X264_LOG_ERROR
        }
    }

    /// The swift-log level of an x264 line's level (`X264_LOG_ERROR` 0 … `X264_LOG_DEBUG` 3).
    static func level(x264 level: Int32) -> Logger.Level {
        switch level {
        case ...X264_LOG_ERROR: .error
        case X264_LOG_WARNING: .warning
        case X264_LOG_INFO: .info
        default: .debug
        }
    }

    /// libavcodec's level for the process's level.
    static func avLevel(for level: Logger.Level) -> Int32 {
        switch level {
        case .trace: AV_LOG_TRACE
        case .debug: AV_LOG_DEBUG
        case .info: AV_LOG_INFO
        case .notice, .warning: AV_LOG_WARNING
        case .error: AV_LOG_ERROR
        case .critical: AV_LOG_FATAL
        }
    }

    /// The swift-log level of an `av_log` level (log.h: PANIC 0, FATAL 8, ERROR 16, WARNING 24,
    /// INFO 32, VERBOSE 40, DEBUG 48, TRACE 56; the bits above the low byte are colours).
    static func level(libav raw: Int32) -> Logger.Level {
        switch raw & 0xFF {
        case ...AV_LOG_FATAL: .critical
        case ...AV_LOG_ERROR: .error
        case ...AV_LOG_WARNING: .warning
        case ...AV_LOG_INFO: .info
        case ...AV_LOG_DEBUG: .debug
        default: .trace
        }
    }

    /// Writes one formatted line at `level`, without its line break; nothing below the process's level.
    static func emit(_ log: Log, _ level: Logger.Level, _ line: UnsafePointer<CChar>) {
        guard level >= LogLevel.level else { return }
        var text = String(cString: line)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        guard !text.isEmpty else { return }
        log.logger.log(level: level, "\(text)")
    }
}

/// Where the CAVCodec shim hands each formatted `av_log` line (at an `AV_LOG_*` level).
@_cdecl("rill_av_log_sink")
func libavLogSink(_ rawLevel: Int32, _ line: UnsafePointer<CChar>?) {
    guard let line else { return }
    CodecLogging.emit(CodecLogging.libav, CodecLogging.level(libav: rawLevel), line)
}

/// Where the CX264 shim hands each formatted x264 line (at an `X264_LOG_*` level).
@_cdecl("rill_x264_log_sink")
func x264LogSink(_ rawLevel: Int32, _ line: UnsafePointer<CChar>?) {
    guard let line else { return }
    CodecLogging.emit(CodecLogging.x264, CodecLogging.level(x264: rawLevel), line)
}
