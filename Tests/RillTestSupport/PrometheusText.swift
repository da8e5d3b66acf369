/// A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: every
/// line must be a comment, blank, or `name{label="value",…} value`; names and label names must be
/// valid; a `# TYPE` must come before its samples and only once; histograms must have cumulative
/// `_bucket{le=…}` series ending in `+Inf` equal to `_count`.
public struct PrometheusSample: Sendable, Equatable {
    public var name: String
    public var labels: [String: String]
    public var value: Double
}

public struct PrometheusFormatError: Error, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }
}

public func parsePrometheusText(_ text: String) throws -> [PrometheusSample] {
    var samples: [PrometheusSample] = []
    var types: [String: String] = [:]
    func validName(_ s: Substring, colon: Bool) -> Bool {
        guard let f = s.first, f.isASCII, f.isLetter || f == "_" || (colon && f == ":") else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || (colon && $0 == ":")) }
    }
    for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let line = n + 1
        if raw.isEmpty { continue }
        if raw.hasPrefix("#") {
            let parts = raw.split(separator: " ", maxSplits: 3)
            if parts.count >= 2, parts[1] == "TYPE" {
                guard parts.count == 4, validName(parts[2], colon: true),
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(String(parts[3]))
                else { throw PrometheusFormatError(line: line, message: "bad TYPE line") }
                guard types[String(parts[2])] == nil else {
                    throw PrometheusFormatError(line: line, message: "second TYPE for \(parts[2])")
                }
                guard
                    !samples.contains(where: {
                        $0.name == parts[2]
                            || $0.name.hasPrefix(parts[2] + "_") && types[String(parts[2])] == "histogram"
                    })
                else {
                    throw PrometheusFormatError(line: line, message: "TYPE after samples of \(parts[2])")
                }
                types[String(parts[2])] = String(parts[3])
            }
            continue
        }
        var s = Substring(raw)
        let name = s.prefix { $0 != "{" && $0 != " " }
        guard validName(name, colon: true) else {
            throw PrometheusFormatError(line: line, message: "bad metric name \"\(name)\"")
        }
        s = s.dropFirst(name.count)
        var labels: [String: String] = [:]
        if s.first == "{" {
            s = s.dropFirst()
            while s.first != "}" {
                let key = s.prefix { $0 != "=" }
                guard validName(key, colon: false) else {
                    throw PrometheusFormatError(line: line, message: "bad label name \"\(key)\"")
                }
                s = s.dropFirst(key.count)
                guard s.hasPrefix("=\"") else {
                    throw PrometheusFormatError(line: line, message: "label \(key) has no quoted value")
                }
                s = s.dropFirst(2)
                var value = ""
                while let c = s.first, c != "\"" {
                    if c == "\\" {
                        s = s.dropFirst()
                        guard let e = s.first, ["\\", "\"", "n"].contains(e) else {
                            throw PrometheusFormatError(line: line, message: "bad escape")
                        }
                        value.append(e == "n" ? "\n" : e)
                    } else {
                        value.append(c)
                    }
                    s = s.dropFirst()
                }
                guard s.first == "\"" else {
                    throw PrometheusFormatError(line: line, message: "unterminated label value")
                }
                s = s.dropFirst()
                guard labels.updateValue(value, forKey: String(key)) == nil else {
                    throw PrometheusFormatError(line: line, message: "label \(key) twice")
                }
                if s.first == "," { s = s.dropFirst() }
            }
            s = s.dropFirst()
        }
        guard s.first == " " else { throw PrometheusFormatError(line: line, message: "no space before the value") }
        let fields = s.dropFirst().split(separator: " ")
        guard fields.count == 1 || fields.count == 2 else {
            throw PrometheusFormatError(line: line, message: "bad value field")
        }
        let v: Double
        switch fields[0] {
        case "+Inf": v = .infinity
        case "-Inf": v = -.infinity
        case "NaN": v = .nan
        default:
            guard let d = Double(fields[0]) else {
                throw PrometheusFormatError(line: line, message: "bad value \"\(fields[0])\"")
            }
            v = d
        }
        let base = ["_bucket", "_sum", "_count"].first { name.hasSuffix($0) }.map { String(name.dropLast($0.count)) }
        guard types[String(name)] != nil || base.map({ types[$0] != nil }) == true else {
            throw PrometheusFormatError(line: line, message: "sample \(name) before its TYPE")
        }
        samples.append(PrometheusSample(name: String(name), labels: labels, value: v))
    }
    // Histograms: cumulative buckets, +Inf == _count.
    for (name, type) in types where type == "histogram" {
        var series: [String: [(Double, Double)]] = [:]
        for b in samples where b.name == name + "_bucket" {
            guard let le = b.labels["le"], let bound = le == "+Inf" ? Double.infinity : Double(le) else {
                throw PrometheusFormatError(line: 0, message: "\(name)_bucket without a valid le")
            }
            var key = b.labels
            key["le"] = nil
            series[key.sorted { $0.key < $1.key }.description, default: []].append((bound, b.value))
        }
        for (key, buckets) in series {
            let sorted = buckets.sorted { $0.0 < $1.0 }
            guard zip(sorted, sorted.dropFirst()).allSatisfy({ $0.1 <= $1.1 }) else {
                throw PrometheusFormatError(line: 0, message: "\(name)\(key): buckets not cumulative")
            }
            guard let inf = sorted.last, inf.0 == .infinity else {
                throw PrometheusFormatError(line: 0, message: "\(name)\(key): no +Inf bucket")
            }
            let count = samples.first {
                $0.name == name + "_count" && $0.labels.sorted { $0.key < $1.key }.description == key
            }
            guard count?.value == inf.1 else {
                throw PrometheusFormatError(line: 0, message: "\(name)\(key): +Inf bucket ≠ _count")
            }
        }
    }
    return samples
}
