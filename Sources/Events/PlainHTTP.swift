import Config
import MediaTime
import Runtime

#if canImport(Glibc)
import Glibc
#endif

/// A small blocking HTTP/1.1 client for plain `http://` on the local network: event handler URLs
/// and `rill ctl`. One request per connection (`Connection: close`), IPv4 or IPv6 (`[::1]`), a
/// deadline on every phase. The response is framed as RFC 9112 §6.3 says (no body for HEAD, 1xx,
/// 204 and 304; chunked when it is the final transfer coding; else Content-Length; else until the
/// server closes), and every framing fault is an error that says what was wrong: a body shorter
/// than its Content-Length, conflicting lengths, a bad chunk size or a chunk not followed by CRLF,
/// a connection closed inside a chunk. Callable from any thread, including libsrt's.
public enum PlainHTTP {
    /// A complete response.
    public struct Response: Sendable {
        /// The status code (100…999).
        public var status: Int
        /// Header fields in order, names as sent (obs-fold lines joined with a space).
        public var headers: [(String, String)]
        /// The body, de-chunked.
        public var body: [UInt8]
        /// The body as UTF-8 text.
        public var text: String { String(decoding: body, as: UTF8.self) }
        /// The first value of header `name` (case-insensitive).
        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    /// Why a request failed, in words that name the phase and the fault.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        /// The message.
        public var description: String
    }

    /// Longest response head (status line and fields), bytes.
    static let maxHead = 16 * 1024
    /// Largest response body read into memory, bytes.
    static let maxBody = 16 * 1024 * 1024

    /// Sends one request and reads the whole response within `timeoutMs` (connect, send, head and
    /// body together).
    public static func request(
        _ method: String, _ url: HTTPURL, headers: [(String, String)] = [], body: [UInt8] = [], timeoutMs: Int64
    ) throws(Failure) -> Response {
        let deadline = MonotonicClock.now() + timeoutMs * MediaTime.millisecond
        let fd = try connect(url, deadline: deadline, timeoutMs: timeoutMs)
        defer { close(fd) }
        var head = "\(method) \(url.target) HTTP/1.1\r\nHost: \(authority(url))\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        try sendAll(fd, Array(head.utf8) + body, deadline: deadline, timeoutMs: timeoutMs)
        var reader = Reader(fd: fd, deadline: deadline, timeoutMs: timeoutMs)
        let (status, fields) = try reader.finalHead()
        var out = Response(status: status, headers: fields, body: [])
        var body: [UInt8] = []
        try reader.body(try framing(method: method, status: status, headers: fields)) { piece throws(Failure) in
            guard body.count + piece.count <= maxBody else {
                throw Failure(description: "response body larger than \(maxBody) bytes")
            }
            body += piece
            return true
        }
        out.body = body
        return out
    }

    /// Sends a GET and hands each piece of the body to `onData` as it arrives (Server-Sent Events)
    /// until the body ends, the server closes, or `onData` returns false. The head must come within
    /// `connectTimeoutMs`; with `idleTimeoutMs`, a body silent that long is an error.
    public static func stream(
        _ url: HTTPURL, headers: [(String, String)], connectTimeoutMs: Int64, idleTimeoutMs: Int64? = nil,
        onHead: (Int) -> Void, onData: ([UInt8]) -> Bool
    ) throws(Failure) {
        let deadline = MonotonicClock.now() + connectTimeoutMs * MediaTime.millisecond
        let fd = try connect(url, deadline: deadline, timeoutMs: connectTimeoutMs)
        defer { close(fd) }
        var head =
            "GET \(url.target) HTTP/1.1\r\nHost: \(authority(url))\r\nConnection: close\r\nAccept: text/event-stream\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        try sendAll(fd, Array(head.utf8), deadline: deadline, timeoutMs: connectTimeoutMs)
        var reader = Reader(fd: fd, deadline: deadline, timeoutMs: connectTimeoutMs)
        let (status, fields) = try reader.finalHead()
        onHead(status)
        reader.deadline = .max
        reader.idleMs = idleTimeoutMs
        try reader.body(try framing(method: "GET", status: status, headers: fields)) { piece throws(Failure) in
            onData(piece)
        }
    }

    /// `host:port`, with an IPv6 literal in brackets (RFC 9110 §7.2, RFC 3986 §3.2.2).
    static func authority(_ url: HTTPURL) -> String {
        url.host.contains(":") ? "[\(url.host)]:\(url.port)" : "\(url.host):\(url.port)"
    }

    /// How the body of a response is delimited (RFC 9112 §6.3).
    enum Framing: Equatable {
        case none
        case length(Int64)
        case chunked
        case untilClose
    }

    static func framing(method: String, status: Int, headers: [(String, String)]) throws(Failure) -> Framing {
        if method == "HEAD" || (100..<200).contains(status) || status == 204 || status == 304 { return .none }
        let values = { (name: String) in
            headers.filter { $0.0.lowercased() == name }.flatMap {
                $0.1.split(separator: ",").map { $0.trimmingSpaces }
            }
        }
        let codings = values("transfer-encoding")
        if !codings.isEmpty {
            return codings.last?.lowercased() == "chunked" ? .chunked : .untilClose
        }
        let lengths = values("content-length")
        guard let first = lengths.first else { return .untilClose }
        guard first.utf8.allSatisfy({ (48...57).contains($0) }), let n = Int64(first) else {
            throw Failure(description: "response has an invalid Content-Length \"\(first.prefix(40))\"")
        }
        guard lengths.allSatisfy({ $0 == first }) else {
            throw Failure(
                description: "response has conflicting Content-Length values \(lengths.joined(separator: ", "))")
        }
        guard n <= Int64(maxBody) else {
            throw Failure(description: "response body of \(n) bytes is larger than \(maxBody)")
        }
        return .length(n)
    }

    /// Connects to the first of the host's addresses (IPv6 or IPv4) that answers before `deadline`.
    static func connect(_ url: HTTPURL, deadline: Int64, timeoutMs: Int64) throws(Failure) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>? = nil
        let rc = getaddrinfo(url.host, String(url.port), &hints, &res)
        guard rc == 0, res != nil else {
            throw Failure(description: "cannot resolve \(url.host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(res) }
        var addresses: [UnsafeMutablePointer<addrinfo>] = []
        var next = res
        while let ai = next {
            addresses.append(ai)
            next = ai.pointee.ai_next
        }
        var failures: [String] = []
        for (i, ai) in addresses.enumerated() {
            // Later addresses keep a share of the time.
            let share = (deadline - MonotonicClock.now()) / Int64(addresses.count - i)
            let until = MonotonicClock.now() + max(share, 0)
            let name = numeric(ai.pointee.ai_addr, ai.pointee.ai_addrlen, port: url.port)
            let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
            let fd = socket(ai.pointee.ai_family, flags, 0)
            guard fd >= 0 else {
                failures.append("\(name): socket: \(String(cString: strerror(errno)))")
                continue
            }
            if Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
                failures.append("\(name): \(String(cString: strerror(errno)))")
                close(fd)
                continue
            }
            guard wait(fd, POLLOUT, deadline: until) else {
                failures.append("\(name): no answer within \(timeoutMs) ms")
                close(fd)
                continue
            }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            guard err == 0 else {
                failures.append("\(name): \(String(cString: strerror(err)))")
                close(fd)
                continue
            }
            return fd
        }
        throw Failure(description: "cannot connect to \(authority(url)): \(failures.joined(separator: "; "))")
    }

    /// `1.2.3.4:80` or `[::1]:80`.
    static func numeric(_ address: UnsafeMutablePointer<sockaddr>?, _ length: socklen_t, port: UInt16) -> String {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard let address, getnameinfo(address, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0
        else {
            return "?:\(port)"
        }
        let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.contains(":") ? "[\(text)]:\(port)" : "\(text):\(port)"
    }

    /// Polls `fd` for `events` until `deadline` (monotonic ns, `.max` for ever); false on timeout.
    static func wait(_ fd: Int32, _ events: Int32, deadline: Int64) -> Bool {
        while true {
            let left =
                deadline == .max
                ? -1 : Int32(clamping: max(0, (deadline - MonotonicClock.now() + 999_999) / MediaTime.millisecond))
            var p = pollfd(fd: fd, events: Int16(events), revents: 0)
            let r = poll(&p, 1, left)
            if r > 0 { return true }
            if r == 0 || errno != EINTR { return false }
        }
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8], deadline: Int64, timeoutMs: Int64) throws(Failure) {
        var off = 0
        while off < bytes.count {
            guard wait(fd, POLLOUT, deadline: deadline) else {
                throw Failure(description: "request not sent within \(timeoutMs) ms (\(off) of \(bytes.count) bytes)")
            }
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw Failure(description: "sending the request: \(String(cString: strerror(errno)))")
            }
            off += n
        }
    }
}
