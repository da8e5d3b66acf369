#if canImport(Glibc)
import Glibc
#endif

/// Stage logging to stdout with sd-daemon priority prefixes (`<3>` error … `<7>` debug), which
/// journald turns into priorities; one line per call, flushed at once.
public struct Log: Sendable {
    /// The stage name printed after the prefix.
    public let stage: String

    /// A logger whose lines read `<priority>stage: message`.
    public init(stage: String) { self.stage = stage }

    /// Writes `s` at priority 3 (error); any thread, one write(2) per line.
    public func error(_ s: @autoclosure () -> String) { write(3, s()) }
    /// Writes `s` at priority 4 (warning); any thread, one write(2) per line.
    public func warning(_ s: @autoclosure () -> String) { write(4, s()) }
    /// Writes `s` at priority 5 (notice); any thread, one write(2) per line.
    public func notice(_ s: @autoclosure () -> String) { write(5, s()) }
    /// Writes `s` at priority 6 (info); any thread, one write(2) per line.
    public func info(_ s: @autoclosure () -> String) { write(6, s()) }

    private func write(_ priority: Int, _ s: String) {
        // One write(2) per line so lines from concurrent threads and processes never interleave.
        var line = Array("<\(priority)>\(stage): \(s)\n".utf8)
        line.withUnsafeMutableBytes { _ = Glibc.write(1, $0.baseAddress, $0.count) }
    }
}
