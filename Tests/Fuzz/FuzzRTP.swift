// libFuzzer target: the RTP header parser. Built with the RTP and MediaTime sources.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRTP(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    if let (_, range) = try? RTPHeader.parse(UnsafeRawBufferPointer(start: data, count: size)) {
        precondition(range.lowerBound >= 12 && range.upperBound <= size && range.lowerBound <= range.upperBound)
    }
    return 0
}
