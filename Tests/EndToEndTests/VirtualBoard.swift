import Foundation
import RillTestSupport

/// One boot of the virtual board (Board/qemu-virt/run.sh) for a suite.
enum VirtualBoard {
    /// The kernel, modules and initramfs: Tests/run.sh prepares them before any test; a suite run
    /// on its own prepares them here, outside the boot's deadline (minutes on a fresh machine).
    static let prepareTimeout: Double = 1200

    /// The `rill` the guest runs: `RILL_VM_BINARY` (Tests/run.sh builds a release binary for it: the
    /// product as shipped, and about half the CPU of a debug build under emulation), else the one
    /// the tests were built with.
    static var binary: String { ProcessInfo.processInfo.environment["RILL_VM_BINARY"] ?? rillBinary() }

    /// A new share directory (the guest's /tmp/out) holding the `rill` the guest runs and the file
    /// that tells the guest script where it is (the guest sees the host root read-only but has its
    /// own /tmp, so the binary travels in the share).
    static func makeShare(_ label: String) throws -> String {
        let share = makeTemporaryDirectory(label)
        try FileManager.default.copyItem(atPath: binary, toPath: "\(share)/rill")
        try "/tmp/out/rill".write(toFile: "\(share)/rill-path", atomically: true, encoding: .utf8)
        return share
    }

    /// Runs `guest` (a script under Tests/vm) with `share` as its /tmp/out. `vmTimeout` bounds one
    /// boot (s) and is sized for TCG on 2 cores; a KVM boot that fails is run again under TCG, so
    /// the whole run may take two boots.
    static func boot(guest: String, share: String, vmTimeout: Int) throws -> ProcessResult {
        let prepare = try runProcess([packageRoot() + "/Board/qemu-virt/prepare.sh"], timeout: prepareTimeout)
        guard prepare.status == 0 else {
            throw TestEnvironmentError(
                "Board/qemu-virt/prepare.sh exit \(prepare.status): \(prepare.stderr.suffix(1500))")
        }
        let r = try runProcess(
            [
                "VM_TIMEOUT=\(vmTimeout)", packageRoot() + "/Board/qemu-virt/run.sh",
                packageRoot() + "/Tests/vm/" + guest, share,
            ],
            timeout: Double(2 * vmTimeout + 60))
        // Which accelerator ran it, and any fallback, for the test log.
        for line in r.stderr.split(separator: "\n") where line.hasPrefix("qemu-virt:") { print(line) }
        return r
    }
}
