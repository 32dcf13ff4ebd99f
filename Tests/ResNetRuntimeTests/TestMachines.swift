import ResNetRuntime
import Testing

/// The `--target` machines tests compile for: each fixed vector width (16, 8 and 4 lanes), and
/// which of them this CPU can run. Tests of generated code run at every runnable width, so the
/// test log names the widths that were executed (as test arguments); the others are only
/// compiled, warning-free, by the kernel tests.
enum TestMachines {
    /// Every fixed width, widest first (`native` is one of them on any x86-64 machine).
    static let all: [TargetMachine] = [.avx512, .avx2, .generic]

    /// The machines whose code this CPU can execute (the compiler targets nothing it lacks).
    static let runnable: [TargetMachine] = all.filter { machine in
        guard let compiler = try? CCompiler(machine: machine) else { return false }
        return CompilerTarget.missingOnThisCPU(compiler.target.instructionSets).isEmpty
    }
}

extension TargetMachine: CustomTestStringConvertible {
    public var testDescription: String { rawValue }
}
