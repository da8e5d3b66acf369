import Config
import Runtime
import Synchronization
import Transport

#if canImport(Glibc)
import Glibc
#endif

/// The box's configuration on disk: a main file plus an optional directory of section files
/// (`conf.d/NN-name.json`, each an object holding one or more whole sections, read in name order).
/// A section lives in exactly one file. A file the process cannot write — or one with no write
/// permission bits, the operator's explicit lock — makes its sections read-only. Every change is
/// validated as a whole before anything is written, and each file is replaced atomically
/// (`AtomicFile`), so a crash leaves every file old or new.
public final class ConfigStore: Sendable {
    /// Why the config could not be read, validated or written.
    public enum Failure: Error, CustomStringConvertible, Sendable {
        /// A file is not valid JSON (file, position).
        case syntax(file: String, JSONError)
        /// The merged config is invalid (JSON path, reason), optionally in a known file.
        case invalid(ConfigError, file: String?)
        /// The change touches a section whose file cannot be written.
        case readOnly(section: String, file: String)
        /// Not a section name.
        case unknownSection(String)
        /// The layout itself is wrong (a section in two files, a file that is not an object).
        case layout(String)
        /// Reading or writing failed.
        case io(String)

        /// One line naming the file, section or JSON path where known.
        public var description: String {
            switch self {
            case .syntax(let f, let e): "\(f): \(e)"
            case .invalid(let e, let f): (f.map { "\($0): " } ?? "") + "\(e)"
            case .readOnly(let s, let f): "section \(s) is read-only: \(f) is not writable"
            case .unknownSection(let s):
                "\"\(s)\" is not a config section (\(RillConfig.sections.joined(separator: ", ")))"
            case .layout(let s): s
            case .io(let s): s
            }
        }
    }

    struct State {
        var sections: [String: JSON] = [:]
        var fileOf: [String: String] = [:]
        var config = RillConfig()
    }

    /// The main config file (sections not in the directory live here; new sections go here).
    public let mainFile: String
    /// The section directory, if any.
    public let directory: String?
    private let state: Mutex<State>

    /// Loads and validates `mainFile` and the `*.json` files of `directory`.
    public init(mainFile: String, directory: String?) throws(Failure) {
        self.mainFile = mainFile
        self.directory = directory
        var s = State()
        var files = [mainFile]
        if let directory { files += try Self.sectionFiles(in: directory) }
        for file in files {
            let text: String
            do { text = try AtomicFile.read(file) } catch { throw .io("cannot read \(file): \(error)") }
            let json: JSON
            do { json = try JSONParser.parse(text) } catch { throw .syntax(file: file, error) }
            guard case .object(let members) = json else {
                throw .layout("\(file): must be a JSON object of config sections")
            }
            for (name, value) in members {
                guard RillConfig.sections.contains(name) else {
                    throw .invalid(ConfigError(path: name, reason: "unknown section"), file: file)
                }
                if let other = s.fileOf[name] { throw .layout("section \(name) is in both \(other) and \(file)") }
                s.fileOf[name] = file
                s.sections[name] = value
            }
        }
        do throws(ConfigError) {
            s.config = try Self.resolve(RillConfig.decode(Self.document(s.sections)))
        } catch {
            throw .invalid(error, file: s.fileOf[error.section])
        }
        state = Mutex(s)
    }

    /// The section directory used when none is given: `conf.d` beside the main file, if it exists.
    public static func defaultDirectory(for mainFile: String) -> String? {
        let d = AtomicFile.directory(of: mainFile) + "/conf.d"
        return access(d, F_OK) == 0 ? d : nil
    }

    /// `*.json` in `directory`, sorted by name (temp files of interrupted saves are ignored).
    static func sectionFiles(in directory: String) throws(Failure) -> [String] {
        guard let d = opendir(directory) else {
            if errno == ENOENT { return [] }
            throw .io("cannot read directory \(directory): \(String(cString: strerror(errno)))")
        }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".json"), !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted().map { "\(directory)/\($0)" }
    }

    /// The merged document, sections in canonical order.
    static func document(_ sections: [String: JSON]) -> JSON {
        .object(RillConfig.sections.compactMap { name in sections[name].map { (name, $0) } })
    }

    /// The current validated config.
    public var config: RillConfig { state.withLock { $0.config } }

    /// The current merged document.
    public var document: JSON { state.withLock { Self.document($0.sections) } }

    /// One section's value (nil: absent, defaults apply).
    public func section(_ name: String) throws(Failure) -> JSON? {
        guard RillConfig.sections.contains(name) else { throw .unknownSection(name) }
        return state.withLock { $0.sections[name] }
    }

    /// The file holding `section` (or that would receive it).
    public func file(of section: String) -> String { state.withLock { $0.fileOf[section] ?? mainFile } }

    /// Whether the process may replace `file`: the file (if it exists) and its directory are
    /// writable, and the file keeps at least one write permission bit (root ignores permissions,
    /// so a file with none is taken as the operator's lock).
    public static func isWritable(_ file: String) -> Bool {
        var st = stat()
        if stat(file, &st) == 0 {
            if st.st_mode & 0o222 == 0 || access(file, W_OK) != 0 { return false }
        }
        return access(AtomicFile.directory(of: file), W_OK) == 0
    }

    /// Replaces the given sections (nil removes one, so its defaults apply), validating the whole
    /// config first; on any error nothing is written. Returns the new config and the names of the
    /// sections whose value changed.
    public func update(_ changes: [(String, JSON?)]) throws(Failure) -> (RillConfig, [String]) {
        for (name, _) in changes where !RillConfig.sections.contains(name) { throw .unknownSection(name) }
        return try state.withLock { (s: inout State) throws(Failure) -> (RillConfig, [String]) in
            var sections = s.sections
            var changed: [String] = []
            for (name, value) in changes where sections[name] != value {
                sections[name] = value
                changed.append(name)
            }
            let config: RillConfig
            do throws(ConfigError) {
                config = try Self.resolve(RillConfig.decode(Self.document(sections)))
            } catch {
                throw .invalid(error, file: s.fileOf[error.section] ?? mainFile)
            }
            guard !changed.isEmpty else { return (config, []) }
            let files = Set(changed.map { s.fileOf[$0] ?? mainFile })
            for name in changed {
                let f = s.fileOf[name] ?? mainFile
                if !Self.isWritable(f) { throw .readOnly(section: name, file: f) }
            }
            for file in files.sorted() {
                var fileSections: [(String, JSON)] = []
                for name in RillConfig.sections where (s.fileOf[name] ?? mainFile) == file {
                    if let v = sections[name] { fileSections.append((name, v)) }
                }
                do {
                    try AtomicFile.write(JSON.object(fileSections).pretty, to: file, mode: 0o640)
                } catch {
                    throw .io("cannot write \(file): \(error)")
                }
            }
            for name in changed where s.fileOf[name] == nil { s.fileOf[name] = mainFile }
            s.sections = sections
            s.config = config
            return (config, changed)
        }
    }
}

extension ConfigError {
    /// The top-level section a path points into ("outputs" for `outputs[1].url`).
    public var section: String {
        String(path.prefix { $0 != "." && $0 != "[" })
    }
}

extension ConfigStore {
    /// Reads what the config points at: a gateway's SDP file becomes its input URL (a malformed
    /// or unreadable file is a config error naming `source.sdp`, the file and the SDP line).
    static func resolve(_ config: RillConfig) throws(ConfigError) -> RillConfig {
        guard let sdp = config.source.sdpFile else { return config }
        var c = config
        do {
            c.source.url = try SDPInput.url(fromFile: sdp)
        } catch let e as ConfigError {
            throw e
        } catch {
            throw ConfigError(path: "source.sdp", reason: "\(sdp): \(error)")
        }
        return c
    }
}
