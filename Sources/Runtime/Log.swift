import Logging

/// A stage's logger: swift-log's `Logger` labelled with the stage name, always writing through
/// ``JournalLogHandler`` (whatever the process bootstrapped), at the process's ``LogLevel``.
/// The methods take autoclosures, so a line below the level costs one comparison.
public struct Log: Sendable {
    /// The stage name printed after the priority prefix.
    public let stage: String
    /// The swift-log logger underneath, for libraries that take one.
    public let logger: Logger

    /// A logger whose lines read `<priority>stage: message`.
    public init(stage: String) {
        self.stage = stage
        self.logger = Logger(label: stage) { JournalLogHandler(label: $0) }
    }

    /// Logs `s` at `.error` (journald priority 3).
    public func error(_ s: @autoclosure () -> String) { logger.error("\(s())") }
    /// Logs `s` at `.warning` (priority 4).
    public func warning(_ s: @autoclosure () -> String) { logger.warning("\(s())") }
    /// Logs `s` at `.notice` (priority 5).
    public func notice(_ s: @autoclosure () -> String) { logger.notice("\(s())") }
    /// Logs `s` at `.info` (priority 6).
    public func info(_ s: @autoclosure () -> String) { logger.info("\(s())") }
    /// Logs `s` at `.debug` (priority 7).
    public func debug(_ s: @autoclosure () -> String) { logger.debug("\(s())") }
}
