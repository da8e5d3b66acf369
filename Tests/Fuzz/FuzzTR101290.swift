// libFuzzer target: the TR 101 290 analyzer (MPEGTS/TR101290Analyzer*.swift). Built by Tests/fuzz.sh
// together with the MediaTime and MPEGTS sources (one module, so no imports). The first byte picks
// the timing (arrival or stream) and the PID period; the rest is fed in chunks of 1–4 packets at
// any offset, with arrival times and quiet spells taken from the input, so packets come in any
// order and with any bytes.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTR101290(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    var configuration = TR101290Analyzer.Configuration()
    configuration.pidPeriod = Int64(data[0] >> 2) * 20_000_000
    configuration.alarmQuietTime = Int64(data[0] & 0x0C) * 100_000_000
    var a = TR101290Analyzer(configuration: configuration)
    let arrival = data[0] & 1 == 0
    var t: Int64 = 0
    var offset = 1
    while offset < size {
        let n = min(size - offset, TS.packetSize * (1 + Int(data[offset - 1] & 3)))
        let chunk = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
        if arrival {
            t += Int64(data[offset]) * 1_000_000
            a.feed(chunk, arrivalNs: t)
            if data[offset] == 0xFF { a.advance(toNs: t + 3_000_000_000) }
        } else {
            a.feed(chunk)
        }
        offset += n
    }
    var transitions = 0
    a.drainTransitions { _ in transitions += 1 }
    for i in TR101290Analyzer.Indicator.allCases {
        let s = a.status(i)
        if s.count < 0 || (s.count > 0 && s.lastNs == nil) || i.name.isEmpty || i.clause.isEmpty { fatalError("\(i)") }
    }
    _ = a.pcrAccuracyApplicability
    _ = a.timeNs
    return 0
}
