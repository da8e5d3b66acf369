import Foundation
import RillTestSupport
import Testing

/// The raw JSON editor of the page (issue 11 point 3: "a raw JSON editor for every section as a fallback").
extension PageBrowserTests {
    @Test(
        "raw JSON editor: a service renamed in section program reaches the wire (FFmpeg reads the new name from the SDT); a port out of range in section outputs shows the server's 422 path and detail and saves nothing"
    )
    func rawEditor() throws {
        let ns = try NetworkNamespace("pageraw")
        defer { ns.close() }
        let box = try APIBox(
            label: "pageraw", port: 18308, outputs: #"{ "id": "u", "url": "udp://127.0.0.1:5370" }"#, namespace: ns,
            adminPassword: pageTestPassword)
        defer { box.box.stop() }
        #expect(waitFor(timeout: 20) { outputState(box, "u").packets > 100 }, "\(box.box.log.suffix(1500))")
        /// The service name FFmpeg reads from the output's SDT.
        func serviceName() throws -> String {
            let r = try runProcess(
                ns.command([
                    "ffprobe", "-v", "error", "-show_entries", "program_tags=service_name", "-of", "json",
                    "udp://127.0.0.1:5370",
                ]), timeout: 30)
            let doc = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any]
            let tags = (doc?["programs"] as? [[String: Any]])?.first?["tags"] as? [String: Any]
            return tags?["service_name"] as? String ?? "(none: \(r.stderr.prefix(300)))"
        }
        #expect(try serviceName() == "Studio 1")
        let configBefore = try box.curl("GET", "/api/v1/config/outputs").body
        let run = try BrowserRun("raw_editor.py", box: box, arguments: ["--name", "Page Test"])
        if run.reached("renamed") {
            #expect(waitFor(timeout: 10, interval: 1) { (try? serviceName()) == "Page Test" }, "the SDT's name")
            run.go("renamed")
        }
        let o = run.finish()
        let sections = o["sections"] as? [String] ?? []
        #expect(["program", "outputs", "source", "encoders"].allSatisfy(sections.contains), "sections: \(sections)")
        #expect(o["nameBefore"] as? String == "Studio 1")
        #expect((o["savedMessage"] as? String ?? "").hasPrefix("saved") && o["nameSaved"] as? String == "Page Test")
        let error = o["rawError"] as? String ?? ""
        #expect(error.contains("422") && error.contains("outputs[0]") && error.contains("70000"), "editor: \(error)")
        #expect(o["rawInvalid"] is String && o["outputsUnchanged"] as? Bool == true, "aria-invalid, unchanged: \(o)")
        #expect(try box.curl("GET", "/api/v1/config/outputs").body == configBefore)
        #expect((o["consoleErrors"] as? [Any])?.isEmpty == true, "\(o["consoleErrors"] ?? "")")
        print("page raw editor: \(error)")
    }
}
