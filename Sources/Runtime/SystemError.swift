#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call: which call, on what, and errno.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    /// The call that failed, e.g. "shm_open".
    public var call: String
    /// What it was called on (a name, a device path).
    public var subject: String
    /// errno.
    public var errno: Int32

    /// Captures the current errno for `call` on `subject`.
    public init(_ call: String, _ subject: String, errno: Int32 = Glibc.errno) {
        self.call = call
        self.subject = subject
        self.errno = errno
    }

    /// `call(subject): strerror(errno)`, for the log.
    public var description: String { "\(call)(\(subject)): \(String(cString: strerror(errno)))" }
}
