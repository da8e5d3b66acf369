import MediaTime
import Runtime

#if canImport(Glibc)
import Glibc
#endif

extension PlainHTTP {
    /// Buffered reading of one response from a non-blocking socket, every wait bounded by
    /// `deadline` (and, when set, by `idleMs` of silence).
    struct Reader {
        let fd: Int32
        /// Monotonic ns; `.max` for none.
        var deadline: Int64
        /// The budget `deadline` came from, for messages.
        let timeoutMs: Int64
        /// Longest silence allowed, ms (streams).
        var idleMs: Int64? = nil
        var buf: [UInt8] = []
        var eof = false
        /// What is being read, for messages ("response head", "chunk size line", …).
        var phase = "response head"
        /// Body bytes delivered so far, for messages.
        var bodyBytes: Int64 = 0

        init(fd: Int32, deadline: Int64, timeoutMs: Int64) {
            self.fd = fd
            self.deadline = deadline
            self.timeoutMs = timeoutMs
        }

        func fail(_ what: String) -> Failure { Failure(description: what) }

        /// Reads more bytes into `buf`, or sets `eof`.
        mutating func fill() throws(Failure) {
            guard !eof else { return }
            var until = deadline
            if let idleMs { until = min(until, MonotonicClock.now() + idleMs * MediaTime.millisecond) }
            guard PlainHTTP.wait(fd, POLLIN, deadline: until) else {
                if let idleMs, until < deadline {
                    throw fail("nothing received for \(idleMs) ms while reading the \(phase)")
                }
                throw fail(
                    "timed out after \(timeoutMs) ms while reading the \(phase) (\(bodyBytes) body bytes so far)")
            }
            var tmp = [UInt8](repeating: 0, count: 16384)
            let n = tmp.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { return }
                throw fail("receiving the \(phase): \(String(cString: strerror(errno)))")
            }
            if n == 0 { eof = true } else { buf += tmp[0..<n] }
        }

        /// One line without its CRLF (a bare LF is accepted as a line end, RFC 9112 §2.2).
        mutating func line(limit: Int) throws(Failure) -> String {
            var scanned = 0
            while true {
                if let i = buf[scanned...].firstIndex(of: 10) {
                    var l = Array(buf[..<i])
                    buf.removeFirst(i + 1)
                    if l.last == 13 { l.removeLast() }
                    return String(decoding: l, as: UTF8.self)
                }
                scanned = buf.count
                if buf.count > limit { throw fail("\(phase) longer than \(limit) bytes") }
                if eof { throw fail("connection closed in the \(phase)") }
                try fill()
            }
        }

        /// The status line and fields of one response (RFC 9112 §4, §5).
        mutating func head() throws(Failure) -> (Int, [(String, String)]) {
            phase = "response head"
            let statusLine = try line(limit: maxHead)
            let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2, parts[0] == "HTTP/1.1" || parts[0] == "HTTP/1.0", parts[1].count == 3,
                let status = Int(parts[1]), status >= 100
            else {
                throw fail("response is not HTTP/1.x: status line \"\(statusLine.prefix(60))\"")
            }
            var fields: [(String, String)] = []
            var size = statusLine.utf8.count
            while true {
                let l = try line(limit: maxHead - size)
                size += l.utf8.count + 2
                if l.isEmpty { break }
                if l.first == " " || l.first == "\t" {
                    // obs-fold: a user agent replaces it with a space (RFC 9112 §5.2).
                    guard let last = fields.popLast() else {
                        throw fail("response head starts with a continuation line")
                    }
                    fields.append((last.0, last.1 + " " + l.trimmingSpaces))
                    continue
                }
                guard let colon = l.firstIndex(of: ":"), colon != l.startIndex,
                    !l[..<colon].contains(where: { $0 == " " || $0 == "\t" })
                else {
                    throw fail("malformed header line \"\(l.prefix(60))\"")
                }
                fields.append((String(l[..<colon]), l[l.index(after: colon)...].trimmingSpaces))
            }
            return (status, fields)
        }

        /// The final response's head: interim 1xx responses are skipped (RFC 9110 §15.2); 101 is
        /// an error (no upgrade was asked for).
        mutating func finalHead() throws(Failure) -> (Int, [(String, String)]) {
            while true {
                let (status, fields) = try head()
                if status == 101 { throw fail("server switched protocols (101) unasked") }
                if status >= 200 { return (status, fields) }
            }
        }

        /// Delivers the body as `framing` delimits it; stops early when `deliver` returns false.
        mutating func body(_ framing: Framing, _ deliver: ([UInt8]) throws(Failure) -> Bool) throws(Failure) {
            switch framing {
            case .none:
                return
            case .length(let n):
                phase = "response body"
                var left = n
                while left > 0 {
                    if buf.isEmpty {
                        if eof {
                            throw fail("response body ended after \(n - left) of \(n) bytes (Content-Length \(n))")
                        }
                        try fill()
                        continue
                    }
                    let take = Int(min(Int64(buf.count), left))
                    let piece = Array(buf[..<take])
                    buf.removeFirst(take)
                    left -= Int64(take)
                    bodyBytes += Int64(take)
                    guard try deliver(piece) else { return }
                }
            case .chunked:
                try chunked(deliver)
            case .untilClose:
                phase = "response body"
                while true {
                    if !buf.isEmpty {
                        let piece = buf
                        buf = []
                        bodyBytes += Int64(piece.count)
                        guard try deliver(piece) else { return }
                    }
                    if eof { return }
                    try fill()
                }
            }
        }

        /// A chunked body (RFC 9112 §7.1): size line, data, CRLF; then the last chunk and trailers.
        mutating func chunked(_ deliver: ([UInt8]) throws(Failure) -> Bool) throws(Failure) {
            var index = 0
            while true {
                phase = "size line of chunk \(index)"
                let sizeLine = try line(limit: 1024)
                let digits =
                    (sizeLine.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                    .trimmingSpaces
                guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy(\.isHexDigit),
                    let size = Int64(digits, radix: 16)
                else {
                    throw fail(
                        "bad chunk size line \"\(sizeLine.prefix(40))\" (chunk \(index), after \(bodyBytes) body bytes)"
                    )
                }
                if size == 0 { break }
                guard bodyBytes + size <= Int64(maxBody) else {
                    throw fail("response body larger than \(maxBody) bytes")
                }
                phase = "data of chunk \(index)"
                let need = Int(size) + 2
                while buf.count < need {
                    if eof {
                        throw fail(
                            "connection closed inside chunk \(index) (\(min(buf.count, Int(size))) of \(size) bytes)")
                    }
                    try fill()
                }
                guard buf[Int(size)] == 13, buf[Int(size) + 1] == 10 else {
                    let got = buf[Int(size)..<need].map { String($0, radix: 16, uppercase: true) }.joined(
                        separator: " ")
                    throw fail("chunk \(index) of \(size) bytes is not followed by CRLF (got bytes \(got))")
                }
                let piece = Array(buf[..<Int(size)])
                buf.removeFirst(need)
                bodyBytes += size
                index += 1
                guard try deliver(piece) else { return }
            }
            phase = "chunked trailer"
            var size = 0
            while true {
                let l = try line(limit: maxHead - size)
                size += l.utf8.count + 2
                if l.isEmpty { return }
            }
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (HTTP's OWS).
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return String(s)
    }
}
