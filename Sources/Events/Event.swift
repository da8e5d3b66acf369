import Config

/// One event: its kind, the output it concerns (if any) and its payload values in the order of
/// `EventKind.fields`.
public struct Event: Sendable, Equatable {
    /// What happened.
    public var kind: EventKind
    /// The output id it concerns, nil for box-wide events.
    public var output: String?
    /// The payload values, in the order of `kind.fields`.
    public var values: [String]
    /// Wall-clock time, ns since the epoch.
    public var time: Int64
    /// Largest event datagram (stream ids are ≤ 512 bytes, URLs ≤ 2 KiB).
    public static let maxDatagram = 8192

    /// An event; `time` 0 is stamped with the wall clock when it is posted.
    public init(_ kind: EventKind, output: String? = nil, values: [String], time: Int64 = 0) {
        self.kind = kind
        self.output = output
        self.values = values
        self.time = time
    }

    /// The handler payload: one value per line (MistServer's trigger style), in the documented
    /// order. Values are user-influenced (stream ids, URLs), so every control character and `%` is
    /// percent-encoded: a value can never add a line, and nothing reaches a shell.
    public var payload: String {
        values.map { Self.escape($0) + "\n" }.joined()
    }

    /// `%XX` for control characters (newlines included), DEL and `%`; everything else as is.
    public static func escape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            if u.value < 0x20 || u.value == 0x7F || u == "%" {
                out += "%" + String(u.value, radix: 16, uppercase: true).leftPadded(to: 2)
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// Reverses `escape`.
    public static func unescape(_ s: Substring) -> String {
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "%"), i + 2 < b.count,
                let v = UInt8(String(decoding: b[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)
            {
                out.append(v)
                i += 3
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The event as JSON (Server-Sent Events, logs): `{"event":…,"time":…,"output":…,"payload":{field: value}}`.
    public var json: JSON {
        var fields: [(String, JSON)] = []
        for (i, name) in kind.fields.enumerated() where i < values.count { fields.append((name, .string(values[i]))) }
        var members: [(String, JSON)] = [
            ("event", .string(kind.rawValue)), ("time", .number(Double(time / 1_000_000) / 1000)),
        ]
        if let output { members.append(("output", .string(output))) }
        members.append(("payload", .object(fields)))
        return .object(members)
    }

    /// The datagram a stage sends to the supervisor: kind, output ("" for none), then the values,
    /// one escaped line each.
    public var datagram: [UInt8] {
        Array((Self.escape(kind.rawValue) + "\n" + Self.escape(output ?? "") + "\n" + payload).utf8)
    }

    /// Parses a stage's datagram; nil if it is not one (wrong kind, missing lines, too many values).
    public static func parse(datagram bytes: [UInt8]) -> Event? {
        guard bytes.count <= Self.maxDatagram else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.last == "" else { return nil }
        lines.removeLast()
        guard lines.count >= 2, let kind = EventKind(rawValue: String(lines[0])) else { return nil }
        let values = lines.dropFirst(2).map { unescape($0) }
        guard values.count == kind.fields.count else { return nil }
        let output = lines[1].isEmpty ? nil : unescape(lines[1])
        return Event(kind, output: output, values: values)
    }
}

extension String {
    fileprivate func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
