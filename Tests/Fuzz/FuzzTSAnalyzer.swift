// libFuzzer target: the TS demuxer/analyzer the tests and `rill probe` use. Built by Tests/fuzz.sh
// together with the MediaTime and MPEGTS sources (one module, so no imports).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTSAnalyzer(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var a = TSAnalyzer()
    a.feed(UnsafeRawBufferPointer(start: data, count: size), arrivalNs: Int64(size))
    _ = a.maxPCRInterval
    _ = a.pcrAccuracyError
    _ = a.pcrBitrate
    _ = a.maxInterval(ofPackets: a.patPackets)
    _ = a.pcrArrivalDeviations
    if size > 0 { _ = a.pcrTime(atPacket: Int64(data[0])) }
    return 0
}
