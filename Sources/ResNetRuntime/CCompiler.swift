import Foundation

/// Finds and runs the host C compiler on generated code, caching shared libraries by a hash of
/// the source, the flags and the compiler's identity, so recompiling an unchanged model is free.
public struct CCompiler: Sendable {
    /// Flags used unless the caller or RESNETC_CFLAGS says otherwise.
    public static let defaultFlags = ["-O3", "-march=native", "-fopenmp", "-Wall", "-Wextra"]

    /// The compiler command as found (from CC, else `cc` on PATH).
    public let executable: String
    public let flags: [String]
    public let cacheDirectory: String

    /// Finds the compiler. `flags` nil means RESNETC_CFLAGS if set, else the defaults.
    public init(flags: [String]? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let requested = environment["CC"].flatMap { $0.isEmpty ? nil : $0 } ?? "cc"
        guard let found = Self.which(requested, path: environment["PATH"] ?? "/usr/bin:/bin") else {
            throw RuntimeError("""
                C compiler '\(requested)' not found\(environment["CC"] != nil ? " (from CC)" : " on PATH").
                  hint: install one (apt-get install gcc) or set CC to a C compiler
                """)
        }
        executable = found
        self.flags = flags ?? environment["RESNETC_CFLAGS"].map { $0.split(separator: " ").map(String.init) } ?? Self.defaultFlags
        let home = environment["HOME"] ?? NSTemporaryDirectory()
        cacheDirectory = environment["RESNETC_CACHE"] ?? (environment["XDG_CACHE_HOME"] ?? home + "/.cache") + "/resnetc"
    }

    /// The compiler's `--version` banner; part of the cache key, so a new compiler rebuilds.
    public func identity() throws -> String {
        let result = try run(executable, ["--version"])
        return result.output.split(separator: "\n").first.map(String.init) ?? executable
    }

    /// Compiles model.c (with model.h beside it) into a shared library, reusing the cached one
    /// when source, flags and compiler are unchanged. Returns the library path and whether it came from cache.
    public func compileSharedLibrary(source: String, header: String, headerName: String = "model.h",
                                     extraFlags: [String] = []) throws -> (path: String, cached: Bool) {
        var hasher = SHA256()
        for part in [source, header, flags.joined(separator: " "), extraFlags.joined(separator: " "), try identity()] {
            hasher.update(part)
            hasher.update([0])
        }
        let key = hasher.finalizeHex()
        let library = "\(cacheDirectory)/\(key).so"
        if FileManager.default.fileExists(atPath: library) { return (library, true) }
        try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        let work = "\(cacheDirectory)/build-\(key)-\(ProcessInfo.processInfo.processIdentifier)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try source.write(toFile: "\(work)/model.c", atomically: true, encoding: .utf8)
        try header.write(toFile: "\(work)/\(headerName)", atomically: true, encoding: .utf8)
        let arguments = flags + extraFlags + ["-shared", "-fPIC", "-o", "\(work)/model.so", "\(work)/model.c", "-lm"]
        let result = try run(executable, arguments)
        guard result.status == 0 else {
            throw RuntimeError("""
                the C compiler failed (exit \(result.status)):
                  \(([executable] + arguments).joined(separator: " "))
                \(result.output)
                """)
        }
        if rename("\(work)/model.so", library) != 0 {
            throw RuntimeError("cannot move the compiled library to \(library): \(String(cString: strerror(errno)))")
        }
        return (library, false)
    }

    /// Runs a command, returning its exit status and combined output.
    public func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch {
            throw RuntimeError("cannot run \(executable): \(error.localizedDescription)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func which(_ command: String, path: String) -> String? {
        if command.contains("/") { return FileManager.default.isExecutableFile(atPath: command) ? command : nil }
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(command)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
