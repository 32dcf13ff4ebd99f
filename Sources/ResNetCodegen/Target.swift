import ResNetIR

/// What the generated C is for, as far as layout and kernel shapes depend on it: the vector
/// width in floats (the NCHWc channel block, so weight packing, the memory plan and every kernel
/// follow it), how many vector registers the C compiler can allocate, which register tiles are
/// sized to fill without spilling, and the per-core L2 cache that Winograd's chunks fit in. The runtime resolves it from the compiler's own view of
/// the machine (`CompilerTarget`), never from a name like "native".
public struct Target: Sendable, Equatable, CustomStringConvertible {
    /// Floats per vector: 16 (AVX-512), 8 (AVX2) or 4 (generic: SSE, NEON, or scalar code).
    public var lanes: Int
    public var vectorRegisters: Int
    /// Bytes of L2 cache per core (1 MiB unless the machine says otherwise).
    public var l2Bytes: Int

    public init(lanes: Int, vectorRegisters: Int, l2Bytes: Int = 1 << 20) {
        precondition([4, 8, 16].contains(lanes), "the kernels are written for 4, 8 or 16 lanes")
        self.lanes = lanes
        self.vectorRegisters = vectorRegisters
        self.l2Bytes = max(l2Bytes, 64 << 10)
    }

    /// AVX-512: 16 floats per zmm register, 32 registers.
    public static let avx512 = Target(lanes: 16, vectorRegisters: 32)
    /// AVX2 (with FMA): 8 floats per ymm register, 16 registers.
    public static let avx2 = Target(lanes: 8, vectorRegisters: 16)
    /// Any C compiler with GCC vector extensions: 4-float vectors in 16 registers (SSE2's count;
    /// 128-bit NEON has 32).
    public static let generic = Target(lanes: 4, vectorRegisters: 16)

    /// How feature maps are stored for this target: channel blocks of one vector.
    public var layout: TensorLayout { TensorLayout(channelBlock: lanes) }

    public var description: String { "\(lanes) lanes, \(vectorRegisters) vector registers, \(l2Bytes >> 10) KiB L2" }

    /// Floats of scratch a Winograd chunk may use: half the L2, the rest left to weights.
    var winogradScratchFloats: Int { l2Bytes / 2 / 4 }

    /// The 1x1 convolution's register tile, output blocks × pixels: accumulators plus one weight
    /// vector per block plus one broadcast fit the register file (4 × 6 + 4 + 1 = 29 of 32;
    /// 2 × 6 + 2 + 1 = 15 of 16).
    var pointwiseTile: (blocks: Int, pixels: Int) { vectorRegisters >= 32 ? (4, 6) : (2, 6) }

    /// The direct convolution's widest register tile, output blocks × pixels of one row: two
    /// blocks, so each broadcast input pixel feeds two FMAs, and as many pixels as the register
    /// file holds beside two weights and a broadcast (2 × 12 + 3 = 27 of 32; 2 × 6 + 3 = 15 of 16).
    var directTile: (blocks: Int, pixels: Int) { vectorRegisters >= 32 ? (2, 12) : (2, 6) }
}
