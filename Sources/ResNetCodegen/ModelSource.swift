import Foundation
import ResNetIR
import ResNetKernels

/// The generated C for one planned graph: model.c and model.h, and the layouts a caller needs
/// to feed it (the raw parameter vector's order, the packed size, the arena size).
public struct ModelSource: Sendable {
    /// One tensor of the raw parameter vector `rc_pack` reads, in order.
    public struct RawParameter: Sendable, Equatable {
        public var name: String
        public var dims: [Int]
        /// Offset in floats.
        public var offset: Int
    }

    public var c: String
    public var header: String
    public var rawParameters: [RawParameter]
    public var rawFloatCount: Int
    public var packedFloatCount: Int
    public var arenaBytesPerImage: Int
    /// Distinct kernel functions emitted.
    public var kernelCount: Int
    /// Per-image input dims (C, H, W) and output dims (classes).
    public var inputDims: [Int]
    public var outputDims: [Int]

    /// The state dict as one flat float array: every parameter node, in graph order.
    static func rawLayout(of graph: Graph) -> (parameters: [RawParameter], offsets: [NodeID: Int], floats: Int) {
        var offsets: [NodeID: Int] = [:]
        var parameters: [RawParameter] = []
        var floats = 0
        for id in graph.parameters {
            offsets[id] = floats
            parameters.append(RawParameter(name: graph[id].name, dims: graph[id].type.dims, offset: floats))
            floats += graph[id].type.elementCount
        }
        return (parameters, offsets, floats)
    }
}

/// Writes model.c and model.h for a scheduled, planned inference graph.
///
/// The ABI (model.h): `rc_pack` turns the raw parameters (state-dict tensors in graph order)
/// into the packed layout the kernels read, folding batch norms; `rc_create` copies packed
/// weights and allocates the one arena for up to `max_batch` images; `rc_forward` runs a batch;
/// `rc_destroy` frees. Sizes are exported as functions so a loader needs no header.
public enum CodeGenerator {
    public static func generate(graph: Graph, plan: MemoryPlan, target: Target) throws(CodegenError) -> ModelSource {
        guard graph.outputs.count == 1, let output = graph.outputs.first, graph[output].type.batched,
              !TensorLayout.isFeatureMap(graph[output].type) else {
            throw CodegenError(message: "code generation needs one dense batched output (the logits)")
        }
        guard let inputID = graph.ids.first(where: { graph[$0].op == .input }) else {
            throw CodegenError(message: "the graph has no input")
        }

        // Raw parameters: the state-dict tensors, in graph order.
        let (rawParameters, raw, rawCount) = ModelSource.rawLayout(of: graph)

        // Parameter-only nodes (folded weights) are evaluated into scratch at pack time.
        var scratch: [NodeID: Int] = [:]
        var scratchCount = 0
        var packLines: [String] = []
        func source(_ id: NodeID) -> String {
            if let offset = raw[id] { return "raw + \(offset)" }
            return "scratch + \(scratch[id]!)"
        }
        for id in graph.ids where !graph[id].type.batched && !graph[id].op.isLeaf {
            let node = graph[id]
            scratch[id] = scratchCount
            scratchCount += node.type.elementCount
            packLines.append("    /* \(CText.comment(describe(id, in: graph))) */")
            switch node.op {
            case .foldBatchNormWeight(let epsilon):
                let dims = node.type.dims
                packLines.append("    rc_fold_bn_weight(\(source(id)), \(node.inputs.map(source).joined(separator: ", ")), \(dims[0]), \(node.type.elementCount / dims[0]), \(epsilon)f);")
            case .foldBatchNormBias(let epsilon):
                packLines.append("    rc_fold_bn_bias(\(source(id)), \(node.inputs.map(source).joined(separator: ", ")), \(node.type.elementCount), \(epsilon)f);")
            default:
                throw CodegenError(message: "\(node.op.mnemonic) on parameters is not supported at pack time")
            }
        }

        // Packed slots: each weight a kernel reads, in the layout that kernel wants.
        var packed: [String: Int] = [:]
        var packedCount = 0
        /// How a kernel reads a weight: as a direct convolution's blocks, as Winograd's transformed
        /// matrices, or as it is (per-channel vectors padded to whole blocks, matrices dense).
        enum Packing { case convolution, winograd(tile: Int), plain }
        func packedSlot(_ id: NodeID, _ packing: Packing) -> String {
            let type = graph[id].type
            let key = "\(id.index) \(packing)"
            if let offset = packed[key] { return "P(\(offset))" }
            let offset = packedCount
            packed[key] = offset
            let floats: Int
            if case .winograd(let m) = packing {
                let (o, i) = (type.dims[0], type.dims[1])
                floats = (m + 2) * (m + 2) * target.layout.paddedChannels(o) * target.layout.paddedChannels(i)
                packLines.append("    rc_pack_winograd_weight(packed + \(offset), \(source(id)), \(o), \(i), 0, \(m)); /* \(CText.comment(graph[id].name)) */")
            } else if case .convolution = packing {
                let (o, i, k) = (type.dims[0], type.dims[1], type.dims[2])
                floats = target.layout.paddedChannels(o) * target.layout.paddedChannels(i) * k * k
                packLines.append("    rc_pack_conv_weight(packed + \(offset), \(source(id)), \(o), \(i), \(k), 0); /* \(CText.comment(graph[id].name)) */")
            } else if type.dims.count == 1 {
                floats = target.layout.paddedChannels(type.elementCount)
                packLines.append("    rc_pack_vector(packed + \(offset), \(source(id)), \(type.elementCount)); /* \(CText.comment(graph[id].name)) */")
            } else {
                floats = type.elementCount
                packLines.append("    rc_pack_dense(packed + \(offset), \(source(id)), \(floats)L); /* \(CText.comment(graph[id].name)) */")
            }
            packedCount += (floats + 15) / 16 * 16
            return "P(\(offset))"
        }

        // Kernels and the forward body.
        var kernels: [Kernel] = []
        var kernelUses: [String: Int] = [:]
        var forward: [String] = []
        func buffer(_ id: NodeID) -> String { "BUF(\(plan.buffers[id]!.offset))" }
        for id in graph.ids {
            guard let kernel = try KernelEmitter.kernel(for: id, in: graph, target: target, winograd: .inference) else { continue }
            if kernelUses[kernel.name] == nil { kernels.append(kernel) }
            kernelUses[kernel.name, default: 0] += 1
            let node = graph[id]
            var arguments: [String]
            switch node.op {
            case .input:
                arguments = ["input"]
            case .conv2d(let conv):
                let tile = KernelEmitter.winogradTile(conv, input: graph[node.inputs[0]].type.dims, target: target, use: .inference)
                arguments = [buffer(node.inputs[0]), packedSlot(node.inputs[1], tile.map { .winograd(tile: $0) } ?? .convolution),
                             conv.epilogue.bias ? packedSlot(node.inputs[2], .plain) : "0",
                             conv.epilogue.residual ? buffer(node.inputs.last!) : "0"]
            default:
                arguments = node.inputs.map { graph[$0].type.batched ? buffer($0) : packedSlot($0, .plain) }
            }
            forward.append(KernelCall(node: id, function: kernel.name, arguments: ["n"] + arguments + [buffer(id)]).statement(in: graph))
        }
        let outputFloats = graph[output].type.elementCount
        let forwardParts = chunked(forward, function: "rc_forward_part", parameters: "rc_model *m, int n, const float *input")
        let packParts = chunked(packLines, function: "rc_pack_part", parameters: "const float *raw, float *packed, float *scratch")

        let inputDims = graph[inputID].type.dims
        let name = CText.comment(graph.name)
        let c = """
            /* Generated by resnetc for model "\(name)". Do not edit: regenerate with `resnetc compile`.
             * \(kernels.count) kernels for \(forward.count / 2 - 1) layers; feature maps are NCHWc (\(target.lanes)-channel blocks). */
            #include "model.h"

            /* Vectors of \(target.lanes) floats: \(target). */
            #define RC_LANES \(target.lanes)

            \(KernelSources.forward)
            \(KernelSources.winograd)
            /* Kernels: one per distinct op and shape. */

            \(kernels.map(\.definition).joined(separator: "\n"))
            /* The model: packed weights and one arena of \(plan.arenaBytesPerImage) bytes per image. */
            struct rc_model {
                int max_batch;
                float *packed;
                char *arena;
            };

            int rc_abi_version(void) { return RC_ABI_VERSION; }
            const char *rc_model_name(void) { return \(CText.stringLiteral(graph.name)); }
            long rc_raw_param_floats(void) { return RC_RAW_PARAM_FLOATS; }
            long rc_packed_param_floats(void) { return RC_PACKED_PARAM_FLOATS; }
            long rc_arena_bytes_per_image(void) { return RC_ARENA_BYTES_PER_IMAGE; }
            long rc_input_floats(void) { return RC_INPUT_FLOATS; }
            long rc_output_floats(void) { return RC_OUTPUT_FLOATS; }

            /* Raw parameters (state-dict tensors in graph order) to the packed layout the kernels read,
             * in parts of at most \(Self.statementsPerFunction) steps (the C compiler's time grows faster than linearly with function size). */
            \(packParts.definitions)
            int rc_pack(const float *raw, float *packed)
            {
                float *scratch = malloc(\(max(1, scratchCount)) * sizeof(float));
                if (!scratch) return -1;
                memset(packed, 0, RC_PACKED_PARAM_FLOATS * sizeof(float));
            \(packParts.calls.map { "    \($0)(raw, packed, scratch);" }.joined(separator: "\n"))
                free(scratch);
                return 0;
            }

            rc_model *rc_create(const float *packed, int max_batch)
            {
                if (max_batch < 1 || (size_t)max_batch > SIZE_MAX / 2 / RC_ARENA_BYTES_PER_IMAGE) return 0;
                rc_model *m = calloc(1, sizeof *m);
                if (!m) return 0;
                m->max_batch = max_batch;
                m->packed = aligned_alloc(64, ((size_t)RC_PACKED_PARAM_FLOATS * sizeof(float) + 63) / 64 * 64);
                m->arena = aligned_alloc(64, (size_t)RC_ARENA_BYTES_PER_IMAGE * (size_t)max_batch);
                if (!m->packed || !m->arena) {
                    rc_destroy(m);
                    return 0;
                }
                memcpy(m->packed, packed, (size_t)RC_PACKED_PARAM_FLOATS * sizeof(float));
                return m;
            }

            void rc_destroy(rc_model *m)
            {
                if (!m) return;
                free(m->packed);
                free(m->arena);
                free(m);
            }

            /* Buffers live at their per-image offset times max_batch; weights at their packed offset. */
            #define BUF(offset) ((float *)(m->arena + (size_t)(offset) * (size_t)m->max_batch))
            #define P(offset) (m->packed + (offset))

            /* The forward pass in schedule order, in parts of at most \(Self.statementsPerFunction) kernel calls, all run by
             * every thread of one parallel region: each kernel shares out its loops and ends at a barrier. */
            \(forwardParts.definitions)
            int rc_forward(rc_model *m, int n, const float *input, float *output)
            {
                if (!m || n < 1 || n > m->max_batch) return -1;
            #pragma omp parallel
                {
            \(forwardParts.calls.map { "        \($0)(m, n, input);" }.joined(separator: "\n"))
                }
                memcpy(output, \(buffer(output)), (size_t)n * \(outputFloats) * sizeof(float));
                return 0;
            }

            """

        let bufferLines = graph.ids.compactMap { id -> String? in
            guard let b = plan.buffers[id] else { return nil }
            return " *   " + CText.comment("\(id) \(graph[id].name): \(graph[id].type) at \(b.offset) (+\(b.size))")
        }
        let header = """
            /* Generated by resnetc for model "\(name)": the model's C ABI.
             * Images are NCHW float32 (\(inputDims.map(String.init).joined(separator: "x")) each, already normalised);
             * the output is \(outputFloats) logits per image.
             * Arena buffers (per-image byte offset and size; a batch multiplies both by max_batch):
            \(bufferLines.joined(separator: "\n"))
             */
            #ifndef RESNETC_MODEL_H
            #define RESNETC_MODEL_H

            #define RC_ABI_VERSION 1
            #define RC_RAW_PARAM_FLOATS \(rawCount)L
            #define RC_PACKED_PARAM_FLOATS \(packedCount)L
            #define RC_ARENA_BYTES_PER_IMAGE \(plan.arenaBytesPerImage)L
            #define RC_INPUT_FLOATS \(inputDims.reduce(1, *))L
            #define RC_OUTPUT_FLOATS \(outputFloats)L

            typedef struct rc_model rc_model;

            int rc_abi_version(void);
            const char *rc_model_name(void);
            long rc_raw_param_floats(void);
            long rc_packed_param_floats(void);
            long rc_arena_bytes_per_image(void);
            long rc_input_floats(void);
            long rc_output_floats(void);
            void rc_set_threads(int threads);
            /* Raw parameters (the manifest lists their order) -> packed weights; 0 on success. */
            int rc_pack(const float *raw, float *packed);
            /* Copies the packed weights and allocates the arena for up to max_batch images; NULL on failure. */
            rc_model *rc_create(const float *packed, int max_batch);
            void rc_destroy(rc_model *model);
            /* Runs n <= max_batch images; 0 on success, -1 for a bad n. */
            int rc_forward(rc_model *model, int n, const float *input, float *output);

            #endif

            """
        return ModelSource(c: c, header: header, rawParameters: rawParameters, rawFloatCount: rawCount,
                           packedFloatCount: packedCount, arenaBytesPerImage: plan.arenaBytesPerImage,
                           kernelCount: kernels.count, inputDims: inputDims, outputDims: graph[output].type.dims)
    }

    /// Most statements in one generated function: GCC's optimiser is superlinear in function
    /// size, and splitting keeps a 1202-layer network compiling in seconds.
    static let statementsPerFunction = 64

    /// Splits statements into numbered `static` functions; returns their text and names in order.
    static func chunked(_ statements: [String], function: String, parameters: String) -> (definitions: String, calls: [String]) {
        var definitions: [String] = []
        var calls: [String] = []
        for (index, start) in stride(from: 0, to: statements.count, by: statementsPerFunction).enumerated() {
            let name = "\(function)\(index)"
            let body = statements[start..<min(start + statementsPerFunction, statements.count)].joined(separator: "\n")
            let unused = parameters.split(separator: ",").compactMap { $0.split(separator: " ").last.map { "(void)\($0.trimmingCharacters(in: CharacterSet(charactersIn: "*")));" } }
            definitions.append("__attribute__((noinline)) static void \(name)(\(parameters))\n{\n    \(unused.joined(separator: " "))\n\(body)\n}\n")
            calls.append(name)
        }
        return (definitions.joined(separator: "\n"), calls)
    }

    /// `%24 = conv2d_bias_add_relu(%16, %20, %23, %8) "layer1.0.conv2": N×16×32×32 f32 -> …`
    static func describe(_ id: NodeID, in graph: Graph) -> String {
        let node = graph[id]
        let operands = node.inputs.isEmpty ? "" : "(" + node.inputs.map(\.description).joined(separator: ", ") + ")"
        let from = node.inputs.first.map { "\(graph[$0].type) -> " } ?? ""
        return "\(id) = \(node.op.mnemonic)\(operands) \"\(node.name)\": \(from)\(node.type)"
    }
}
