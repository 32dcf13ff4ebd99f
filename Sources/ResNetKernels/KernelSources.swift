/// The hand-written C (forward_kernels.h, winograd_kernels.h, backward_kernels.h, fma_peak.c beside this file), embedded
/// in the binary at build time, so generated code never depends on files installed next to the
/// executable. Their text is part of every generated source, and so of the compile-cache key.
public enum KernelSources {
    /// Vector helpers and the generic forward kernel bodies, pasted into every model.c and train.c.
    public static let forward = String(decoding: PackageResources.forward_kernels_h, as: UTF8.self)
    /// Winograd F(2x2, 3x3) and F(4x4, 3x3) for stride-1 3x3 convolutions and their gradients,
    /// pasted into model.c and train.c after `forward`.
    public static let winograd = String(decoding: PackageResources.winograd_kernels_h, as: UTF8.self)
    /// Batch norm on batch statistics and every gradient kernel, pasted into train.c after `forward`.
    public static let backward = String(decoding: PackageResources.backward_kernels_h, as: UTF8.self)
    /// The FMA-peak probe `resnetc bench` measures the machine with (`rc_fma_peak_gflops`).
    public static let fmaPeak = String(decoding: PackageResources.fma_peak_c, as: UTF8.self)
}
