/// Random secrets as lowercase hex: token ids and secrets (`Credentials`), session ids, CSRF tokens
/// and device cookies (`SessionStore`, `LoginThrottle`). Bytes from the system's CSPRNG
/// (`SystemRandomNumberGenerator`: getrandom on Linux).
enum RandomHex {
    /// `bytes` random bytes, two hex digits each.
    static func make(bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(2 * bytes)
        for _ in 0..<bytes {
            let b = UInt8.random(in: 0...255, using: &g)
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
