#if canImport(Glibc)
import Glibc
#endif
import Config
import FrameRing
import MediaTime

/// A small blocking HTTP/1.1 client for plain `http://` on the local network: event handler URLs
/// and `rill ctl`. One request per connection (`Connection: close`), a deadline on the whole
/// exchange, Content-Length and chunked bodies. Callable from any thread, including libsrt's.
public enum PlainHTTP {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Sends one request and reads the whole response within `timeoutMs`.
    public static func request(
        _ method: String, _ url: HTTPURL, headers: [(String, String)] = [], body: [UInt8] = [], timeoutMs: Int64
    ) throws(Failure) -> Response {
        let deadline = MonotonicClock.now() + timeoutMs * MediaTime.millisecond
        let fd = try connect(url, deadline: deadline)
        defer { close(fd) }
        var head = "\(method) \(url.target) HTTP/1.1\r\nHost: \(url.host):\(url.port)\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        try sendAll(fd, Array(head.utf8) + body, deadline: deadline)
        var reader = Reader(fd: fd, deadline: deadline)
        let (status, hdrs) = try reader.head()
        var out = Response(status: status, headers: hdrs, body: [])
        var body: [UInt8] = []
        var tooLarge = false
        if let length = out.header("Content-Length").flatMap({ Int($0) }) {
            body = try reader.body(length: length)
        } else {
            try reader.body(chunked: out.header("Transfer-Encoding")?.lowercased() == "chunked") { piece in
                body += piece
                tooLarge = body.count > Reader.maxBody
                return !tooLarge
            }
        }
        if tooLarge { throw Failure(description: "response: body too large") }
        out.body = body
        return out
    }

    /// Sends one request and hands each piece of the body to `onData` as it arrives (Server-Sent
    /// Events), until the server closes or `onData` returns false.
    public static func stream(
        _ url: HTTPURL, headers: [(String, String)], connectTimeoutMs: Int64, onHead: (Int) -> Void, onData: ([UInt8]) -> Bool
    ) throws(Failure) {
        let fd = try connect(url, deadline: MonotonicClock.now() + connectTimeoutMs * MediaTime.millisecond)
        defer { close(fd) }
        var head = "GET \(url.target) HTTP/1.1\r\nHost: \(url.host):\(url.port)\r\nConnection: close\r\nAccept: text/event-stream\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        try sendAll(fd, Array(head.utf8), deadline: MonotonicClock.now() + connectTimeoutMs * MediaTime.millisecond)
        var reader = Reader(fd: fd, deadline: .max)
        let (status, hdrs) = try reader.head()
        onHead(status)
        let chunked = hdrs.contains { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased() == "chunked" }
        try reader.body(chunked: chunked, onData: onData)
    }

    static func connect(_ url: HTTPURL, deadline: Int64) throws(Failure) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>? = nil
        guard getaddrinfo(url.host, String(url.port), &hints, &res) == 0, let ai = res else {
            throw Failure(description: "cannot resolve \(url.host)")
        }
        defer { freeaddrinfo(res) }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        if Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
            let e = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "connect to \(url.host):\(url.port): \(e)")
        }
        guard wait(fd, POLLOUT, deadline: deadline) else {
            close(fd)
            throw Failure(description: "connect to \(url.host):\(url.port): timed out")
        }
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
        guard err == 0 else {
            close(fd)
            throw Failure(description: "connect to \(url.host):\(url.port): \(String(cString: strerror(err)))")
        }
        return fd
    }

    static func wait(_ fd: Int32, _ events: Int32, deadline: Int64) -> Bool {
        while true {
            let left = deadline == .max ? -1 : Int32(clamping: max(0, (deadline - MonotonicClock.now()) / MediaTime.millisecond))
            var p = pollfd(fd: fd, events: Int16(events), revents: 0)
            let r = poll(&p, 1, left)
            if r > 0 { return true }
            if r == 0 || errno != EINTR { return false }
        }
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8], deadline: Int64) throws(Failure) {
        var off = 0
        while off < bytes.count {
            guard wait(fd, POLLOUT, deadline: deadline) else { throw Failure(description: "send: timed out") }
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw Failure(description: "send: \(String(cString: strerror(errno)))")
            }
            off += n
        }
    }

    /// Buffered reading of one response.
    struct Reader {
        let fd: Int32
        let deadline: Int64
        var buf: [UInt8] = []
        var eof = false
        static let maxHead = 16 * 1024
        static let maxBody = 16 * 1024 * 1024

        mutating func fill() throws(Failure) {
            guard !eof else { return }
            guard PlainHTTP.wait(fd, POLLIN, deadline: deadline) else { throw Failure(description: "response: timed out") }
            var tmp = [UInt8](repeating: 0, count: 16384)
            let n = tmp.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { return }
                throw Failure(description: "receive: \(String(cString: strerror(errno)))")
            }
            if n == 0 { eof = true } else { buf += tmp[0..<n] }
        }

        mutating func line() throws(Failure) -> String {
            while true {
                if let i = buf.firstIndex(of: 10) {
                    var l = Array(buf[..<i])
                    buf.removeFirst(i + 1)
                    if l.last == 13 { l.removeLast() }
                    return String(decoding: l, as: UTF8.self)
                }
                if eof || buf.count > Self.maxHead { throw Failure(description: "response: malformed header") }
                try fill()
            }
        }

        mutating func head() throws(Failure) -> (Int, [(String, String)]) {
            let statusLine = try line()
            let parts = statusLine.split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
                throw Failure(description: "response: not HTTP (\(statusLine.prefix(40)))")
            }
            var headers: [(String, String)] = []
            while true {
                let l = try line()
                if l.isEmpty { break }
                guard let colon = l.firstIndex(of: ":") else { continue }
                headers.append((String(l[..<colon]), l[l.index(after: colon)...].trimmingSpaces))
            }
            return (status, headers)
        }

        /// A body of known length.
        mutating func body(length: Int) throws(Failure) -> [UInt8] {
            guard length <= Self.maxBody else { throw Failure(description: "response: body too large") }
            while buf.count < length && !eof { try fill() }
            return Array(buf.prefix(length))
        }

        /// A chunked body, or one that ends when the server closes, piece by piece.
        mutating func body(chunked: Bool, onData deliver: ([UInt8]) -> Bool) throws(Failure) {
            if chunked {
                while true {
                    let sizeLine = try line()
                    guard let size = Int(sizeLine.split(separator: ";").first.map(String.init)?.trimmingSpaces ?? "", radix: 16), size >= 0 else {
                        throw Failure(description: "response: bad chunk size")
                    }
                    if size == 0 { return }
                    while buf.count < size + 2 {
                        if eof { throw Failure(description: "response: truncated chunk") }
                        try fill()
                    }
                    let piece = Array(buf[..<size])
                    buf.removeFirst(size + 2)
                    guard deliver(piece) else { return }
                }
            }
            while true {
                if !buf.isEmpty {
                    let piece = buf
                    buf = []
                    guard deliver(piece) else { return }
                }
                if eof { return }
                try fill()
            }
        }
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return String(s)
    }
}
