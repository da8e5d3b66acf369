import ArgumentParser
import Config
import Runtime
import Transport

#if canImport(Glibc)
import Glibc
#endif

/// Reads and validates a config file; on error prints the field path and exits 2.
func loadConfig(_ path: String) throws -> (RillConfig, String) {
    let text: String
    do {
        text = try AtomicFile.read(path)
    } catch {
        printError("rill: cannot read config \(path): \(error)")
        throw ExitCode(2)
    }
    do {
        var config = try RillConfig.decode(text)
        if let sdp = config.source.sdpFile { config.source.url = try SDPInput.url(fromFile: sdp) }
        return (config, text)
    } catch let e as ConfigError {
        printError("rill: config \(path): \(e)")
        throw ExitCode(2)
    } catch {
        printError("rill: config \(path): \(error)")
        throw ExitCode(2)
    }
}

func printError(_ s: String) {
    var line = Array((s + "\n").utf8)
    line.withUnsafeMutableBytes { _ = write(2, $0.baseAddress, $0.count) }
}

/// The absolute path of this executable (what the supervisor spawns).
func executablePath() -> String {
    var buf = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buf, buf.count - 1)
    return n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
}
