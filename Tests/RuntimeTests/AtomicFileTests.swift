import Foundation
import Runtime
import Testing

@Suite("AtomicFile")
struct AtomicFileTests {
    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "rill-atomicfile-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func isDirectory(_ path: String) -> Bool {
        var dir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &dir) && dir.boolValue
    }

    /// A top-level name that must not appear in `/` (the bug created it there).
    static let probe = "rill-mkdir-probe-\(UUID().uuidString.prefix(8))"

    @Test("makeDirectories keeps a relative path relative to the working directory (it used to create /conf)")
    func relativePath() throws {
        let cwd = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: cwd) }
        let fd = open(cwd, O_RDONLY | O_DIRECTORY)
        try #require(fd >= 0)
        defer { close(fd) }
        #expect(!FileManager.default.fileExists(atPath: "/" + Self.probe))
        // The directory fd stands for the working directory (mkdirat resolves relative names
        // against it exactly as mkdir does against the cwd), without changing the test process's cwd.
        try AtomicFile.makeDirectories("\(Self.probe)/conf/deeper", relativeTo: fd)
        let created = FileManager.default.fileExists(atPath: "/" + Self.probe)
        if created { try? FileManager.default.removeItem(atPath: "/" + Self.probe) }
        #expect(!created, "a relative path was created under /")
        #expect(Self.isDirectory("\(cwd)/\(Self.probe)/conf/deeper"))
        // Idempotent, and "./x", "x//y" forms work.
        try AtomicFile.makeDirectories("\(Self.probe)/conf/deeper", relativeTo: fd)
        try AtomicFile.makeDirectories("./\(Self.probe)//conf/other/", relativeTo: fd)
        #expect(Self.isDirectory("\(cwd)/\(Self.probe)/conf/other"))
        // Absolute paths stay absolute.
        try AtomicFile.makeDirectories("\(cwd)/abs/a/b", relativeTo: fd)
        #expect(Self.isDirectory("\(cwd)/abs/a/b"))
    }

    @Test("a component that is a file is ENOTDIR naming it")
    func fileInTheWay() throws {
        let cwd = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: cwd) }
        try "x".write(toFile: "\(cwd)/file", atomically: false, encoding: .utf8)
        do {
            try AtomicFile.makeDirectories("\(cwd)/file/sub")
            Issue.record("created a directory under a file")
        } catch let e as SystemError {
            #expect(e.errno == ENOTDIR && e.subject.hasSuffix("/file"), "\(e)")
        }
    }

    @Test("rill passwd --credentials conf/c.json in a temporary working directory writes ./conf/c.json")
    func passwdRelativeCredentials() throws {
        var root = URL(fileURLWithPath: #filePath)
        while root.path != "/"
            && !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path)
        {
            root.deleteLastPathComponent()
        }
        let rill = ProcessInfo.processInfo.environment["RILL_BINARY"] ?? root.path + "/.build/debug/rill"
        try #require(FileManager.default.isExecutableFile(atPath: rill), "build rill first: \(rill)")
        let cwd = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: cwd) }
        let dir = "\(Self.probe)-passwd"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: rill)
        p.arguments = ["passwd", "--credentials", "\(dir)/c.json"]
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        let input = Pipe()
        p.standardInput = input
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        input.fileHandleForWriting.write(Data("correct horse battery\n".utf8))
        try input.fileHandleForWriting.close()
        p.waitUntilExit()
        let created = FileManager.default.fileExists(atPath: "/" + dir)
        if created { try? FileManager.default.removeItem(atPath: "/" + dir) }
        #expect(p.terminationStatus == 0)
        #expect(!created, "rill passwd created /\(dir)")
        #expect(FileManager.default.fileExists(atPath: "\(cwd)/\(dir)/c.json"))
    }
}
