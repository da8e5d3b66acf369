import Foundation
import RillTestSupport
import Testing

/// The integer in a figure as the page prints it ("1 234" with a narrow space; "—" is nil).
private func figure(_ text: Any?) -> Int? {
    let digits = String(describing: text ?? "").filter(\.isNumber)
    return digits.isEmpty ? nil : Int(digits)
}

/// SRT peers on the page (issue 11: "An SRT output with two srt-live-transmit clients shows both
/// peers with moving RTT/loss figures; killing one client removes it within 2 s").
extension PageBrowserTests {
    @Test(
        "an SRT listener with two srt-live-transmit clients (one behind 3 % loss): both peers on the card with live RTT/loss/retransmission charts, the lossy one's loss rising; a killed client's row gone within 2 s"
    )
    func srtPeers() throws {
        let ns = try NetworkNamespace("pagesrt")
        defer { ns.close() }
        let (port, lossy, clean) = (5330, 5331, 5332)
        // The impairment: 3 % of the datagrams to the first client are dropped.
        let rule = try ns.run([
            "iptables", "-A", "INPUT", "-p", "udp", "--sport", "\(port)", "--dport", "\(lossy)", "-m", "statistic",
            "--mode", "random", "--probability", "0.03", "-j", "DROP",
        ])
        #expect(rule.status == 0, "iptables: \(rule.stderr)")
        let box = try APIBox(
            label: "pagesrt", port: 18304, outputs: #"{ "id": "srt", "url": "srt://:\#(port)" }"#, namespace: ns,
            adminPassword: pageTestPassword)
        defer { box.box.stop() }
        #expect(waitFor(timeout: 20) { box.box.log.contains("listening on") }, "\(box.box.log.suffix(800))")
        let dir = box.box.directory
        let clients = try [lossy, clean].map { local in
            try PeerProcess(
                ns.command(["srt-live-transmit", "-q", "srt://127.0.0.1:\(port)?port=\(local)", "file://con"]),
                output: "\(dir)/client-\(local).ts")
        }
        defer { for c in clients { c.stop(SIGKILL) } }
        #expect(waitFor(timeout: 15) { clients.allSatisfy { $0.bytes > 100_000 } }, "\(box.box.log.suffix(800))")

        let peers = ["127.0.0.1:\(lossy)", "127.0.0.1:\(clean)"]
        let run = try BrowserRun(
            "srt.py", box: box, arguments: ["--id", "srt", "--peer", peers[0], "--peer", peers[1], "--seconds", "8"])
        var killedAt = Date()
        if run.reached("kill") {
            killedAt = Date()
            clients[1].stop(SIGTERM)
            run.go("kill")
        }
        let o = run.finish()
        let goneAfter = Date().timeIntervalSince(killedAt)

        // First the impairment: iptables dropped datagrams to the lossy client.
        let counters = try ns.run(["iptables", "-L", "INPUT", "-v", "-x", "-n"]).stdout
        let drops = counters.split(separator: "\n").filter { $0.contains("DROP") }.compactMap {
            Int($0.split(separator: " ").first ?? "")
        }
        #expect(drops.count == 1 && drops[0] > 0, "iptables dropped nothing: \(counters)")

        let samples = o["samples"] as? [[String: [String: Any]]] ?? []
        #expect(samples.count == 8)
        #expect(samples.allSatisfy { Set($0.keys) == Set(peers) }, "peer rows: \(samples.map { $0.keys.sorted() })")
        for peer in peers {
            let rows = samples.compactMap { $0[peer] }
            guard let first = rows.first, let last = rows.last else { continue }
            let rtts = rows.compactMap { Double(($0["rtt"] as? String ?? "").replacingOccurrences(of: ",", with: ".")) }
            #expect(rtts.count == rows.count && rtts.allSatisfy { $0 >= 0 && $0 < 50 }, "\(peer) RTT \(rtts)")
            // The charts move: each of RTT, loss and retransmissions gains points second by second.
            let before = first["spark"] as? [Int] ?? []
            let after = last["spark"] as? [Int] ?? []
            #expect(
                before.count == 3 && after.count == 3 && zip(before, after).allSatisfy { $1 > $0 },
                "\(peer) sparkline points \(before) → \(after)")
        }
        let lossyRows = samples.compactMap { $0[peers[0]] }
        let lost = lossyRows.compactMap { figure($0["loss"]) }
        let retransmitted = lossyRows.compactMap { figure($0["retrans"]) }
        #expect(lost.count == 8 && lost.last ?? 0 > lost.first ?? 0, "lossy peer's loss figures \(lost)")
        #expect(retransmitted.last ?? 0 > retransmitted.first ?? 0, "retransmissions \(retransmitted)")
        let cleanLost = samples.compactMap { figure($0[peers[1]]?["loss"]) }
        #expect(cleanLost.allSatisfy { $0 == 0 }, "the clean peer lost \(cleanLost)")
        #expect(o["cardState"] as? String == "warn", "card state with recent loss: \(o["cardState"] ?? "")")

        // The killed client: its row gone within 2 s, the other stays.
        let gone = o["goneSeconds"] as? Double ?? 99
        #expect(gone <= 2, "the killed client's row stayed \(gone) s")
        #expect(o["rowsAfter"] as? [String] == [peers[0]] && o["rowsLater"] as? [String] == [peers[0]])
        #expect((o["consoleErrors"] as? [Any])?.isEmpty == true, "\(o["consoleErrors"] ?? "")")
        print(
            "page SRT: lossy peer lost \(lost), retransmitted \(retransmitted); iptables dropped \(drops); killed row gone after \(gone) s (scenario end \(String(format: "%.1f", goneAfter)) s)"
        )
    }
}
