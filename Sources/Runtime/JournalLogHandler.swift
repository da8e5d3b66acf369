import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A swift-log handler for processes run by systemd: one line per message on stdout with an
/// sd-daemon priority prefix (`<3>` error … `<7>` debug; sd-daemon(3)), which journald turns into
/// the entry's priority: `<priority>label: message key=value…`. One write(2) per line, so lines of
/// concurrent threads and processes never interleave. Its level is the process's ``LogLevel``
/// unless a logger sets its own.
public struct JournalLogHandler: LogHandler {
    /// The label printed after the prefix (a stage name, "api").
    public let label: String
    /// Metadata attached to every line of this handler's logger.
    public var metadata: Logger.Metadata = [:]
    private var ownLevel: Logger.Level?

    /// A handler for `label` at the process's level.
    public init(label: String) { self.label = label }

    /// Makes every `Logger` of the process (Hummingbird's, NIO's) write through this handler.
    /// Call once, first thing in `main`.
    public static func bootstrap() {
        LoggingSystem.bootstrap { JournalLogHandler(label: $0) }
    }

    /// This logger's level: its own if set, else the process's.
    public var logLevel: Logger.Level {
        get { ownLevel ?? LogLevel.level }
        set { ownLevel = newValue }
    }

    /// Metadata by key.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes one line.
    public func log(event: LogEvent) {
        guard event.level >= logLevel else { return }
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        var bytes = Array(
            Self.line(label: label, level: event.level, message: "\(event.message)", metadata: merged).utf8)
        bytes.withUnsafeMutableBytes { _ = Glibc.write(1, $0.baseAddress, $0.count) }
    }

    /// One journal line: `<priority>label: message key=value…\n`, metadata sorted by key, a message's
    /// own line breaks turned into spaces so that one call stays one journal entry.
    public static func line(label: String, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        var text = "<\(priority(level))>\(label): "
        text += message.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: " ")
        for key in metadata.keys.sorted() {
            text += " \(key)=\(metadata[key]!)"
        }
        return text + "\n"
    }

    /// The sd-daemon priority of a swift-log level (syslog's numbers: 2 critical … 7 debug).
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .critical: 2
        case .error: 3
        case .warning: 4
        case .notice: 5
        case .info: 6
        case .debug, .trace: 7
        }
    }
}
