import Foundation

/// Runs a program (the C compiler, a test binary) to completion and collects its output, started
/// so that it cannot outlive resnetc. The kernel kills a child when its parent dies only if the
/// child asked for it (prctl PR_SET_PDEATHSIG), which Foundation's Process cannot arrange, so on
/// Linux the program is started through util-linux's `setpriv --pdeathsig KILL --`, which asks
/// and then execs it: if resnetc is killed, even by SIGKILL, the compiler dies with it instead of
/// running on unattended. Where setpriv is missing the program is started directly.
enum ChildProcess {
    /// How a finished program ended, and what it wrote to stdout and stderr, interleaved.
    struct Result {
        let status: Int32
        /// True when `status` is the number of the signal that killed the program.
        let signalled: Bool
        let output: String

        /// "exit 1" or "killed by signal 9", for messages.
        var ending: String { signalled ? "killed by signal \(status)" : "exit \(status)" }
    }

    /// Runs `executable` with `arguments` and waits for it.
    ///
    /// The death signal is sent when the *thread* that started the child ends, not the process.
    /// Process.run starts the child from the calling thread, and this function keeps that thread
    /// blocked until the child exits; resnetc also compiles from its main thread. So the signal
    /// fires only when resnetc itself dies. (Were resnetc killed between the start of setpriv and
    /// its prctl, a window of microseconds, the compiler would run on.)
    static func run(_ executable: String, _ arguments: [String]) throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw RuntimeError("cannot run \(executable): there is no executable file there")
        }
        guard let launcher = deathSignalLauncher else { return try launch(executable, arguments) }
        return try launch(launcher, ["--pdeathsig", "KILL", "--", executable] + arguments)
    }

    /// `setpriv` from PATH, if it is there and accepts `--pdeathsig` (util-linux 2.33 and later).
    static let deathSignalLauncher: String? = {
        guard let setpriv = CCompiler.which("setpriv", path: ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
              let probe = try? launch(setpriv, ["--pdeathsig", "KILL", "--", setpriv, "--version"]),
              probe.status == 0, !probe.signalled else { return nil }
        return setpriv
    }()

    private static func launch(_ executable: String, _ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch {
            throw RuntimeError("cannot run \(executable): \(error.localizedDescription)")
        }
        // Read to the end before waiting: a program with more output than the pipe holds blocks
        // until it is read, and would never exit for a parent that waited first.
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                      output: String(decoding: output, as: UTF8.self))
    }
}
