import Testing

/// Tags that say what a suite needs from the machine, so the unit tests can be run alone
/// (README, Tests): `swift test --skip-build --skip EndToEndTests --skip tag:peer`.
extension Tag {
    /// Runs `rill` itself (a box, stages, subcommands) and checks it from outside.
    @Tag public static var endToEnd: Self
    /// Needs root: network namespaces, iptables, tshark capturing on an interface, mounts.
    @Tag public static var needsRoot: Self
    /// Needs an independent peer from Debian on PATH: FFmpeg/ffprobe, GStreamer, srt-live-transmit,
    /// ristsender/ristreceiver, tshark, curl or Python's http.server.
    @Tag public static var peer: Self
    /// Boots the virtual board (qemu, minutes under TCG).
    @Tag public static var virtualBoard: Self
}
