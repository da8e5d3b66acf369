import Foundation
import RillTestSupport
import Runtime
import Testing

@testable import Box

/// The run-directory fallback rilld uses and `rill status` follows.
@Suite("Run directory fallback")
struct RunDirectoryTests {
    @Test("candidates: the preferred directory, then $XDG_RUNTIME_DIR/rill when set, then /tmp/rill-<uid>")
    func candidates() {
        #expect(
            RunDirectory.candidates(preferred: "/run/rill", xdgRuntimeDirectory: "/run/user/1000", uid: 1000)
                == ["/run/rill", "/run/user/1000/rill", "/tmp/rill-1000"])
        #expect(
            RunDirectory.candidates(preferred: "/run/rill", xdgRuntimeDirectory: nil, uid: 0)
                == ["/run/rill", "/tmp/rill-0"])
        #expect(
            RunDirectory.candidates(preferred: "/run/rill", xdgRuntimeDirectory: "", uid: 7)
                == ["/run/rill", "/tmp/rill-7"])
    }

    @Test("a preferred directory that can be made is used as it is, and made")
    func preferredUsable() {
        let dir = makeTemporaryDirectory("rundir-ok")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let preferred = "\(dir)/a/b/run"
        #expect(
            RunDirectory.usable(preferred, xdgRuntimeDirectory: "\(dir)/xdg", uid: 1, log: Log(stage: "test"))
                == preferred)
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: preferred, isDirectory: &isDirectory) && isDirectory.boolValue)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/xdg/rill"))
    }

    @Test(
        "a preferred directory that cannot be made (below a regular file, even for root) falls back to $XDG_RUNTIME_DIR/rill"
    )
    func fallsBackToXDG() throws {
        let dir = makeTemporaryDirectory("rundir-xdg")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "not a directory".write(toFile: "\(dir)/file", atomically: true, encoding: .utf8)
        let chosen = RunDirectory.usable(
            "\(dir)/file/run", xdgRuntimeDirectory: "\(dir)/xdg", uid: 1, log: Log(stage: "test"))
        #expect(chosen == "\(dir)/xdg/rill")
        #expect(access(chosen, W_OK) == 0)
    }

    @Test("the first usable candidate wins; none usable gives nil (rilld then keeps the preferred one)")
    func firstUsable() throws {
        let dir = makeTemporaryDirectory("rundir-first")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "x".write(toFile: "\(dir)/file", atomically: true, encoding: .utf8)
        #expect(RunDirectory.firstUsable(["\(dir)/file/a", "\(dir)/file/b", "\(dir)/c"]) == "\(dir)/c")
        #expect(RunDirectory.firstUsable(["\(dir)/file/a", "\(dir)/file/b"]) == nil)
        // An unused uid, so that /tmp/rill-<uid> is this test's own.
        let uid = UInt32.random(in: 3_000_000_000...4_000_000_000)
        defer { try? FileManager.default.removeItem(atPath: "/tmp/rill-\(uid)") }
        #expect(
            RunDirectory.usable(
                "\(dir)/file/a", xdgRuntimeDirectory: "\(dir)/file/b", uid: uid, log: Log(stage: "test"))
                == "/tmp/rill-\(uid)")
    }
}
