import Foundation
import ResNetCodegen

/// What machine code a compile produces, as the C compiler itself sees it with the flags in use
/// (`cc FLAGS -dM -E`): its predefined macros, and from them the x86 instruction-set extensions
/// the code may use. Part of the compile-cache key (`-march=native` names no machine, so the same
/// flags on another CPU must not reuse a library), and recorded in each artifact so a library is
/// never loaded on a CPU that lacks what it was compiled for (that would be SIGILL).
public struct CompilerTarget: Sendable, Equatable {
    /// Every predefined macro, one `#define` per line, sorted.
    public let macros: String
    /// Extensions the code may use, by their /proc/cpuinfo names (`avx2`, `fma`, `avx512f`).
    public let instructionSets: [String]

    /// The extensions resnetc's kernels can use, by the compiler's macro and the kernel's
    /// /proc/cpuinfo name for it.
    static let extensions = [("__SSE4_2__", "sse4_2"), ("__AVX__", "avx"), ("__AVX2__", "avx2"), ("__FMA__", "fma"), ("__F16C__", "f16c"),
                             ("__AVX512F__", "avx512f"), ("__AVX512CD__", "avx512cd"), ("__AVX512BW__", "avx512bw"),
                             ("__AVX512DQ__", "avx512dq"), ("__AVX512VL__", "avx512vl")]

    public init(macros: String) {
        self.macros = macros
        let defined = Set(macros.split(separator: "\n").compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) })
        instructionSets = Self.extensions.filter { defined.contains($0.0) }.map(\.1)
    }

    /// The target of the C compiler `executable` with `flags`.
    static func resolve(executable: String, flags: [String]) throws -> CompilerTarget {
        let result = try ChildProcess.run(executable, flags.filter { $0 != "-fopenmp" } + ["-dM", "-E", "-x", "c", "/dev/null"])
        guard result.status == 0 else {
            throw RuntimeError("the C compiler \(executable) cannot preprocess with flags '\(flags.joined(separator: " "))':\n\(result.output)")
        }
        return CompilerTarget(macros: result.output.split(separator: "\n").sorted().joined(separator: "\n"))
    }

    /// Floats per vector register at this target's widest vector width: 16 with AVX-512, 8 with
    /// AVX, 4 otherwise (SSE, or a generic target). The FMA peak is measured at this width.
    public var vectorLanes: Int {
        instructionSets.contains("avx512f") ? 16 : instructionSets.contains("avx") ? 8 : 4
    }

    /// What code generation needs to know of this target: vectors of `vectorLanes` floats, and 32
    /// registers with AVX-512 (zmm0-31) or on AArch64 (v0-31), else 16.
    public var codegen: Target {
        let registers = instructionSets.contains("avx512f") || macros.contains("#define __aarch64__ ") ? 32 : 16
        return Target(lanes: vectorLanes, vectorRegisters: registers, l2Bytes: Self.hostL2Bytes ?? 1 << 20)
    }

    /// This machine's per-core L2 cache from sysfs (`1024K`), or nil where it cannot be read.
    static let hostL2Bytes: Int? = {
        let directory = "/sys/devices/system/cpu/cpu0/cache"
        for index in 0..<8 {
            func read(_ name: String) -> String? {
                (try? String(contentsOfFile: "\(directory)/index\(index)/\(name)", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard read("level") == "2", let size = read("size"), let kib = Int(size.dropLast()), size.hasSuffix("K") else { continue }
            return kib << 10
        }
        return nil
    }()

    /// The extensions in `required` this CPU lacks, from /proc/cpuinfo; empty where it cannot
    /// be read (another OS), since then nothing can be checked.
    public static func missingOnThisCPU(_ required: [String]) -> [String] {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        let present = Set(flags.split(separator: " ").map(String.init))
        return required.filter { !present.contains($0) }
    }
}

extension Target {
    /// The target `compile` generates for with default flags (the host compiler's own view of
    /// this machine), for reports and tests that lay out tensors without compiling; the generic
    /// target when no C compiler is found. Resolved once per process: it runs the compiler.
    public static let host: Target = (try? CCompiler())?.target.codegen ?? .generic
}
