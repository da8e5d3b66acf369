import ArgumentParser

/// `rill`: one executable, a subcommand per role (DESIGN.md). `rill run` is the box; the stage
/// subcommands are what the supervisor spawns.
@main
struct Rill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rill",
        abstract: "Rill contribution encoder: test source → x264/AAC → native TS mux → paced RTP/UDP.",
        subcommands: [
            Run.self, Ctl.self, Passwd.self, TokenCommand.self, Stage.self, Check.self, Status.self, RingCommand.self,
            SDPCommand.self, Probe.self, Devices.self, EncoderCheck.self,
        ])
}
