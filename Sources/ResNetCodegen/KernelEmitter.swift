import ResNetIR

/// A generated kernel: one C function per distinct op-and-shape signature, named after both
/// (`conv2d_bias_relu_c16x32x32_o16x32x32_k3s1p1`) and called by every node that has that
/// signature, so compile time grows with distinct layer shapes, not with depth.
struct Kernel: Equatable {
    let name: String
    let definition: String
}

/// Why a graph cannot be turned into C.
public struct CodegenError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Emits the kernel for each node kind: a wrapper that fixes the shapes of a generic body from
/// the prelude as compile-time constants. Every kernel runs on all threads of its caller's
/// parallel region (the bodies share out their loops with `omp for nowait`) and ends at a
/// barrier: the forward pass and the training step each open one region, so no kernel pays a
/// fork and join.
enum KernelEmitter {
    /// The kernel that computes `id` per batch, or nil for leaves and parameter-only nodes;
    /// `winograd` lets stride-1 3×3 convolutions run as Winograd F(m×m, 3×3) with the tile
    /// `winogradTile` picks for that use (their weights must then be packed by
    /// `rc_pack_winograd_weight` with it).
    static func kernel(for id: NodeID, in graph: Graph, target: Target, winograd: WinogradUse? = nil) throws(CodegenError) -> Kernel? {
        let node = graph[id]
        guard node.type.batched else { return nil }
        func dims(_ operand: Int) -> [Int] { graph[node.inputs[operand]].type.dims }
        let layout = target.layout
        func blocks(_ channels: Int) -> Int { layout.blocks(channels) }
        let out = node.type.dims
        let shapeComment = "\(node.inputs.first.map { graph[$0].type.description } ?? "") -> \(node.type)"
        switch node.op {
        case .input:
            let (c, h, w) = (out[0], out[1], out[2])
            return wrapper(name: "input_block_c\(c)x\(h)x\(w)", comment: "NCHW -> NCHWc: \(node.type)",
                           parameters: ["const float *src"], body: "rc_input_block(n, src, out, \(c), \(h), \(w));")
        case .labels, .parameter, .foldBatchNormWeight, .foldBatchNormBias:
            return nil
        case .conv2d(let conv):
            return convolution(conv, input: dims(0), output: out, comment: shapeComment, target: target,
                               winogradTile: winograd.flatMap { winogradTile(conv, input: dims(0), target: target, use: $0) })
        case .shortcutPad(let stride, _):
            let i = dims(0)
            return wrapper(name: "shortcut_pad_c\(i[0])x\(i[1])x\(i[2])_o\(out[0])x\(out[1])x\(out[2])_s\(stride)",
                           comment: "\(shapeComment), option A", parameters: ["const float *in"],
                           body: "rc_shortcut_pad(n, in, out, \(i[0]), \(i[1]), \(i[2]), \(out[0]), \(out[1]), \(out[2]), \(stride));")
        case .maxPool(let window):
            let i = dims(0)
            return wrapper(name: "max_pool_c\(i[0])x\(i[1])x\(i[2])_k\(window.kernel)s\(window.stride)p\(window.padding)",
                           comment: shapeComment, parameters: ["const float *in"],
                           body: "rc_max_pool(n, in, out, \(blocks(i[0])), \(i[1]), \(i[2]), \(out[1]), \(out[2]), \(window.kernel), \(window.stride), \(window.padding));")
        case .globalAveragePool:
            let i = dims(0)
            return wrapper(name: "global_avg_pool_c\(i[0])x\(i[1])x\(i[2])", comment: shapeComment, parameters: ["const float *in"],
                           body: "rc_global_avg_pool(n, in, out, \(i[0]), \(i[1] * i[2]));")
        case .linear:
            let features = dims(0)[0]
            return wrapper(name: "linear_f\(features)_o\(out[0])", comment: shapeComment,
                           parameters: ["const float *in", "const float *w", "const float *bias"],
                           body: "rc_linear(n, in, w, bias, out, \(features), \(out[0]));")
        case .batchNorm(let bn):
            guard TensorLayout.isFeatureMap(node.type) else { throw CodegenError(message: "batch norm on \(node.type) is not supported") }
            return wrapper(name: "batch_norm_c\(out[0])x\(out[1])x\(out[2])_eps\(bn.epsilon.bitPattern)", comment: shapeComment,
                           parameters: ["const float *in", "const float *gamma", "const float *beta", "const float *mean", "const float *var"],
                           body: "rc_batch_norm(n, in, gamma, beta, mean, var, out, \(blocks(out[0])), \(out[1] * out[2]), \(bn.epsilon)f);")
        case .relu:
            let elements = layout.storedElementCount(node.type)
            return wrapper(name: "relu_e\(elements)", comment: shapeComment, parameters: ["const float *in"],
                           body: "rc_relu(n, in, out, \(elements));")
        case .add:
            let elements = layout.storedElementCount(node.type)
            return wrapper(name: "add_e\(elements)", comment: shapeComment, parameters: ["const float *a", "const float *b"],
                           body: "rc_add(n, a, b, out, \(elements));")
        case .softmaxCrossEntropy:
            throw CodegenError(message: "the loss is computed by training code; compile the forward graph")
        default:
            throw CodegenError(message: "\(node.op.mnemonic) is a training op; code generation for training is not written yet")
        }
    }

    /// Register tiles covering an output row of `outputWidth` pixels: a first tile at column 0, a
    /// last one ending at the row's end (both checked at the image's edge) and equal tiles between
    /// them, as even as possible and at most `maxTile` wide. The middle tiles skip the check when
    /// all their windows lie inside the input, as in every ResNet layer; `checkMiddle` keeps odd
    /// shapes correct. (Measured on Zen 4: narrow edge tiles unrolled over kw were slower.)
    static func tiling(inputWidth: Int, outputWidth: Int, kernel: Int, stride: Int, padding: Int, maxTile: Int)
        -> (first: Int, middle: Int, last: Int, checkMiddle: Bool) {
        let tiles = (outputWidth + maxTile - 1) / maxTile
        if tiles == 1 { return (outputWidth, 1, 0, false) }
        let middleCount = tiles - 2
        let middle = middleCount == 0 ? 1 : (outputWidth + tiles - 1) / tiles
        let rest = outputWidth - middleCount * middle
        let first = (rest + 1) / 2, last = rest - first
        // Interior columns [left, right): every window inside the input.
        let left = (padding + stride - 1) / stride
        let right = (inputWidth + padding - kernel) / stride + 1
        return (first, middle, last, middleCount > 0 && (first < left || outputWidth - last > right))
    }

    /// Whether `conv`, on `inputChannels` channels, runs as Winograd (F(m×m, 3×3), the tile from
    /// `winogradTile`): every 3×3 stride-1 padding-1 convolution whose input fills at least half a
    /// channel block, where F(2×2, 3×3) alone measured 1.3–1.9× faster than the direct kernel on
    /// Zen 4 from 7×7 maps of 512 channels to 32×32 maps of 16 (2.25× fewer multiply-adds, plus
    /// transforms). Its GEMMs sum over whole
    /// blocks, so a 3-channel stem at 16 lanes would do 16 channels' work: there the direct
    /// kernel, which sums only the real channels, ran 0.65–0.9 ms against Winograd's 2.4–3.0 ms
    /// (batch 128, 32×32).
    static func usesWinograd(_ conv: Convolution, inputChannels: Int, target: Target) -> Bool {
        conv.kernel == 3 && conv.stride == 1 && conv.padding == 1 && 2 * inputChannels >= target.lanes
    }

    /// What a Winograd convolution computes, which decides its tile.
    enum WinogradUse {
        /// A forward pass of `predict`, `eval` or a compiled model: weights transformed once.
        case inference
        /// The forward pass of a training step, whose ReLU masks the backward pass inherits.
        case trainingForward
        /// A stride-1 input gradient in a training step: linear in the output gradient.
        case inputGradient
    }

    /// The output tile m (2 or 4) of the Winograd F(m×m, 3×3) that `conv` runs as on `input`
    /// (C × H × W), or nil where it runs direct (`usesWinograd`). F(4×4, 3×3) does 36
    /// multiply-adds per 16 outputs where F(2×2, 3×3) does 16 per 4; kernel alone on Ice Lake at
    /// 16 lanes, 2 threads, it ran 1.0–1.6× F(2×2) from 16-channel 32×32 maps at batch 128 to
    /// 512-channel 4×4 maps at batch 16 (even on 32-channel 14×14, whose last tile row is half
    /// empty). It rounds more (2–4e-5 of the output against 2e-6, from 16 to 64 channels), so
    /// a training step's forward pass keeps F(2×2): there a rounding difference can move a
    /// pre-activation across zero and flip a ReLU, which the gradients then inherit whole; with
    /// F(4×4) forwards, a step on random pixels missed PyTorch float64's gradients by 1.7e-2
    /// (scripts/crosscheck_torch.py). Input gradients are linear in the output gradient, so their
    /// extra rounding stays at its own size. They keep F(2×2) on maps no larger than one 4×4 tile:
    /// there the weights outweigh the tiles, and training transforms them every step, which at
    /// 36 positions costs more than the GEMMs save (512 channels: 3.4 ms against 1.5 ms per
    /// transform, for 0.9 ms saved per convolution).
    static func winogradTile(_ conv: Convolution, input: [Int], target: Target, use: WinogradUse) -> Int? {
        guard usesWinograd(conv, inputChannels: input[0], target: target) else { return nil }
        switch use {
        case .inference: return 4
        case .trainingForward: return 2
        case .inputGradient: return input[1] <= 4 && input[2] <= 4 ? 2 : 4
        }
    }

    static func convolution(_ conv: Convolution, input: [Int], output: [Int], comment: String, target: Target,
                            winogradTile: Int? = nil) -> Kernel {
        let e = conv.epilogue
        func blocks(_ channels: Int) -> Int { target.layout.blocks(channels) }
        let (k, s, p) = (conv.kernel, conv.stride, conv.padding)
        let name = "\(e.mnemonic)_c\(input[0])x\(input[1])x\(input[2])_o\(output[0])x\(output[1])x\(output[2])_k\(k)s\(s)p\(p)"
            + (winogradTile.map { "_winograd\($0)" } ?? "")
        let epilogue: KeyValuePairs = ["BIAS": e.bias ? 1 : 0, "RES": e.residual ? 1 : 0, "RELU": e.relu ? 1 : 0]
        /// The kernel with its sizes as an enum of literals, and `loop` calling a body with them (`SIZES`).
        func sized(_ constants: KeyValuePairs<String, Int>, _ detail: String, _ loop: String) -> Kernel {
            let all = Array(constants) + Array(epilogue)
            return wrapper(name: name, comment: "\(comment), \(detail)",
                           parameters: ["const float *in", "const float *w", "const float *bias", "const float *res"],
                           body: "enum { \(all.map { "\($0.key) = \($0.value)" }.joined(separator: ", ")) };\n"
                               + loop.replacingOccurrences(of: "SIZES", with: all.map(\.key).joined(separator: ", ")))
        }
        if let m = winogradTile {
            let tile = target.pointwiseTile
            return sized(["ICB": blocks(input[0]), "OCB": blocks(output[0]), "H": output[1], "W": output[2], "M": m, "OB": tile.blocks,
                          "TP": tile.pixels, "SCRATCH": target.winogradScratchFloats],
                         "3x3 stride 1 as Winograd F(\(m)x\(m), 3x3); GEMM tile \(tile.blocks) blocks x \(tile.pixels) tiles",
                         "rc_winograd(n, in, w, bias, res, out, SIZES);")
        }
        if k == 1, s == 1, p == 0 {
            let tile = target.pointwiseTile
            return sized(["ICB": blocks(input[0]), "OCB": blocks(output[0]), "HW": output[1] * output[2], "OB": tile.blocks, "TP": tile.pixels],
                         "1x1 as a GEMM over pixels; register tile \(tile.blocks) blocks x \(tile.pixels) pixels",
                         "rc_conv1x1(n, in, w, bias, res, out, SIZES);")
        }
        let tile = target.directTile
        let t = tiling(inputWidth: input[2], outputWidth: output[2], kernel: k, stride: s, padding: p, maxTile: tile.pixels)
        return sized(["ICB": blocks(input[0]), "CL": input[0] - (blocks(input[0]) - 1) * target.lanes, "IH": input[1], "IW": input[2], "OCB": blocks(output[0]), "OH": output[1], "OW": output[2],
                      "K": k, "S": s, "P": p, "TW0": t.first, "TW": t.middle, "TWN": t.last, "CHECKM": t.checkMiddle ? 1 : 0,
                      "OB": tile.blocks],
                     "\(k)x\(k) stride \(s) padding \(p); row tiles \(t.first) + \(t.middle)... + \(t.last) pixels"
                         + " x \(tile.blocks) output block\(tile.blocks == 1 ? "" : "s")",
                     "rc_conv(n, in, w, bias, res, out, SIZES);")
    }

    /// The output tile m of the Winograd F(m×m, 3×3) with which training computes the weight
    /// gradient of `conv` from `input` to `output` channels (`rc_winograd_backward_weight`), or
    /// nil where the direct kernel does: stride-1 3×3 layers of at least one whole input block, on
    /// targets with 32 vector registers. On Zen 4 at 16 lanes F(2×2) ran 1.1–1.6× the direct
    /// kernel from 16-channel 28×28 to 512-channel 4×4 maps; on a 1-channel stem it ran at a fifth
    /// of it (the transforms then outweigh the GEMMs), and at 8 lanes in 16 registers 0.8–1.35×
    /// (the GEMM's 8 accumulators leave the FMA latency exposed). F(4×4) everywhere: with tasks of
    /// 2 × 2 channel blocks (`RC_WINOGRAD_GRADIENT_GROUP`) it ran, on Zen 4, 2 threads, 1.1–1.55×
    /// F(2×2) from 16 channels on 32×32 maps to 512 on 4×4 (batch 128 to 32×32, 16 from 28×28
    /// down), even with it on 128 channels at 14×14. (With 4 × 4 blocks its 36 positions' float
    /// sums filled the L2's share, and it ran 1.35–3× slower than F(2×2) from 64 channels up.)
    static func winogradWeightGradientTile(_ conv: Convolution, inputChannels: Int, target: Target) -> Int? {
        guard usesWinograd(conv, inputChannels: inputChannels, target: target), target.vectorRegisters >= 32, inputChannels >= target.lanes else {
            return nil
        }
        return 4
    }

    /// The weight gradient of a convolution of `input` to `output` (C × H × W each), with its sizes
    /// as literals; `scratch` holds `weightGradientScratch` doubles.
    static func convolutionWeightGradient(_ conv: Convolution, input: [Int], output: [Int], target: Target) -> Kernel {
        let (k, s, p) = (conv.kernel, conv.stride, conv.padding)
        let lastBlockChannels = input[0] - (target.layout.blocks(input[0]) - 1) * target.lanes
        let tile = winogradWeightGradientTile(conv, inputChannels: input[0], target: target)
        let sizes = tile.map { "\(output[0]), \(input[0]), \(lastBlockChannels), \(input[1]), \(input[2]), \($0), \(target.winogradScratchFloats)" }
            ?? "\(output[0]), \(input[0]), \(lastBlockChannels), \(input[1]), \(input[2]), \(output[1]), \(output[2]), \(k), \(s), \(p)"
        return wrapper(
            name: "conv2d_backward_weight_c\(input[0])x\(input[1])x\(input[2])_o\(output[0])x\(output[1])x\(output[2])_k\(k)s\(s)p\(p)"
                + (tile.map { "_winograd\($0)" } ?? ""),
            comment: "d weight (\(output[0])x\(input[0])x\(k)x\(k)) of a \(k)x\(k) stride \(s) padding \(p) convolution, "
                + "(N,\(input[0]),\(input[1]),\(input[2])) -> (N,\(output[0]),\(output[1]),\(output[2]))"
                + (tile.map { ", as Winograd F(\($0)x\($0), 3x3)" } ?? ""),
            parameters: ["const float *gy", "const float *x", "double *scratch"],
            body: "\(tile == nil ? "rc_conv_backward_weight" : "rc_winograd_backward_weight")(n, gy, x, out, scratch, \(sizes));")
    }

    /// The C expression for the doubles of scratch `convolutionWeightGradient`'s kernel needs.
    static func weightGradientScratch(_ conv: Convolution, input: [Int], output: [Int], target: Target) -> String {
        winogradWeightGradientTile(conv, inputChannels: input[0], target: target)
            .map { "RC_WINOGRAD_GRADIENT_SCRATCH(\(output[0]), \(input[0]), \($0), \(target.winogradScratchFloats))" }
            ?? "RC_WEIGHT_GRADIENT_SCRATCH(\(output[0]), \(input[0]), \(conv.kernel))"
    }

    private static func wrapper(name: String, comment: String, parameters: [String], body: String) -> Kernel {
        let signature = (["int n"] + parameters + ["float *out"]).joined(separator: ", ")
        let statements = "\(body.replacingOccurrences(of: "\n", with: "\n    "))\n#pragma omp barrier"
        return Kernel(name: name, definition: """
            /* \(name): \(CText.comment(comment)) */
            __attribute__((noinline)) static void \(name)(\(signature))
            {
                \(statements)
            }

            """)
    }
}
