import Foundation
@testable import ResNetRuntime
import Testing
import TestSupport

/// The compile cache against what disks and compilers do to it: a truncated library, a compiler
/// that exits 0 after writing garbage, a compile killed mid-way. Nothing bad is ever loaded or
/// cached, leftovers are cleared by the next compile, and a killed resnetc takes its compiler with it.
@Suite struct CompileCacheTests {
    /// A library that compiles in a blink, with one function to call once it is loaded.
    static let source = "int resnetc_answer(void) { return 42; }\n"


    /// A compiler at -O0 whose cache is `cache`; `cc` replaces the host's C compiler.
    func compiler(cache: String, cc: String? = nil) throws -> CCompiler {
        var environment = ProcessInfo.processInfo.environment
        environment["RESNETC_CACHE"] = cache
        if let cc { environment["CC"] = cc }
        return try CCompiler(flags: ["-O0"], environment: environment)
    }

    /// Writes an executable shell script standing in for the C compiler. It answers `--version`
    /// with `version` and otherwise runs `body`, with the `-o` argument in `$out`.
    func fakeCompiler(in directory: String, version: String = "fake-cc 1.0", _ body: String) throws -> String {
        let path = "\(directory)/fake-cc"
        try """
            #!/bin/sh
            if [ "$1" = --version ]; then echo '\(version)'; exit 0; fi
            case " $* " in *" -dM "*) echo '#define __fake_cc__ 1'; exit 0;; esac
            out=""; previous=""
            for argument in "$@"; do
              if [ "$previous" = -o ]; then out="$argument"; fi
              previous="$argument"
            done
            \(body)

            """.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(chmod(path, 0o755) == 0)
        return path
    }

    /// Loads `library` and calls its `resnetc_answer`.
    func answer(from library: String) throws -> Int32 {
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else {
            throw RuntimeError("cannot load \(library): \(dlerror().map { String(cString: $0) } ?? "unknown error")")
        }
        let symbol = try #require(dlsym(handle, "resnetc_answer"))
        typealias Answer = @convention(c) () -> Int32
        return unsafeBitCast(symbol, to: Answer.self)()
    }

    func size(of path: String) throws -> Int { try Data(contentsOf: URL(fileURLWithPath: path)).count }

    @Test func truncatedOrUnrecordedLibraryIsRebuiltNotLoaded() throws {
        let compiler = try compiler(cache: try Scratch.directory())
        let first = try compiler.compileSharedLibrary(source: Self.source, header: "")
        #expect(!first.cached && FileManager.default.fileExists(atPath: first.path + ".json"), "an entry is a library and its record")
        #expect(try compiler.compileSharedLibrary(source: Self.source, header: "").cached)

        #expect(truncate(first.path, off_t(try size(of: first.path) / 2)) == 0)
        let rebuilt = try compiler.compileSharedLibrary(source: Self.source, header: "")
        #expect(rebuilt.path == first.path && !rebuilt.cached, "a truncated library is rebuilt, never handed to dlopen")

        try FileManager.default.removeItem(atPath: first.path + ".json")
        let unrecorded = try compiler.compileSharedLibrary(source: Self.source, header: "")
        #expect(!unrecorded.cached, "a library without its record (an older resnetc's cache) is rebuilt")
        #expect(try answer(from: unrecorded.path) == 42)
        #expect(try compiler.compileSharedLibrary(source: Self.source, header: "").cached)
    }

    @Test func compilerThatExitsZeroWithABadLibraryCachesNothing() throws {
        let realCompiler = try CCompiler().executable
        let cases: [(what: String, body: String, reason: String)] = [
            ("garbage", #"yes 'not a library' | head -c 4096 > "$out""#, "not an ELF file"),
            ("a few bytes", #"printf 'xy' > "$out""#, "only 2 bytes long"),
            ("a truncated library", "'\(realCompiler)' \"$@\" || exit 1\ntruncate -s 3000 \"$out\"", "past the end of the file"),
            ("nothing", "true", "there is no file there"),
        ]
        for (what, body, reason) in cases {
            let directory = try Scratch.directory(), cache = directory + "/cache"
            let compiler = try compiler(cache: cache, cc: try fakeCompiler(in: directory, body))
            let text = Scratch.errorText { _ = try compiler.compileSharedLibrary(source: Self.source, header: "") }
            #expect(text.contains("exited 0 but wrote an invalid library") && text.contains(reason), "\(what): \(text)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: cache) == [], "\(what): nothing is cached or left behind")
        }
    }

    @Test func abandonedBuildsAndTemporariesAreRemovedAndNothingElse() throws {
        let cache = try Scratch.directory()
        let gone = try finishedProcessID(), key = String(repeating: "ab", count: 32)
        let abandoned = ["build-\(key)-\(gone)-17", "build-\(key)-\(gone)", ".\(key).so.tmp-\(gone)-5", ".\(key).so.json.tmp-\(gone)-9"]
        let tooOld = "build-\(key)-\(getpid())-4"
        let running = "build-\(key)-\(getpid())-3"
        let unrelated = ["notes.txt", "build-notes", "build-\(key)-12x", "build-\(key)-", ".tmp-\(gone)-1",
                         ".\(key).so.tmp-notapid", ".\(key).bak.tmp-\(gone)-1", "\(key).so.bak"]
        for name in abandoned + [tooOld, running] + unrelated {
            if name.hasPrefix("build-") {
                try FileManager.default.createDirectory(atPath: "\(cache)/\(name)", withIntermediateDirectories: false)
                try "x".write(toFile: "\(cache)/\(name)/model.c", atomically: false, encoding: .utf8)
            } else {
                try "x".write(toFile: "\(cache)/\(name)", atomically: false, encoding: .utf8)
            }
        }
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -2 * CompileCache.abandonedAfter)],
                                              ofItemAtPath: "\(cache)/\(tooOld)")
        _ = try compiler(cache: cache).compileSharedLibrary(source: Self.source, header: "")
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: cache))
        for name in abandoned + [tooOld] { #expect(!left.contains(name), "\(name) is removed") }
        for name in unrelated + [running] { #expect(left.contains(name), "\(name) is kept") }
    }

    @Test func elfCheckRefusesTruncatedAndForeignFiles() throws {
        let library = try compiler(cache: try Scratch.directory()).compileSharedLibrary(source: Self.source, header: "").path
        let bytes = try Data(contentsOf: URL(fileURLWithPath: library))
        #expect(ELFSharedObject.problem(in: bytes) == nil)
        for length in [0, 3, 20, 63, 64, bytes.count / 2, bytes.count - 1] {
            #expect(ELFSharedObject.problem(in: bytes.prefix(length)) != nil, "\(length) of \(bytes.count) bytes is refused")
        }
        var executable = bytes
        executable[bytes[5] == 1 ? 16 : 17] = 2 // e_type ET_EXEC
        #expect(ELFSharedObject.problem(in: executable)?.contains("an executable, not a shared object") == true)
        var otherClass = bytes
        otherClass[4] = bytes[4] == 2 ? 1 : 2
        #expect(ELFSharedObject.problem(in: otherClass)?.contains("-bit ELF file; this machine loads") == true)
    }

    @Test(.enabled(if: ChildProcess.deathSignalLauncher != nil, "needs util-linux setpriv with --pdeathsig"))
    func killedCompileTakesItsCompilerAlongAndItsLeftoversGo() throws {
        let directory = try Scratch.directory(), cache = directory + "/cache", pidFile = directory + "/compiler.pid"
        let sleepy = try fakeCompiler(in: directory, version: "sleepy-cc 1.0", """
            sleep 30 &
            echo $! > '\(pidFile).part' && mv '\(pidFile).part' '\(pidFile)'
            wait
            """)
        let log = directory + "/resnetc.log"
        #expect(FileManager.default.createFile(atPath: log, contents: nil))
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let resnetc = Process()
        resnetc.executableURL = URL(fileURLWithPath: try resnetcExecutable())
        resnetc.arguments = ["compile", try TestSpecs.file(TestSpecs.small()), "-o", directory + "/out"]
        resnetc.environment = ProcessInfo.processInfo.environment.merging(["CC": sleepy, "RESNETC_CACHE": cache]) { _, new in new }
        resnetc.standardOutput = logHandle
        resnetc.standardError = logHandle
        try resnetc.run()
        defer {
            if resnetc.isRunning { kill(resnetc.processIdentifier, SIGKILL) }
            resnetc.waitUntilExit()
        }

        let started = waitUntil(seconds: 60) { FileManager.default.fileExists(atPath: pidFile) || !resnetc.isRunning }
        let compilerPID = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard started, let compilerPID else {
            Issue.record("the fake compiler never started; resnetc said: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            return
        }
        #expect(kill(resnetc.processIdentifier, SIGKILL) == 0)
        resnetc.waitUntilExit()
        let died = waitUntil(seconds: 10) { !isRunning(compilerPID) }
        if !died { kill(compilerPID, SIGKILL) }
        #expect(died, "the compiler's child (pid \(compilerPID), as cc1 is gcc's) outlived the resnetc that started it")

        let builds = { try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasPrefix("build-") } }
        #expect(try builds().count == 1, "the killed compile left its build directory")
        _ = try compiler(cache: cache).compileSharedLibrary(source: Self.source, header: "")
        #expect(try builds() == [], "the next compile removes it")
    }

    /// The id of a process that has exited and been reaped.
    func finishedProcessID() throws -> pid_t {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exit 0"]
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    /// Whether `pid` is a live process (a zombie, dead but not yet reaped, does not count).
    func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let nameEnd = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: nameEnd)...].first { $0 != " " }
        return state != "Z" && state != "X"
    }

    /// Polls `condition` every 50 ms for at most `seconds`; whether it became true.
    func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    /// The resnetc executable `swift test` built beside this test binary (or in .build/debug).
    func resnetcExecutable() throws -> String {
        let testBinary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let candidates = [URL(fileURLWithPath: testBinary).deletingLastPathComponent().appendingPathComponent("resnetc").path,
                          Fixtures.path(".build/debug/resnetc")]
        return try #require(candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }),
                            "no resnetc executable at \(candidates.joined(separator: " or "))")
    }
}
