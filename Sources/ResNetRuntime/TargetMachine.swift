/// The machines `--target` names, each as the C-compiler flags that select it. Code generation
/// never reads the name: it reads what the compiler then reports (`CompilerTarget`), so
/// `native` on an AVX-512 machine and `avx512` give the same kernels.
public enum TargetMachine: String, CaseIterable, Sendable {
    /// The machine resnetc runs on (`-march=native`).
    case native
    /// x86-64 with AVX-512 (x86-64-v4): 16-float vectors, 32 registers.
    case avx512
    /// x86-64 with AVX2 and FMA (x86-64-v3): 8-float vectors, 16 registers.
    case avx2
    /// Whatever the C compiler targets by default (SSE2 on x86-64, NEON on AArch64): 4-float
    /// vectors, portable C with GCC vector extensions.
    case generic

    /// The flags that select this machine.
    public var architectureFlags: [String] {
        switch self {
        case .native: return ["-march=native"]
        case .avx512: return ["-march=x86-64-v4", "-mtune=native"]
        case .avx2: return ["-march=x86-64-v3", "-mtune=native"]
        case .generic: return []
        }
    }

    /// `flags` with their machine choice (-march, -mtune, -mcpu) replaced by this machine's.
    public func applied(to flags: [String]) -> [String] {
        flags.filter { !["-march=", "-mtune=", "-mcpu="].contains(where: $0.hasPrefix) } + architectureFlags
    }
}
