/// The small text formats a browser sends besides JSON: the `Cookie` header (RFC 6265 §5.4) and
/// an `application/x-www-form-urlencoded` body (WHATWG URL, "application/x-www-form-urlencoded
/// parsing"). Pure functions over bytes, no allocation beyond their results; fuzzed
/// (`Tests/Fuzz/FuzzWebFields.swift`).
public enum RequestFields {
    /// Longest cookie value or form value kept, in bytes; longer ones are dropped, never cut (a cut
    /// session id or password would be a different one).
    public static let maximumValueBytes = 4096

    /// The value of cookie `name` in a `Cookie` header (`a=1; b=2`), or nil. Pairs without `=`
    /// are skipped; a value in double quotes loses them (RFC 6265 §4.1.1 cookie-value); the first
    /// pair with the name wins (§5.4: the more specific path comes first).
    public static func cookie(_ name: String, in header: String) -> String? {
        for pair in header.utf8.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: true) {
            guard let eq = pair.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = trimmed(pair[pair.startIndex..<eq])
            guard key.elementsEqual(name.utf8) else { continue }
            var value = trimmed(pair[pair.index(after: eq)...])
            if value.count >= 2, value.first == UInt8(ascii: "\""), value.last == UInt8(ascii: "\"") {
                value = value.dropFirst().dropLast()
            }
            guard value.count <= maximumValueBytes else { return nil }
            return String(decoding: value, as: UTF8.self)
        }
        return nil
    }

    /// The fields of a form body (`a=1&b=x+y%21`), in order: `+` is a space and `%XX` a byte;
    /// a malformed escape stays as it is (as browsers and the WHATWG parser do); a pair without
    /// `=` has an empty value. Values longer than `maximumValueBytes` are dropped.
    public static func form(_ body: some Collection<UInt8>) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        for pair in Array(body).split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let eq = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
            let name = percentDecoded(pair[pair.startIndex..<eq])
            let value = eq < pair.endIndex ? percentDecoded(pair[pair.index(after: eq)...]) : []
            guard name.count <= maximumValueBytes, value.count <= maximumValueBytes else { continue }
            fields.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        return fields
    }

    /// `bytes` with `+` as space and each valid `%XX` as its byte.
    static func percentDecoded(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if b == UInt8(ascii: "%"), bytes.endIndex - i >= 3, let hi = hex(bytes[i + 1]),
                let lo = hex(bytes[i + 2])
            {
                out.append(hi << 4 | lo)
                i += 3
                continue
            } else {
                out.append(b)
            }
            i += 1
        }
        return out
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `bytes` without leading and trailing spaces and tabs (RFC 6265 §5.4 OWS).
    static func trimmed<C: BidirectionalCollection<UInt8>>(_ bytes: C) -> C.SubSequence {
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
        var s = bytes[...]
        while let f = s.first, isSpace(f) { s = s.dropFirst() }
        while let l = s.last, isSpace(l) { s = s.dropLast() }
        return s
    }
}
