// libFuzzer target: the JSON parser and config decoder. Built with the Config and MediaTime sources.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let json = try? JSONParser.parse(bytes) else { return 0 }
    // Serialisation must round-trip anything that parses.
    precondition((try? JSONParser.parse(json.serialized)) == json, "JSON round trip changed the document")
    _ = try? RillConfig.decode(json)
    return 0
}
