// libFuzzer target: the SDP reader (and writer round trip). Built with the RTP and MediaTime sources.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSDP(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let d = try? SessionDescription.parse(text) {
        // Whatever parses must write out and parse again to the same stream description.
        let again = try? SessionDescription.parse(d.text)
        precondition(
            again?.port == d.port && again?.connectionAddress == d.connectionAddress,
            "SDP round trip changed the stream")
    }
    return 0
}
