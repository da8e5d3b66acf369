/// A configuration error naming the field by its JSON path (e.g. `outputs[0].url`).
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// JSON path of the offending field.
    public var path: String
    /// What is wrong with it.
    public var reason: String

    /// An error `reason` about the field at JSON path `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// "path: reason".
    public var description: String { "\(path): \(reason)" }
}

/// Reads one JSON object field by field, remembering its path, and rejects keys nobody asked for.
public struct ObjectReader {
    /// JSON path of this object ("" for the root).
    public let path: String
    private let members: [(String, JSON)]
    private var used: Set<String> = []

    /// Wraps `value`, which must be an object.
    public init(_ value: JSON, path: String) throws(ConfigError) {
        guard case .object(let m) = value else {
            throw ConfigError(path: path.isEmpty ? "$" : path, reason: "must be an object")
        }
        self.path = path
        self.members = m
    }

    /// The path of member `key`.
    public func path(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw value of `key`, marking it used.
    public mutating func raw(_ key: String) -> JSON? {
        used.insert(key)
        guard let v = members.first(where: { $0.0 == key })?.1, v != .null else { return nil }
        return v
    }

    /// Whether `key` is present.
    public func has(_ key: String) -> Bool { members.contains { $0.0 == key } }

    /// A string member.
    public mutating func string(_ key: String) throws(ConfigError) -> String? {
        guard let v = raw(key) else { return nil }
        guard case .string(let s) = v else { throw ConfigError(path: path(key), reason: "must be a string") }
        return s
    }

    /// A string member from a fixed set.
    public mutating func choice(_ key: String, _ allowed: [String]) throws(ConfigError) -> String? {
        guard let s = try string(key) else { return nil }
        guard allowed.contains(s) else {
            throw ConfigError(path: path(key), reason: "\"\(s)\" is not one of \(allowed.joined(separator: ", "))")
        }
        return s
    }

    /// A boolean member.
    public mutating func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let v = raw(key) else { return nil }
        guard case .bool(let b) = v else { throw ConfigError(path: path(key), reason: "must be true or false") }
        return b
    }

    /// An integer member within `range`.
    public mutating func int(_ key: String, in range: ClosedRange<Int64>) throws(ConfigError) -> Int64? {
        guard let v = raw(key) else { return nil }
        guard case .number(let d) = v, d.rounded() == d, abs(d) < 9e15 else {
            throw ConfigError(path: path(key), reason: "must be an integer")
        }
        let n = Int64(d)
        guard range.contains(n) else {
            throw ConfigError(path: path(key), reason: "\(n) is outside \(range.lowerBound)…\(range.upperBound)")
        }
        return n
    }

    /// A number member within `range`.
    public mutating func double(_ key: String, in range: ClosedRange<Double>) throws(ConfigError) -> Double? {
        guard let v = raw(key) else { return nil }
        guard case .number(let d) = v else { throw ConfigError(path: path(key), reason: "must be a number") }
        guard range.contains(d) else {
            throw ConfigError(path: path(key), reason: "\(d) is outside \(range.lowerBound)…\(range.upperBound)")
        }
        return d
    }

    /// A nested object member.
    public mutating func object(_ key: String) throws(ConfigError) -> ObjectReader? {
        guard let v = raw(key) else { return nil }
        return try ObjectReader(v, path: path(key))
    }

    /// An array member.
    public mutating func array(_ key: String) throws(ConfigError) -> [JSON]? {
        guard let v = raw(key) else { return nil }
        guard case .array(let a) = v else { throw ConfigError(path: path(key), reason: "must be an array") }
        return a
    }

    /// Throws for the first key nobody read: unknown keys are errors, not silently ignored.
    public func finish() throws(ConfigError) {
        for (k, _) in members where !used.contains(k) {
            throw ConfigError(path: path(k), reason: "unknown key")
        }
    }
}
