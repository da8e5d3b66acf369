import ArgumentParser
import Config
import Transport

/// `rill sdp --config FILE --output ID`: prints the SDP of an RTP output.
struct SDPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sdp", abstract: "Print the SDP file of an rtp:// output.")

    @Option(name: .long, help: "Config file (JSON).")
    var config: String

    @Option(name: .long, help: "Output id.")
    var output: String

    func run() throws {
        let (cfg, _) = try loadConfig(config)
        guard let o = cfg.outputs.first(where: { $0.id == output }), o.url.scheme == "rtp" else {
            printError("rill sdp: no rtp:// output \"\(output)\" in the config")
            throw ExitCode(2)
        }
        print(OutputSDP.describe(o, serviceName: cfg.program.serviceName).text, terminator: "")
    }
}
