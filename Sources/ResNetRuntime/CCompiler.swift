import Foundation

/// Finds and runs the host C compiler on generated code, caching shared libraries by a hash of
/// the source, the flags, the compiler's identity and the machine its flags target, so
/// recompiling an unchanged model is free and a library is never reused on another CPU.
/// The cache's layout and checks are CompileCache's; starting the compiler is ChildProcess's.
public struct CCompiler: Sendable {
    /// Flags used unless the caller or RESNETC_CFLAGS says otherwise.
    public static let defaultFlags = ["-O3", "-march=native", "-fopenmp", "-Wall", "-Wextra"]

    /// The compiler command as found (from CC, else `cc` on PATH).
    public let executable: String
    public let flags: [String]
    public let cacheDirectory: String
    /// The machine `flags` make the compiler target, resolved once (`cc FLAGS -dM -E`): part of
    /// every cache key, and what code generation sizes its tiles for.
    public let target: CompilerTarget

    /// Finds the compiler. `flags` nil means RESNETC_CFLAGS if set, else the defaults; a
    /// `machine` replaces their -march with its own.
    public init(flags: [String]? = nil, machine: TargetMachine? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let requested = environment["CC"].flatMap { $0.isEmpty ? nil : $0 } ?? "cc"
        guard let found = Self.which(requested, path: environment["PATH"] ?? "/usr/bin:/bin") else {
            throw RuntimeError("""
                C compiler '\(requested)' not found\(environment["CC"] != nil ? " (from CC)" : " on PATH").
                  hint: install one (apt-get install gcc) or set CC to a C compiler
                """)
        }
        executable = found
        let chosen = flags ?? environment["RESNETC_CFLAGS"].map { $0.split(separator: " ").map(String.init) } ?? Self.defaultFlags
        self.flags = machine.map { $0.applied(to: chosen) } ?? chosen
        cacheDirectory = CacheLocation.directory(environment: environment)
        target = try CompilerTarget.resolve(executable: found, flags: self.flags)
    }

    /// The compiler's `--version` banner; part of the cache key, so a new compiler rebuilds.
    public func identity() throws -> String {
        let result = try run(executable, ["--version"])
        return result.output.split(separator: "\n").first.map(String.init) ?? executable
    }

    /// Compiles model.c (with model.h beside it) into a shared library, reusing the cached one
    /// when source, flags and compiler are unchanged and the cached file is intact (see
    /// CompileCache). Returns the library path and whether it came from cache.
    public func compileSharedLibrary(source: String, header: String, headerName: String = "model.h",
                                     extraFlags: [String] = []) throws -> (path: String, cached: Bool) {
        var hasher = SHA256()
        for part in [source, header, flags.joined(separator: " "), extraFlags.joined(separator: " "), try identity(), target.macros] {
            hasher.update(part)
            hasher.update([0])
        }
        let key = hasher.finalizeHex()
        let cache = CompileCache(directory: cacheDirectory)
        cache.removeAbandonedFiles()
        if let library = cache.library(for: key) { return (library, true) }
        do {
            return (try build(source: source, header: header, headerName: headerName, extraFlags: extraFlags, into: cache, as: key), false)
        } catch let error as RuntimeError where error.message.contains("No space left on device") {
            throw RuntimeError("""
                \(error.message)
                  hint: the file system holding the compile cache \(cacheDirectory) is full; free some space or set RESNETC_CACHE to a directory elsewhere
                """)
        }
    }

    /// Compiles in a fresh build directory, checks that what the compiler wrote is a complete
    /// shared object (a compiler can exit 0 and still leave garbage or a truncated file, for
    /// instance on a full disk), and only then stores it in the cache as `key`.
    private func build(source: String, header: String, headerName: String, extraFlags: [String],
                       into cache: CompileCache, as key: String) throws -> String {
        let work = try cache.makeBuildDirectory(for: key)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try AtomicFile.writeNew(Data(source.utf8), to: "\(work)/model.c")
        try AtomicFile.writeNew(Data(header.utf8), to: "\(work)/\(headerName)")
        let output = "\(work)/model.so"
        let arguments = flags + extraFlags + ["-shared", "-fPIC", "-o", output, "\(work)/model.c", "-lm"]
        let result = try ChildProcess.run(executable, arguments)
        guard !result.signalled, result.status == 0 else {
            throw RuntimeError("""
                the C compiler failed (\(result.ending)):
                  \(([executable] + arguments).joined(separator: " "))
                \(result.output)
                """)
        }
        func invalid(_ reason: String) -> RuntimeError {
            RuntimeError("the C compiler '\(executable)' exited 0 but wrote an invalid library \(output): \(reason); nothing was cached")
        }
        guard let library = FileManager.default.contents(atPath: output) else { throw invalid("there is no file there") }
        if let problem = ELFSharedObject.problem(in: library) { throw invalid(problem) }
        return try cache.store(output, contents: library, as: key)
    }

    /// Runs a command, returning its exit status and combined output; the command is killed if
    /// resnetc dies before it ends (see ChildProcess).
    public func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let result = try ChildProcess.run(executable, arguments)
        return (result.status, result.output)
    }

    /// Where the shell would find `command` on `path` (a PATH value); a name with a slash is taken as it is.
    static func which(_ command: String, path: String) -> String? {
        if command.contains("/") { return FileManager.default.isExecutableFile(atPath: command) ? command : nil }
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(command)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
