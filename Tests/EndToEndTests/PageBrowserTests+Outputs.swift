import Foundation
import RillTestSupport
import Testing

/// RTP sequence gaps in a capture (a lost datagram is a gap).
private func sequenceGaps(_ wire: WireCapture) -> Int {
    let seqs = wire.datagrams.compactMap(\.rtpSequence)
    return zip(seqs, seqs.dropFirst()).filter { ($1 - $0 + 65536) % 65536 != 1 }.count
}

/// Operating outputs through the page (issue 11, "Through the page"), checked on the wire by tshark
/// and ffprobe while the browser waits at each step; in the page's suite (one browser test at a time).
extension PageBrowserTests {
    @Test(
        "the form adds an RTP output (on the wire, 0 CC errors), moves its port (the wire follows, the other output loses 0 packets), shows the 422 next to the port field with nothing saved; stop/start follow on the card and the wire; the SDP link's file opens in ffprobe; delete"
    )
    func outputsThroughThePage() async throws {
        let ns = try NetworkNamespace("pageout")
        defer { ns.close() }
        let box = try APIBox(
            label: "pageout", port: 18303, outputs: #"{ "id": "keep", "url": "rtp://127.0.0.1:5310" }"#,
            namespace: ns, adminPassword: pageTestPassword)
        defer { box.box.stop() }
        #expect(waitFor(timeout: 20) { outputState(box, "keep").packets > 100 }, "\(box.box.log.suffix(1500))")
        let dir = box.box.directory
        func capture(_ port: Int, _ seconds: Int) throws -> WireCapture {
            try tsharkCapture(port: port, seconds: seconds, prefix: ns.command([]), directory: dir)
        }
        // The other output, watched from before the add to after the delete.
        let keep = Task.detached { try tsharkCapture(port: 5310, seconds: 90, prefix: ns.command([]), directory: dir) }
        #expect(waitFor(timeout: 30) { fileSize("\(dir)/capture-5310.pcap") > 20_000 }, "tshark did not start")

        let sdp = "\(dir)/web.sdp"
        let run = try BrowserRun(
            "outputs.py", box: box,
            arguments: ["--id", "web", "--port", "5320", "--port2", "5322", "--sdp", sdp, "--out", "\(dir)/page"])
        if run.reached("added") {
            let wire = try capture(5320, 3)
            #expect(wire.datagrams.count > 100, "\(wire.datagrams.count) datagrams on 5320")
            #expect(wire.continuityErrors == 0 && wire.tsharkCCDrops == 0 && sequenceGaps(wire) == 0)
            run.go("added")
        }
        var configAfterEdit = ""
        if run.reached("edited") {
            let moved = try capture(5322, 3)
            let old = try capture(5320, 2)
            #expect(moved.datagrams.count > 100 && moved.continuityErrors == 0, "\(moved.datagrams.count) on 5322")
            #expect(old.datagrams.isEmpty, "\(old.datagrams.count) datagrams still on the old port")
            configAfterEdit = try box.curl("GET", "/api/v1/config").body
            #expect(configAfterEdit.contains("rtp://127.0.0.1:5322"))
            run.go("edited")
        }
        if run.reached("rejected") {
            #expect(try box.curl("GET", "/api/v1/config").body == configAfterEdit, "the bad value changed the config")
            run.go("rejected")
        }
        if run.reached("stopped") {
            #expect(outputState(box, "web").state == "stopped")
            let wire = try capture(5322, 2)
            #expect(wire.datagrams.isEmpty, "\(wire.datagrams.count) datagrams from a stopped output")
            run.go("stopped")
        }
        if run.reached("started") {
            let wire = try capture(5322, 2)
            #expect(wire.datagrams.count > 50 && wire.continuityErrors == 0, "\(wire.datagrams.count) after start")
            run.go("started")
        }
        if run.reached("sdp") {
            let file = "\(dir)/page/web.sdp"
            let streams = try ffprobeStreams(file, prefix: ns.command([]))
            #expect(streams.contains { $0.codec == "h264" && $0.width == 640 }, "\(streams)")
            #expect(streams.contains { $0.codec == "aac" }, "\(streams)")
            run.go("sdp")
        }
        if run.reached("deleted") {
            let wire = try capture(5322, 2)
            #expect(wire.datagrams.isEmpty, "\(wire.datagrams.count) datagrams from a deleted output")
            #expect(!(try box.curl("GET", "/api/v1/config").body.contains("\"web\"")))
            run.go("deleted")
        }
        let o = run.finish()
        let other = try await keep.value

        #expect(o["builtURL"] as? String == "rtp://127.0.0.1:5320")
        #expect(o["editFormPort"] as? String == "5320")
        let portError = o["portError"] as? String ?? ""
        #expect(portError.contains("70000") || portError.contains("65535"), "next to the port: \(portError)")
        #expect(o["portInvalid"] as? String == "true" && o["formKeptOpen"] as? Bool == true)
        #expect(o["portKept"] as? String == "70000" && o["configUnchangedByBadValue"] as? Bool == true)
        #expect((o["stopped"] as? [String])?.prefix(2) == ["off", "STOPPED"], "\(o["stopped"] ?? "")")
        #expect(o["sdpStatus"] as? Int == 200 && o["sdpLinkShown"] as? Bool == true)
        #expect(o["deleteConfirm"] as? String == "true")
        #expect(o["outputsAfterDelete"] as? [String] == ["keep"])
        #expect((o["consoleErrors"] as? [Any])?.isEmpty == true, "\(o["consoleErrors"] ?? "")")
        // The other output through all of it: not one datagram lost.
        #expect(other.datagrams.count > 2000, "\(other.datagrams.count) datagrams of keep")
        #expect(sequenceGaps(other) == 0 && other.continuityErrors == 0 && other.tsharkCCDrops == 0)
        print("page outputs: keep \(other.datagrams.count) datagrams, 0 lost; 422 shown: \(portError)")
    }
}
