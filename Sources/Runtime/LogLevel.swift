import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The process's log level (`system.logLevel`), read by every ``JournalLogHandler`` at each line so
/// a changed config takes effect without new loggers. rilld passes it to the stages it starts in
/// ``environmentKey``.
public enum LogLevel {
    /// The environment variable a stage reads its level from (set by rilld).
    public static let environmentKey = "RILL_LOG_LEVEL"
    /// The level when nothing is configured.
    public static let defaultLevel = Logger.Level.info

    private static let levels = Logger.Level.allCases
    private static let current = Atomic<UInt8>(index(of: defaultLevel))

    /// The level now in force; lines below it are not written.
    public static var level: Logger.Level {
        get { levels[Int(current.load(ordering: .relaxed))] }
        set { current.store(index(of: newValue), ordering: .relaxed) }
    }

    /// Sets the level and exports it to child processes started from now on.
    public static func apply(_ newLevel: Logger.Level) {
        level = newLevel
        setenv(environmentKey, newLevel.rawValue, 1)
    }

    /// Applies a level by its swift-log name (`system.logLevel`); false for an unknown name.
    @discardableResult
    public static func apply(named name: String) -> Bool {
        guard let parsed = Logger.Level(rawValue: name) else { return false }
        apply(parsed)
        return true
    }

    /// Takes the level from ``environmentKey`` when it names one (a stage at start).
    public static func adoptEnvironment() {
        if let text = getenv(environmentKey), let parsed = Logger.Level(rawValue: String(cString: text)) {
            level = parsed
        }
    }

    // Logger.Level has 7 cases, so its index fits a UInt8.
    private static func index(of level: Logger.Level) -> UInt8 {
        UInt8(truncatingIfNeeded: levels.firstIndex(of: level) ?? 0)
    }
}
