import ArgumentParser
import FrameRing
import Runtime

#if canImport(Glibc)
import Glibc
#endif

/// `rill ring ls`: the rings in /dev/shm, their writers and readers.
struct RingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ring", abstract: "Inspect shared-memory rings.",
        subcommands: [List.self, RingWrite.self, RingRead.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List rings, writers and readers.")

        @Option(name: .long, help: "Only rings of this instance.")
        var instance: String?

        func run() throws {
            let now = MonotonicClock.now()
            for name in SharedRing.list(instance: instance) {
                do {
                    let r = try SharedRing.open(name: name)
                    let f = r.format
                    let age = (now &- r.lastHeartbeat) / 1_000_000
                    // A corrupt pid field reads as a gone writer, never a trap.
                    let alive = pid_t(exactly: r.writerProcess).map { $0 > 0 && kill($0, 0) == 0 } ?? false
                    print(
                        "\(name)  \(r.kind)  \(f.codec)  slots \(r.slotCount)×\(r.slotBytes)  records \(r.publishedCount)  gen \(r.generation)  writer \(r.writerProcess)\(alive ? "" : " (gone)") beat \(age) ms ago"
                    )
                    for rd in r.readers {
                        print(
                            "    reader pid \(rd.pid)  cursor \(rd.cursor)  behind \(r.publishedCount &- rd.cursor)  lost \(rd.lost)  seen \((now - rd.seen) / 1_000_000) ms ago"
                        )
                    }
                } catch {
                    print("\(name)  error: \(error)")
                }
            }
        }
    }
}
