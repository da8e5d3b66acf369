import CMallocCounter
import Testing

@testable import MPEGTS

/// One step of a continuity case: a packet of `pid` with counter `cc`, a payload or not, the
/// discontinuity_indicator or not.
struct CCStep: Sendable, CustomStringConvertible {
    enum Kind: Sendable { case payload, adaptationOnly, reserved }
    var pid: UInt16 = 0x100
    var cc: UInt8
    var kind = Kind.payload
    var flagged = false

    static func p(_ cc: UInt8, pid: UInt16 = 0x100) -> CCStep { CCStep(pid: pid, cc: cc) }
    static func a(_ cc: UInt8, pid: UInt16 = 0x100) -> CCStep { CCStep(pid: pid, cc: cc, kind: .adaptationOnly) }
    static func flag(_ cc: UInt8, pid: UInt16 = 0x100) -> CCStep { CCStep(pid: pid, cc: cc, flagged: true) }
    static func null(_ cc: UInt8) -> CCStep { CCStep(pid: PID.null, cc: cc) }

    var description: String {
        let k = kind == .payload ? "P" : kind == .adaptationOnly ? "A" : "R"
        return "\(k)\(cc)\(flagged ? "!" : "")@\(pid)"
    }

    /// The 188 bytes: payload packets carry an adaptation field only when flagged.
    var bytes: [UInt8] {
        var p = [UInt8](repeating: 0xFF, count: 188)
        p[0] = 0x47
        p[1] = UInt8(pid >> 8)
        p[2] = UInt8(pid & 0xFF)
        let afc: UInt8
        switch kind {
        case .payload: afc = flagged ? 0x30 : 0x10
        case .adaptationOnly: afc = 0x20
        case .reserved: afc = 0x00
        }
        p[3] = afc | cc
        if afc & 0x20 != 0 {
            p[4] = kind == .adaptationOnly ? 183 : 1
            p[5] = flagged ? 0x80 : 0x00
        }
        return p
    }
}

/// A named sequence and the errors the rule must find (the packet indices).
struct CCCase: Sendable, CustomStringConvertible {
    var name: String
    var steps: [CCStep]
    var errorsAt: [Int]
    var description: String { name }
}

@Suite("Continuity counter rule (ISO/IEC 13818-1 §2.4.3.3, TR 101 290 1.4)")
struct ContinuityCounterTests {
    static let cases: [CCCase] = [
        CCCase(name: "in order across the wrap", steps: (0..<20).map { .p(UInt8($0 % 16)) }, errorsAt: []),
        CCCase(name: "a lost packet", steps: [.p(0), .p(1), .p(3), .p(4)], errorsAt: [2]),
        CCCase(name: "reordered packets", steps: [.p(0), .p(2), .p(1), .p(3)], errorsAt: [1, 2, 3]),
        CCCase(name: "one duplicate is allowed", steps: [.p(0), .p(1), .p(1), .p(2)], errorsAt: []),
        CCCase(
            name: "a packet sent three times is an error", steps: [.p(0), .p(1), .p(1), .p(1), .p(2)], errorsAt: [3]),
        CCCase(
            name: "duplicates of successive packets are each allowed",
            steps: [.p(0), .p(0), .p(1), .p(1), .p(2), .p(2)], errorsAt: []),
        CCCase(
            name: "an adaptation-only packet repeats the counter", steps: [.p(0), .p(1), .a(1), .a(1), .p(2)],
            errorsAt: []),
        CCCase(
            name: "an adaptation-only packet that increments is an error", steps: [.p(0), .p(1), .a(2), .p(2)],
            errorsAt: [2]),
        CCCase(
            name: "a payload packet after adaptation-only ones increments once",
            steps: [.p(5), .a(5), .a(5), .p(6), .p(7), .a(7), .p(9)], errorsAt: [6]),
        CCCase(
            name: "an adaptation-only packet does not excuse a third copy", steps: [.p(1), .p(1), .a(1), .p(1)],
            errorsAt: [3]),
        CCCase(
            name: "discontinuity_indicator excuses a jump and restarts the count",
            steps: [.p(0), .p(1), .flag(9), .p(10), .p(12)], errorsAt: [4]),
        CCCase(
            name: "the same jump without the flag is an error", steps: [.p(0), .p(1), .p(9), .p(10)], errorsAt: [2]),
        CCCase(
            name: "null packets are not counted and leave other PIDs alone",
            steps: [.p(0), .null(7), .null(7), .null(7), .null(2), .p(1), .null(0), .p(2)], errorsAt: []),
        CCCase(
            name: "reserved adaptation_field_control 00 is not counted",
            steps: [.p(0), CCStep(cc: 9, kind: .reserved), .p(1)], errorsAt: []),
        CCCase(
            name: "PIDs are counted apart",
            steps: [.p(0), .p(7, pid: 0x101), .p(1), .p(8, pid: 0x101), .p(9, pid: 0x101), .p(3)], errorsAt: [5]),
    ]

    @Test("The rule", arguments: cases)
    func rule(_ c: CCCase) {
        var counter = ContinuityCounter()
        var errors: [Int] = []
        for (i, step) in c.steps.enumerated() {
            let verdict = step.bytes.withUnsafeBytes { counter.check(TSPacket($0)!) }
            if verdict == .error { errors.append(i) }
        }
        #expect(errors == c.errorsAt, "\(c.steps)")
        #expect(counter.errors == Int64(c.errorsAt.count))
    }

    @Test("TSAnalyzer (rill probe) counts by the same rule", arguments: cases)
    func analyzerAgrees(_ c: CCCase) {
        var analyzer = TSAnalyzer()
        analyzer.feed(c.steps.flatMap(\.bytes))
        #expect(analyzer.continuityErrors == Int64(c.errorsAt.count), "\(c.steps)")
        #expect(analyzer.packets == Int64(c.steps.count))
    }

    @Test("Verdicts name what each packet was")
    func verdicts() {
        var counter = ContinuityCounter()
        let steps: [CCStep] = [.p(3), .p(4), .p(4), .a(4), .flag(0), .null(5), CCStep(cc: 1, kind: .reserved), .p(9)]
        let verdicts = steps.map { s in s.bytes.withUnsafeBytes { counter.check(TSPacket($0)!) } }
        #expect(verdicts == [.first, .inOrder, .duplicate, .inOrder, .discontinuity, .exempt, .exempt, .error])
    }

    @Test("reset() forgets the counters (a new connection) but keeps the error total")
    func reset() {
        var counter = ContinuityCounter()
        let before: [CCStep] = [.p(0), .p(2)]
        let after: [CCStep] = [.p(9), .p(10)]
        let a = before.flatMap(\.bytes).withUnsafeBytes { counter.check(packets: $0) }
        #expect(a == 1)
        counter.reset()
        let b = after.flatMap(\.bytes).withUnsafeBytes { counter.check(packets: $0) }
        #expect(b == 0, "the jump to 9 after reset() is a first packet")
        #expect(counter.errors == 1)
    }

    @Test("check(packets:) skips packets without the sync byte and a trailing partial packet")
    func chunk() {
        var counter = ContinuityCounter()
        var bad = CCStep.p(5).bytes
        bad[0] = 0x46  // would be an error (0 → 5) were it read
        let bytes = CCStep.p(0).bytes + bad + CCStep.p(1).bytes + Array(CCStep.p(9).bytes[0..<100])
        let errors = bytes.withUnsafeBytes { counter.check(packets: $0) }
        #expect(errors == 0)
        let next = CCStep.p(2).bytes.withUnsafeBytes { counter.check(packets: $0) }
        #expect(next == 0, "the partial packet with counter 9 was not read")
    }

    @Test("Checking allocates nothing per packet")
    func noAllocation() {
        var counter = ContinuityCounter()
        var chunk: [UInt8] = []
        for k in 0..<7 { chunk += CCStep.p(UInt8(k), pid: UInt16(0x100 + k % 3)).bytes }
        var total = 0
        var errors = 0
        chunk.withUnsafeBytes { raw in
            for _ in 0..<1000 {
                let before = rill_malloc_count_thread()
                errors &+= counter.check(packets: raw)
                total += Int(rill_malloc_count_thread() - before)
            }
        }
        #expect(total == 0, "\(total) allocations")
        #expect(errors > 0, "the repeated chunk jumps its counters: the loop did check")
    }
}
