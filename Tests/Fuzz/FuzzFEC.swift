// libFuzzer target: the 2022-1 FEC header parser and the RecoveryBuffer (merge, recovery,
// release) fed a stream of media and FEC packets. Input: records of [kind, length hi, length lo,
// bytes…]; kind bit 0 = FEC packet (RTP payload), else an RTP media packet. Built with the RTP,
// FEC and MediaTime sources.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFEC(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    var buffer = RecoveryBuffer(holdPackets: 40, holdNs: 0, capacity: 64)
    var i = 0
    var now: Int64 = 0
    var released = 0
    while i + 3 <= input.count {
        let kind = input[i]
        let length = min(Int(input[i + 1]) << 8 | Int(input[i + 2]), input.count - i - 3)
        let packet = UnsafeRawBufferPointer(rebasing: input[(i + 3)..<(i + 3 + length)])
        i += 3 + length
        now += 1000
        if kind & 1 == 1 {
            try? buffer.insertFEC(packet, arrival: now)
        } else if let (h, range) = try? RTPHeader.parse(packet) {
            buffer.insert(header: h, payload: UnsafeRawBufferPointer(rebasing: packet[range]), arrival: now)
        }
        buffer.release(now: now, force: kind & 2 == 2) { _, payload in
            precondition(payload.count <= 1500)
            released += 1
        }
    }
    let s = buffer.statistics
    precondition(s.duplicates + s.late <= s.received)
    return 0
}
