import RTP

/// XOR of the packets one FEC packet protects: payloads (padded to the longest), payload lengths,
/// payload types and timestamps (SMPTE 2022-1 §8.1: the RFC 2733 recovery fields).
struct ParityAccumulator {
    var payload: [UInt8]
    var length = 0
    var lengthRecovery: UInt16 = 0
    var ptRecovery: UInt8 = 0
    var tsRecovery: UInt32 = 0
    var snBase: UInt16 = 0
    var packets = 0

    init(capacity: Int) { payload = [UInt8](repeating: 0, count: capacity) }

    mutating func reset() {
        for i in 0..<length { payload[i] = 0 }
        length = 0
        lengthRecovery = 0
        ptRecovery = 0
        tsRecovery = 0
        packets = 0
    }

    mutating func add(header: RTPHeader, payload p: UnsafeRawBufferPointer) {
        if packets == 0 { snBase = header.sequenceNumber }
        packets += 1
        let n = min(p.count, payload.count)
        payload.withUnsafeMutableBytes { out in
            // Word-wise XOR where both are 8-aligned lengths (TS payloads: 1316 = 164 × 8 + 4).
            var i = 0
            while i + 8 <= n {
                let a = out.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                let b = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                out.storeBytes(of: a ^ b, toByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < n {
                out[i] ^= p[i]
                i += 1
            }
        }
        length = max(length, n)
        lengthRecovery ^= UInt16(truncatingIfNeeded: p.count)
        ptRecovery ^= header.payloadType
        tsRecovery ^= header.timestamp
    }
}
