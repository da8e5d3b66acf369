// libFuzzer target: the stage → supervisor event datagram parser and payload escaping. Built with
// the Config, MediaTime and Events/Event.swift sources.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEvent(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let e = Event.parse(datagram: bytes) {
        // Whatever parses re-encodes to a datagram that parses to the same event, and its payload
        // has exactly one line per value (escaping keeps user text from adding lines).
        precondition(Event.parse(datagram: e.datagram) == e, "event datagram round trip changed the event")
        precondition(
            e.payload.split(separator: "\n", omittingEmptySubsequences: false).count == e.values.count + 1,
            "payload lines")
    }
    let text = String(decoding: bytes, as: UTF8.self)
    precondition(Event.unescape(Substring(Event.escape(text))) == text, "escape round trip")
    return 0
}
