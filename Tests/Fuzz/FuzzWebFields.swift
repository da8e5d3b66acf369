// libFuzzer target: what a browser sends besides JSON — the Cookie header, a form body — and the
// session lookup that the cookie's value reaches. Built with Sources/API/Session/RequestFields.swift,
// SessionStore.swift and RandomHex.swift.

let fuzzSessions = SessionStore()
let fuzzSession = fuzzSessions.open(now: 0)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebFields(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let header = String(decoding: bytes, as: UTF8.self)
    if let value = RequestFields.cookie("rill_session", in: header) {
        precondition(value.utf8.count <= RequestFields.maximumValueBytes, "cookie value past the limit")
        precondition(!value.contains(";"), "a cookie value holds no pair separator")
        // Only the session's own id finds it; anything else an attacker sends finds nothing.
        if fuzzSessions.session(value, now: 1) != nil {
            precondition(value == fuzzSession.id, "a forged cookie found a session")
        }
    }
    for field in RequestFields.form(bytes) {
        precondition(field.value.utf8.count <= RequestFields.maximumValueBytes, "form value past the limit")
        precondition(field.name.utf8.count <= RequestFields.maximumValueBytes, "form name past the limit")
    }
    // A form built from fields parses back to them (names and values percent-encoded).
    let fields = [("password", header), (header, "x")]
    func encode(_ s: String) -> String {
        s.utf8.map { b -> String in
            let unreserved = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            return unreserved ? String(UnicodeScalar(b)) : "%" + String(b >> 4, radix: 16) + String(b & 15, radix: 16)
        }.joined()
    }
    let body = fields.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
    let parsed = RequestFields.form(Array(body.utf8))
    if header.utf8.count <= RequestFields.maximumValueBytes, !header.isEmpty {
        precondition(parsed.map(\.name) == fields.map(\.0), "form round trip: names")
        precondition(parsed.map(\.value) == fields.map(\.1), "form round trip: values")
    }
    return 0
}
