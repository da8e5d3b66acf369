import CRillShims

#if canImport(Glibc)
import Glibc
#endif

/// Writes files so that a reader (or a power cut) sees the old content or the new, never a part:
/// temp file in the same directory, fsync, rename, fsync of the directory.
public enum AtomicFile {
    /// Replaces `path` with `contents`.
    public static func write(_ contents: String, to path: String, mode: mode_t = 0o644, durable: Bool = true) throws {
        let dir = directory(of: path)
        let tmp = "\(path).tmp.\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError("open", tmp) }
        var bytes = Array(contents.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = SystemError("write", tmp)
                close(fd)
                unlink(tmp)
                throw e
            }
            off += n
        }
        if durable, fsync(fd) != 0 {
            let e = SystemError("fsync", tmp)
            close(fd)
            unlink(tmp)
            throw e
        }
        close(fd)
        guard rename(tmp, path) == 0 else {
            let e = SystemError("rename", path)
            unlink(tmp)
            throw e
        }
        if durable {
            let d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if d >= 0 {
                fsync(d)
                close(d)
            }
        }
    }

    /// POSIX file-type bits of `st_mode` and the directory type (<sys/stat.h> S_IFMT, S_IFDIR).
    private static let fileTypeMask: mode_t = 0o170000
    private static let directoryType: mode_t = 0o040000

    /// Creates `path` and its parents (mode 0755), like `mkdir -p`. A relative path stays relative:
    /// it is resolved against `base` (a directory fd; the working directory by default), so
    /// `rill passwd --credentials conf/c.json` creates `./conf`, not `/conf`. A component that
    /// exists but is not a directory is an error (ENOTDIR) naming it.
    public static func makeDirectories(_ path: String, relativeTo base: Int32 = AT_FDCWD) throws {
        var current = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            if !current.isEmpty && !current.hasSuffix("/") { current += "/" }
            current += part
            if mkdirat(base, current, 0o755) == 0 { continue }
            let e = errno
            guard e == EEXIST else { throw SystemError("mkdir", current, errno: e) }
            var st = stat()
            guard fstatat(base, current, &st, 0) == 0 else { throw SystemError("stat", current) }
            guard st.st_mode & fileTypeMask == directoryType else {
                throw SystemError("mkdir", current, errno: ENOTDIR)
            }
        }
    }

    /// The directory part of `path`: "." for a bare file name, "/" for a file in the root.
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Reads a whole file as UTF-8.
    public static func read(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path) }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("read", path)
            }
            if n == 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
