import Testing
import Transport

@Suite("SRT stream id")
struct StreamIDTests {
    @Test("the #!:: access-control form and plain strings")
    func parse() {
        let s = StreamID("#!::r=live/cam2,u=bob,m=publish")
        #expect(s.resource == "live/cam2" && s.user == "bob" && s.mode == "publish")
        let plain = StreamID("studio1")
        #expect(plain.resource == nil && plain.raw == "studio1")
        #expect(StreamID("#!::garbage").fields.isEmpty)
    }
}
