import Config
import Logging
import Runtime
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Logging: journald priority lines through swift-log, the level from system.logLevel", .serialized)
struct LoggingTests {
    @Test("each swift-log level maps to its sd-daemon priority, critical 2 … debug and trace 7")
    func priorities() {
        let expected: [(Logger.Level, Int)] = [
            (.critical, 2), (.error, 3), (.warning, 4), (.notice, 5), (.info, 6), (.debug, 7), (.trace, 7),
        ]
        for (level, priority) in expected {
            #expect(JournalLogHandler.priority(level) == priority, "\(level)")
        }
    }

    @Test("a line reads <priority>label: message, metadata sorted by key, line breaks folded into one entry")
    func lineFormat() {
        let line = JournalLogHandler.line(
            label: "mux", level: .warning, message: "late PCR\nagain", metadata: ["z": "1", "a": "two"])
        #expect(line == "<4>mux: late PCR again a=two z=1\n")
        #expect(JournalLogHandler.line(label: "api", level: .info, message: "up", metadata: [:]) == "<6>api: up\n")
    }

    @Test("a handler follows the process level until its logger sets one of its own")
    func levelFollowsProcess() {
        let saved = LogLevel.level
        defer { LogLevel.level = saved }
        var handler = JournalLogHandler(label: "t")
        LogLevel.level = .warning
        #expect(handler.logLevel == .warning)
        LogLevel.level = .debug
        #expect(handler.logLevel == .debug)
        handler.logLevel = .error
        LogLevel.level = .trace
        #expect(handler.logLevel == .error)
    }

    @Test("LogLevel.apply(named:) takes swift-log's names, refuses others and exports the level to children")
    func applyByName() {
        let saved = LogLevel.level
        defer { LogLevel.apply(saved) }
        #expect(LogLevel.apply(named: "notice"))
        #expect(LogLevel.level == .notice)
        #expect(String(cString: getenv(LogLevel.environmentKey)) == "notice")
        #expect(!LogLevel.apply(named: "verbose"))
        #expect(LogLevel.level == .notice)
        // Every name the config accepts is one swift-log knows.
        for name in SystemSection.logLevels { #expect(Logger.Level(rawValue: name) != nil, "\(name)") }
    }

    @Test("a Log below the level never evaluates its message")
    func lazyBelowLevel() {
        let saved = LogLevel.level
        defer { LogLevel.level = saved }
        LogLevel.level = .error
        var evaluated = false
        func message() -> String {
            evaluated = true
            return "x"
        }
        Log(stage: "t").info(message())
        #expect(!evaluated)
    }

    @Test("system.logLevel: an unknown level is an error naming the field")
    func configField() throws {
        let good = try RillConfig.decode(#"{"system": {"logLevel": "debug"}}"#)
        #expect(good.system.logLevel == "debug")
        #expect(throws: ConfigError.self) { try RillConfig.decode(#"{"system": {"logLevel": "loud"}}"#) }
        do {
            _ = try RillConfig.decode(#"{"system": {"logLevel": "loud"}}"#)
        } catch {
            #expect("\(error)".contains("system.logLevel"))
        }
    }
}
