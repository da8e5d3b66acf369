import Testing

@testable import Transport

@Suite("Recording names")
struct RecordingNameTests {
    @Test("variables expand in UTC; the service name is made safe for a file name")
    func expand() {
        // 2026-11-21 14:30:05 UTC
        let name = RecordingName.expand(
            "/rec/$service/$output-$datetime-$date-$time.ts", output: "rec1", service: "Studio 1/Main",
            epochSeconds: 1_795_271_405)
        #expect(name == "/rec/Studio_1_Main/rec1-20261121-143005-20261121-143005.ts")
    }
}
