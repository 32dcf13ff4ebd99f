import Foundation

/// Runs a program (the C compiler, a test binary) to completion and collects its output, started
/// so that it cannot outlive resnetc. The kernel kills a child when its parent dies only if the
/// child asked for it (prctl PR_SET_PDEATHSIG), which Foundation's Process cannot arrange, so on
/// Linux the program is started through util-linux's `setpriv --pdeathsig TERM --` under a small
/// shell that puts it in a process group of its own and kills that group when the signal comes: if
/// resnetc is killed, even by SIGKILL, the compiler and its own children (cc1, as, ld) die with
/// it instead of running on unattended. Where setpriv is missing the program is started directly.
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
        guard let setpriv = deathSignalLauncher else { return try launch(executable, arguments) }
        return try launch(setpriv, ["--pdeathsig", "TERM", "--", "sh", "-c", groupSupervisor, "sh", executable] + arguments)
    }

    /// A shell that runs the program in a process group of its own (setsid, in the background)
    /// and, when the death signal (TERM) arrives, kills that whole group: the compiler driver
    /// and what it started (cc1, as, ld), which a death signal alone would leave running.
    /// Otherwise it exits with the program's status.
    static let groupSupervisor = #"setsid "$@" & pid=$!; trap 'kill -9 -$pid' TERM; wait $pid"#

    /// `setpriv` from PATH, if it is there, accepts `--pdeathsig` (util-linux 2.33 and later)
    /// and can start the supervisor (`sh` and `setsid`).
    static let deathSignalLauncher: String? = {
        guard let setpriv = CCompiler.which("setpriv", path: ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
              let probe = try? launch(setpriv, ["--pdeathsig", "TERM", "--", "sh", "-c", groupSupervisor, "sh", setpriv, "--version"]),
              probe.status == 0, !probe.signalled else { return nil }
        return setpriv
    }()

    /// posix_spawn with every signal at its default and none blocked: the calling thread may be a
    /// worker whose mask blocks SIGCHLD (Dispatch's do), and a shell inheriting that mask would
    /// never see its child exit. Standard output and error share one pipe; standard input is
    /// /dev/null. The pipe is close-on-exec, so a program spawned afterwards by another thread
    /// does not hold it open.
    private static func launch(_ executable: String, _ arguments: [String]) throws -> Result {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw RuntimeError("cannot run \(executable): \(AtomicFile.errnoText())") }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
        posix_spawn_file_actions_adddup2(&actions, ends[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        close(ends[1])
        guard spawned == 0 else {
            close(ends[0])
            throw RuntimeError("cannot run \(executable): \(String(cString: strerror(spawned)))")
        }
        // Read to the end before waiting: a program with more output than the pipe holds blocks
        // until it is read, and would never exit for a parent that waited first.
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = read(ends[0], &buffer, buffer.count)
            if n > 0 { output.append(contentsOf: buffer[0..<n]) } else if n < 0, errno == EINTR { continue } else { break }
        }
        close(ends[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        let signal = status & 0x7F
        return Result(status: signal == 0 ? (status >> 8) & 0xFF : signal, signalled: signal != 0,
                      output: String(decoding: output, as: UTF8.self))
    }
}
