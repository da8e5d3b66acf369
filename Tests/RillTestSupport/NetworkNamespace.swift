import Foundation

/// A network namespace the test creates so multicast and loss tests stay on this machine:
/// `lo` up with multicast on and a 224.0.0.0/4 route through it. Removed on `close()`.
public final class NetworkNamespace: @unchecked Sendable {
    public let name: String

    /// Creates the namespace; throws with the reason when this machine cannot (not root, no iproute2).
    public init(_ label: String) throws {
        name = "rill-\(label)-\(UUID().uuidString.prefix(6))"
        for cmd in [
            ["ip", "netns", "add", name],
            ["ip", "-n", name, "link", "set", "lo", "up"],
            ["ip", "-n", name, "link", "set", "lo", "multicast", "on"],
            ["ip", "-n", name, "route", "add", "224.0.0.0/4", "dev", "lo"],
        ] {
            let r = try runProcess(cmd, timeout: 10)
            guard r.status == 0 else {
                _ = try? runProcess(["ip", "netns", "del", name], timeout: 10)
                throw TestEnvironmentError("\(cmd.joined(separator: " ")) failed: \(r.stderr)")
            }
        }
    }

    /// `arguments` prefixed to run inside the namespace.
    public func command(_ arguments: [String]) -> [String] { ["ip", "netns", "exec", name] + arguments }

    /// Runs `arguments` inside the namespace.
    @discardableResult
    public func run(_ arguments: [String], timeout: Double = 60) throws -> ProcessResult {
        try runProcess(command(arguments), timeout: timeout)
    }

    /// Packets dropped so far by the namespace's iptables DROP rules on UDP port `port` (all chains
    /// of the filter table): the proof that an impairment happened before a test claims recovery.
    public func droppedPackets(port: Int) throws -> Int {
        let r = try run(["iptables", "-L", "-v", "-x", "-n"])
        guard r.status == 0 else { throw TestEnvironmentError("iptables -L: \(r.stderr)") }
        return r.stdout.split(separator: "\n").filter { $0.contains("DROP") && $0.contains("dpt:\(port)") }
            .compactMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).first ?? "") }.reduce(0, +)
    }

    /// UDP datagrams the namespace's kernel dropped because a socket's receive buffer was full
    /// (`RcvbufErrors` of /proc/net/snmp): losses beside any iptables rule, e.g. on a loaded CPU.
    public func udpReceiveBufferErrors() throws -> Int {
        let r = try run(["cat", "/proc/net/snmp"])
        let udp = r.stdout.split(separator: "\n").filter { $0.hasPrefix("Udp: ") }
        guard udp.count >= 2 else { throw TestEnvironmentError("/proc/net/snmp has no Udp lines") }
        let names = udp[0].split(separator: " ")
        let values = udp[1].split(separator: " ")
        guard let i = names.firstIndex(of: "RcvbufErrors"), i < values.count, let n = Int(values[i]) else {
            throw TestEnvironmentError("/proc/net/snmp has no Udp RcvbufErrors")
        }
        return n
    }

    /// Kills what is left inside and deletes the namespace.
    public func close() {
        if let pids = try? runProcess(["ip", "netns", "pids", name], timeout: 5).stdout {
            for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
        }
        _ = try? runProcess(["ip", "netns", "del", name], timeout: 10)
    }

    deinit { close() }
}

/// The machine cannot run this test as written (missing privilege or tool).
public struct TestEnvironmentError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
