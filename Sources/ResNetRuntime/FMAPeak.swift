import Foundation
import ResNetKernels

/// The machine's float32 FMA peak, measured (not taken from a data sheet) at the widest vector
/// width the compiler targets: on AVX-512 machines with full-width FMA, 16 lanes give twice the
/// 8-lane figure, and a "% of peak" against the narrower one would be twice too high.
public enum FMAPeak {
    /// GFLOP/s on `threads` threads (0: all cores) and the vector width it was measured at.
    public static func measure(compiler: CCompiler, threads: Int) throws -> (gflops: Double, lanes: Int) {
        let lanes = compiler.target.vectorLanes
        let library = try compiler.compileSharedLibrary(source: KernelSources.fmaPeak, header: "", extraFlags: ["-DLANES=\(lanes)"])
        let peak = try SharedLibrary(library.path).function("rc_fma_peak_gflops", as: (@convention(c) (Int32) -> Double).self)
        return (peak(Int32(clamping: threads)), lanes)
    }
}
