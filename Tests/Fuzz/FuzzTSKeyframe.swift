// libFuzzer target: the gateway program thumbnail's TS keyframe finder (PAT → PMT → video PES →
// access units → keyframe). Built by Tests/fuzz.sh with the MediaTime and MPEGTS sources,
// CodedKeyframe and TSKeyframeFinder (one module, so no imports). The first input byte picks the
// chunk size the bytes are fed in (1…7 packets, as the TS ring's records), so packet boundaries
// and ring discontinuities vary too.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTSKeyframe(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let packets = Int(data[0] % 7) + 1
    let input = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    var finder = TSKeyframeFinder()
    var i = 0
    var chunk = 0
    while i < input.count {
        let end = min(i + packets * TS.packetSize, input.count)
        finder.feed(UnsafeRawBufferPointer(rebasing: input[i..<end]), arrival: Int64(i))
        chunk += 1
        if data[0] & 0x80 != 0, chunk % 5 == 0 { finder.discontinuity() }
        i = end
    }
    _ = finder.newest?.bytes.count
    _ = finder.video
    return 0
}
