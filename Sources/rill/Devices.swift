import ArgumentParser
import Capture
import Config

/// `rill devices`: the capture devices and what they offer (the API's `/api/v1/devices`).
struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List V4L2 video and ALSA audio capture devices with their formats, sizes and rates (JSON).")

    @Option(name: .long, help: "Where the device nodes are (default /dev).")
    var dev = "/dev"

    func run() throws {
        print(DeviceInventory.json(devDirectory: dev).pretty)
    }
}
