extension JSON {
    /// Indented serialisation (two spaces, keys in stored order): for files people also read.
    public var pretty: String {
        var s = ""
        writePretty(to: &s, indent: "")
        return s + "\n"
    }

    private func writePretty(to s: inout String, indent: String) {
        let inner = indent + "  "
        switch self {
        case .array(let items) where !items.isEmpty:
            s += "[\n"
            for (k, v) in items.enumerated() {
                s += inner
                v.writePretty(to: &s, indent: inner)
                s += k + 1 < items.count ? ",\n" : "\n"
            }
            s += indent + "]"
        case .object(let members) where !members.isEmpty:
            s += "{\n"
            for (k, (key, v)) in members.enumerated() {
                s += inner
                Self.quote(key, into: &s)
                s += ": "
                v.writePretty(to: &s, indent: inner)
                s += k + 1 < members.count ? ",\n" : "\n"
            }
            s += indent + "}"
        default:
            s += serialized
        }
    }

    /// RFC 7396 JSON Merge Patch: objects merge member by member, `null` removes a member, any
    /// other value (arrays included) replaces.
    public func merged(with patch: JSON) -> JSON {
        guard case .object(let p) = patch else { return patch }
        var members: [(String, JSON)]
        if case .object(let m) = self { members = m } else { members = [] }
        for (key, value) in p {
            let i = members.firstIndex { $0.0 == key }
            if value == .null {
                if let i { members.remove(at: i) }
            } else if let i {
                members[i].1 = members[i].1.merged(with: value)
            } else {
                members.append((key, JSON.null.merged(with: value)))
            }
        }
        return .object(members)
    }
}
