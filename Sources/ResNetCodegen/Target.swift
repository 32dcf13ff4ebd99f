/// What the generated C is for, as far as kernel shapes depend on it: how many vector registers
/// (of the kernels' eight floats) the C compiler can allocate. Register tiles are sized to fill
/// that file without spilling: 32 registers where AVX-512VL gives ymm16-31, 16 with AVX2 alone.
/// The runtime resolves it from the compiler's own view of the machine (`CompilerTarget`).
public struct Target: Sendable, Equatable {
    public var vectorRegisters: Int

    public init(vectorRegisters: Int) { self.vectorRegisters = vectorRegisters }

    /// AVX2 (and the default for code whose machine is not known): 16 vector registers.
    public static let avx2 = Target(vectorRegisters: 16)

    /// The 1x1 convolution's register tile, output blocks × pixels: accumulators plus one weight
    /// vector per block plus one broadcast fit the register file (4 × 6 + 4 + 1 = 29 of 32;
    /// 2 × 6 + 2 + 1 = 15 of 16).
    var pointwiseTile: (blocks: Int, pixels: Int) { vectorRegisters >= 32 ? (4, 6) : (2, 6) }

    /// Output blocks per register tile of the direct convolution, whose tiles are up to 12 pixels
    /// wide: two (24 accumulators, two weights, a broadcast) where 32 registers allow it.
    var directTileBlocks: Int { vectorRegisters >= 32 ? 2 : 1 }
}
