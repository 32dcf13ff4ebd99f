import ResNetIR
import ResNetKernels

/// The generated C of one training step (train.c and train.h) and the layouts a trainer needs.
///
/// Parameters, their gradients and the SGD momentum each live in one flat region laid out like
/// the state dict (graph order), so a checkpoint is one write and a gradient all-reduce would be
/// one call. Activations and their gradients share one planned arena. Each step packs the
/// convolution weights from the flat region (they change every step), runs the forward pass
/// with batch statistics, writes every parameter's gradient into the gradient region and each
/// running statistic in place, and `rc_sgd_step` then updates the parameters.
public struct TrainingSource: Sendable {
    public var c: String
    public var header: String
    /// (name, dims, offset in floats) of every parameter and running statistic.
    public var parameters: [ModelSource.RawParameter]
    public var parameterFloats: Int
    public var arenaBytesPerImage: Int
    public var inputDims: [Int]
    public var classes: Int
}

/// Writes train.c and train.h for a differentiated, planned graph.
public enum TrainingCodeGenerator {
    /// With `syncBatchNorm`, every training batch norm's statistics and its backward reductions
    /// go through the trainer's average hook (`rc_trainer_set_average`), so processes holding
    /// shards of one batch compute what one process would on all of it.
    public static func generate(_ training: TrainingGraph, plan: MemoryPlan, target: Target,
                                syncBatchNorm: Bool = false) throws(CodegenError) -> TrainingSource {
        let graph = training.graph
        let (layout, offsets, floats) = ModelSource.rawLayout(of: graph)
        let gradientOf = Dictionary(uniqueKeysWithValues: training.gradients.map { ($0.gradient, $0.parameter) })
        let updateOf = Dictionary(uniqueKeysWithValues: training.runningStatistics.map { ($0.update, $0.state) })

        func buffer(_ id: NodeID) -> String { "BUF(\(plan.buffers[id]!.offset))" }
        func parameter(_ id: NodeID) throws(CodegenError) -> String {
            guard let offset = offsets[id] else { throw CodegenError(message: "\(graph[id].name) is not a parameter") }
            return "P(\(offset))"
        }
        func gradientSlot(_ id: NodeID) throws(CodegenError) -> String {
            guard let p = gradientOf[id], let offset = offsets[p] else {
                throw CodegenError(message: "\(graph[id].name): a parameter-shaped value that is not a parameter's gradient")
            }
            return "G(\(offset))"
        }
        func fm(_ id: NodeID) -> (c: Int, h: Int, w: Int) { let d = graph[id].type.dims; return (d[0], d[1], d[2]) }
        let storage = target.layout
        func blocks(_ c: Int) -> Int { storage.blocks(c) }

        // Each batch norm's saved statistics (mean, rstd, variance: 3 × C floats), by its input:
        // its running averages and backward ops name that input, and run after it.
        var statsOffset: [NodeID: Int] = [:]
        var statsFloats = 0
        for id in graph.ids {
            guard case .batchNormTraining = graph[id].op else { continue }
            guard statsOffset[graph[id].inputs[0]] == nil else {
                throw CodegenError(message: "\(graph[id].name): two training batch norms read \(graph[graph[id].inputs[0]].name)")
            }
            statsOffset[graph[id].inputs[0]] = statsFloats
            statsFloats += 3 * graph[id].type.dims[0]
        }
        var statsWritten = Set<NodeID>()
        func stats(_ x: NodeID) throws(CodegenError) -> String {
            guard let offset = statsOffset[x], statsWritten.contains(x) else {
                throw CodegenError(message: "\(graph[x].name): no training batch norm before this reads it")
            }
            return "STATS(\(offset))"
        }
        // The β gradient computed in the same pass as the γ gradient: the pair one batch-norm input
        // gradient reads.
        var shiftWithScale: [NodeID: NodeID] = [:]
        for id in graph.ids {
            if case .batchNormBackward = graph[id].op { shiftWithScale[graph[id].inputs[3]] = graph[id].inputs[4] }
        }
        let shiftsFused = Set(shiftWithScale.values)
        // A batch norm read only by a ReLU, or by a residual add read only by a ReLU, is
        // normalised by one `rc_bn_normalize` pass that also adds and clips, writing the ReLU's
        // output: its statistics are taken where it stands, the pass runs where the add (or the
        // ReLU) stands, in the buffer the plan gives that node and, in place, the ReLU (so it
        // reads only values live there), and the add and ReLU kernels drop out.
        let users = graph.users()
        var normalization: [NodeID: (batchNorm: NodeID, residual: NodeID?, output: NodeID)] = [:]
        var normalizedLater = Set<NodeID>(), doneByNormalization = Set<NodeID>()
        for id in graph.ids {
            // (An add of two batch norms, as a projection shortcut's, fuses the first one only.)
            guard case .batchNormTraining = graph[id].op, let next = graph.soleUser(of: id, users: users), normalization[next] == nil else { continue }
            if graph[next].op == .relu {
                normalization[next] = (id, nil, next)
            } else if graph[next].op == .add, let relu = graph.soleUser(of: next, users: users), graph[relu].op == .relu,
                      buffer(relu) == buffer(next), let residual = graph[next].inputs.first(where: { $0 != id }) {
                normalization[next] = (id, residual, relu)
                doneByNormalization.insert(relu)
            } else {
                continue
            }
            normalizedLater.insert(id)
        }

        var kernels: [Kernel] = []
        var kernelNames = Set<String>()
        var packLines: [String] = []
        var packedFloats = 0
        /// Packs weight `id` for this step and returns where: for the forward kernel (layout 0), a
        /// strided input gradient (1, transposed) or a stride-1 input gradient (2, flipped and
        /// transposed), as Winograd's transformed matrices of output tile `winogradTile` when the
        /// kernel runs as Winograd.
        func packedWeight(_ id: NodeID, layout: Int, winogradTile: Int?) throws(CodegenError) -> String {
            let w = graph[id].type.dims
            let what = [" */", ", transposed */", ", flipped and transposed */"][layout]
            if let m = winogradTile {
                packLines.append("    rc_pack_winograd_weight(W(\(packedFloats)), \(try parameter(id)), \(layout == 2 ? w[1] : w[0]), \(layout == 2 ? w[0] : w[1]), \(layout == 2 ? 1 : 0), \(m)); /* \(CText.comment(graph[id].name))\(what)")
            } else {
                packLines.append("    rc_pack_conv_weight(W(\(packedFloats)), \(try parameter(id)), \(w[0]), \(w[1]), \(w[2]), \(layout)); /* \(CText.comment(graph[id].name))\(what)")
            }
            let slot = "W(\(packedFloats))"
            packedFloats += ((winogradTile.map { ($0 + 2) * ($0 + 2) } ?? w[2] * w[3]) * storage.paddedChannels(w[0]) * storage.paddedChannels(w[1]) + 15) / 16 * 16
            return slot
        }
        var steps: [String] = []
        // Doubles the sync batch norm hooks exchange at most (3 × the widest batch norm).
        var syncChannels = 1
        // The weight gradients' scratch (sizes as C expressions): the trainer allocates the largest.
        var scratchSizes: Set<String> = []
        for id in graph.ids {
            let node = graph[id]
            let x = node.inputs
            var call: KernelCall
            if doneByNormalization.contains(id) {
                steps.append("    /* \(CText.comment(CodeGenerator.describe(id, in: graph))): computed with the batch norm before it */")
                continue
            }
            if let fused = normalization[id] {
                let bn = graph[fused.batchNorm], f = fm(bn.inputs[0])
                call = KernelCall(node: id, function: "rc_bn_normalize",
                                  arguments: ["n", buffer(bn.inputs[0]), try parameter(bn.inputs[1]), try parameter(bn.inputs[2]), try stats(bn.inputs[0]),
                                              fused.residual.map(buffer) ?? "0", "1", buffer(fused.output), "\(f.c)", "\(f.h * f.w)"])
                steps.append(call.statement(in: graph))
                continue
            }
            switch node.op {
            case .parameter, .labels:
                continue
            case .input, .shortcutPad, .maxPool, .globalAveragePool, .relu, .add, .linear, .conv2d:
                guard node.type.batched, let kernel = try KernelEmitter.kernel(for: id, in: graph, target: target, winograd: .trainingForward) else {
                    throw CodegenError(message: "\(node.name): \(node.op.mnemonic) on unbatched values is not supported in training")
                }
                if kernelNames.insert(kernel.name).inserted { kernels.append(kernel) }
                var arguments: [String]
                switch node.op {
                case .input: arguments = ["input"]
                case .conv2d(let conv):
                    let f = fm(x[0])
                    let tile = KernelEmitter.winogradTile(conv, input: [f.c, f.h, f.w], target: target, use: .trainingForward)
                    arguments = [buffer(x[0]), try packedWeight(x[1], layout: 0, winogradTile: tile), "0", "0"]
                case .linear: arguments = [buffer(x[0]), try parameter(x[1]), try parameter(x[2])]
                default: arguments = x.map(buffer)
                }
                call = KernelCall(node: id, function: kernel.name, arguments: ["n"] + arguments + [buffer(id)])
            case .batchNormTraining(let bn):
                let f = fm(x[0])
                statsWritten.insert(x[0])
                let output = normalizedLater.contains(id) ? "0" : buffer(id)
                call = KernelCall(node: id, function: "rc_bn_train", arguments: ["n", buffer(x[0]), try parameter(x[1]), try parameter(x[2]), syncBatchNorm ? "0" : output, try stats(x[0]), syncBatchNorm ? "t->sync" : "0", "t->scratch", "\(f.c)", "\(f.h * f.w)", "\(bn.epsilon)f"])
                scratchSizes.insert("RC_BATCH_NORM_SCRATCH(max_batch, \(f.c))")
                if syncBatchNorm {
                    // The local statistics, then the global batch's, then the normalisation (unless it runs later, fused).
                    steps.append(call.statement(in: graph))
                    syncChannels = max(syncChannels, 3 * f.c)
                    call = KernelCall(node: id, function: "rc_bn_sync_stats", arguments: ["t->average", "t->average_context", "t->sync", try stats(x[0]), "\(f.c)", "\(bn.epsilon)f"], serial: true)
                    if output != "0" {
                        steps.append(call.statement(in: graph))
                        call = KernelCall(node: id, function: "rc_bn_normalize", arguments: ["n", buffer(x[0]), try parameter(x[1]), try parameter(x[2]), try stats(x[0]), "0", "0", output, "\(f.c)", "\(f.h * f.w)"])
                    }
                }
            case .runningMean(let momentum), .runningVariance(let momentum):
                guard let state = updateOf[id] else { throw CodegenError(message: "\(node.name) updates no running statistic") }
                let f = fm(x[0])
                let variance = node.op == .runningVariance(momentum: momentum) ? 1 : 0
                call = KernelCall(node: id, function: "rc_bn_running", arguments: [syncBatchNorm ? "n * t->ranks" : "n", try stats(x[0]), try parameter(state), "\(f.c)", "\(f.h * f.w)", "\(momentum)f", "\(variance)"], serial: true, unawaited: true)
            case .softmaxCrossEntropy:
                call = KernelCall(node: id, function: "rc_softmax_cross_entropy", arguments: ["n", buffer(x[0]), "labels", "\(graph[x[0]].type.dims[0])"], result: "*loss", serial: true)
            case .softmaxCrossEntropyBackward:
                call = KernelCall(node: id, function: "rc_softmax_cross_entropy_backward", arguments: ["n", buffer(x[0]), "labels", buffer(id), "\(graph[x[0]].type.dims[0])"], serial: true)
            case .linearBackwardInput:
                let w = graph[x[1]].type.dims
                call = KernelCall(node: id, function: "rc_linear_backward_input", arguments: ["n", buffer(x[0]), try parameter(x[1]), buffer(id), "\(w[1])", "\(w[0])"])
            case .linearBackwardWeight:
                let w = node.type.dims
                call = KernelCall(node: id, function: "rc_linear_backward_weight", arguments: ["n", buffer(x[0]), buffer(x[1]), try gradientSlot(id), "\(w[1])", "\(w[0])"])
            case .channelSum:
                let d = graph[x[0]].type.dims
                guard d.count == 1 else { throw CodegenError(message: "\(node.name): channel_sum of a feature map has no training kernel") }
                call = KernelCall(node: id, function: "rc_channel_sum", arguments: ["n", buffer(x[0]), try gradientSlot(id), "\(d[0])"], serial: true)
            case .globalAveragePoolBackward(let h, let w):
                call = KernelCall(node: id, function: "rc_global_avg_pool_backward", arguments: ["n", buffer(x[0]), buffer(id), "\(node.type.dims[0])", "\(h * w)"])
            case .maxPoolBackward(let window):
                let (i, o) = (fm(x[1]), fm(x[0]))
                call = KernelCall(node: id, function: "rc_max_pool_backward", arguments: ["n", buffer(x[0]), buffer(x[1]), buffer(id), "\(blocks(i.c))", "\(i.h)", "\(i.w)", "\(o.h)", "\(o.w)", "\(window.kernel)", "\(window.stride)", "\(window.padding)"])
            case .reluBackward:
                call = KernelCall(node: id, function: "rc_relu_backward", arguments: ["n", buffer(x[0]), buffer(x[1]), buffer(id), "\(storage.storedElementCount(node.type))L"])
            case .shortcutPadBackward(let stride, _, _, _):
                let (i, o) = (fm(id), fm(x[0]))
                call = KernelCall(node: id, function: "rc_shortcut_pad_backward", arguments: ["n", buffer(x[0]), buffer(id), "\(i.c)", "\(i.h)", "\(i.w)", "\(o.c)", "\(o.h)", "\(o.w)", "\(stride)"])
            case .batchNormScaleGradient(let b):
                // With the β gradient over the same g, both reductions are one pass.
                let f = fm(x[1])
                let shift = try shiftWithScale[id].map { shiftID throws(CodegenError) in try gradientSlot(shiftID) } ?? "0"
                call = KernelCall(node: id, function: "rc_bn_backward_sums", arguments: ["n", buffer(x[0]), b.relu ? buffer(x[2]) : "0", buffer(x[1]), try stats(x[1]), try gradientSlot(id), shift, "t->scratch", "\(f.c)", "\(f.h * f.w)"])
                if syncBatchNorm {
                    for slot in [try gradientSlot(id), shift] where slot != "0" {
                        steps.append(call.statement(in: graph))
                        call = KernelCall(node: id, function: "rc_sync_average", arguments: ["t->average", "t->average_context", "t->sync", slot, "\(f.c)"], serial: true)
                    }
                }
            case .batchNormShiftGradient where shiftsFused.contains(id):
                steps.append("    /* \(CText.comment(CodeGenerator.describe(id, in: graph))): computed with the scale gradient */")
                continue
            case .batchNormShiftGradient(let b):
                let f = fm(x[0])
                call = KernelCall(node: id, function: "rc_bn_backward_sums", arguments: ["n", buffer(x[0]), b.relu ? buffer(x[1]) : "0", "0", "0", "0", try gradientSlot(id), "t->scratch", "\(f.c)", "\(f.h * f.w)"])
                if syncBatchNorm {
                    steps.append(call.statement(in: graph))
                    call = KernelCall(node: id, function: "rc_sync_average", arguments: ["t->average", "t->average_context", "t->sync", try gradientSlot(id), "\(f.c)"], serial: true)
                }
            case .batchNormBackward(let b):
                let f = fm(x[1])
                call = KernelCall(node: id, function: "rc_bn_backward",
                                  arguments: ["n", buffer(x[0]), b.relu ? buffer(x[5]) : "0", buffer(x[1]), try parameter(x[2]), try stats(x[1]),
                                              try gradientSlot(x[3]), try gradientSlot(x[4]), buffer(id), "\(f.c)", "\(f.h * f.w)"])
            case .conv2dBackwardInput(let conv, _, _) where conv.stride == 1 && conv.kernel - 1 - conv.padding >= 0:
                // Stride 1: a forward convolution of gy with flipped, transposed weights (Winograd where
                // the forward one is).
                let (i, o) = (fm(id), fm(x[0]))
                let transpose = Convolution(outChannels: i.c, kernel: conv.kernel, stride: 1, padding: conv.kernel - 1 - conv.padding)
                let tile = KernelEmitter.winogradTile(transpose, input: [o.c, o.h, o.w], target: target, use: .inputGradient)
                let kernel = KernelEmitter.convolution(transpose, input: [o.c, o.h, o.w], output: [i.c, i.h, i.w],
                                                       comment: "input gradient of a \(conv.kernel)x\(conv.kernel) stride-1 convolution", target: target,
                                                       winogradTile: tile)
                if kernelNames.insert(kernel.name).inserted { kernels.append(kernel) }
                call = KernelCall(node: id, function: kernel.name, arguments: ["n", buffer(x[0]), try packedWeight(x[1], layout: 2, winogradTile: tile), "0", "0", buffer(id)])
            case .conv2dBackwardInput(let conv, _, _):
                let (i, o) = (fm(id), fm(x[0]))
                call = KernelCall(node: id, function: "rc_conv_backward_input", arguments: ["n", buffer(x[0]), try packedWeight(x[1], layout: 1, winogradTile: nil), buffer(id), "\(blocks(i.c))", "\(i.h)", "\(i.w)", "\(blocks(o.c))", "\(o.h)", "\(o.w)", "\(conv.kernel)", "\(conv.stride)", "\(conv.padding)"])
            case .conv2dBackwardWeight(let conv):
                let (i, o) = (fm(x[1]), fm(x[0]))
                let kernel = KernelEmitter.convolutionWeightGradient(conv, input: [i.c, i.h, i.w], output: [o.c, o.h, o.w], target: target)
                if kernelNames.insert(kernel.name).inserted { kernels.append(kernel) }
                scratchSizes.insert(KernelEmitter.weightGradientScratch(conv, input: [i.c, i.h, i.w], output: [o.c, o.h, o.w], target: target))
                call = KernelCall(node: id, function: kernel.name, arguments: ["n", buffer(x[0]), buffer(x[1]), "t->scratch", try gradientSlot(id)])
            default:
                throw CodegenError(message: "\(node.name): \(node.op.mnemonic) has no training kernel")
            }
            steps.append(call.statement(in: graph))
        }

        let classes = graph[training.logits].type.dims[0]
        let inputDims = graph.nodes.first { $0.op == .input }!.type.dims
        let sgdLines = training.gradients.map { pair -> String in
            let node = graph[pair.parameter]
            let isBatchNorm = node.op == .parameter(.scale) || node.op == .parameter(.shift)
            return "    rc_sgd(t->params, t->grads, t->momentum, \(offsets[pair.parameter]!), \(node.type.elementCount), lr, momentum, \(isBatchNorm ? "bn_weight_decay" : "weight_decay"), nesterov); /* \(CText.comment(node.name)) */"
        }
        let stepParts = CodeGenerator.chunked(steps, function: "rc_step_part", parameters: "rc_trainer *t, int n, const float *input, const int32_t *labels, float *loss")
        let packParts = CodeGenerator.chunked(packLines, function: "rc_pack_part", parameters: "rc_trainer *t")
        let sgdParts = CodeGenerator.chunked(sgdLines, function: "rc_sgd_part",
                                             parameters: "rc_trainer *t, float lr, float momentum, float weight_decay, float bn_weight_decay, int nesterov")
        let name = CText.comment(graph.name)
        let c = """
            /* Generated by resnetc: the training step of model "\(name)". Do not edit. */
            #include "train.h"

            /* Vectors of \(target.lanes) floats: \(target). */
            #define RC_LANES \(target.lanes)
            \(KernelSources.forward)
            \(KernelSources.winograd)
            \(KernelSources.backward)
            /* Forward kernels shared with inference. */

            \(kernels.map(\.definition).joined(separator: "\n"))
            /* The trainer: flat parameter, gradient and momentum regions (state-dict order), packed
             * convolution weights for this step, each batch norm's batch statistics, and one arena of \(plan.arenaBytesPerImage) bytes per image. */
            struct rc_trainer {
                int max_batch;
                float *params, *grads, *momentum, *packed, *stats;
                double *scratch; /* per-task totals of the weight gradients */
                char *arena;
                /* Data-parallel runs: the all-reduce mean over the processes (NULL alone), their
                 * number, and the buffer \(syncBatchNorm ? "sync batch norm exchanges" : "it would exchange (this step has no sync batch norm)"). */
                rc_average_fn average;
                void *average_context;
                int ranks;
                double *sync;
            };

            int rc_abi_version(void) { return RC_ABI_VERSION; }
            long rc_param_floats(void) { return RC_PARAM_FLOATS; }
            long rc_arena_bytes_per_image(void) { return RC_ARENA_BYTES_PER_IMAGE; }
            long rc_input_floats(void) { return RC_INPUT_FLOATS; }
            long rc_output_floats(void) { return RC_OUTPUT_FLOATS; }
            float *rc_trainer_params(rc_trainer *t) { return t->params; }
            float *rc_trainer_grads(rc_trainer *t) { return t->grads; }
            float *rc_trainer_momentum(rc_trainer *t) { return t->momentum; }
            void rc_trainer_set_average(rc_trainer *t, rc_average_fn average, void *context, int ranks)
            {
                t->average = average;
                t->average_context = context;
                t->ranks = ranks > 0 ? ranks : 1;
            }

            void rc_trainer_destroy(rc_trainer *t)
            {
                if (!t) return;
                free(t->params); free(t->grads); free(t->momentum); free(t->packed); free(t->stats); free(t->scratch); free(t->arena); free(t->sync);
                free(t);
            }

            rc_trainer *rc_trainer_create(int max_batch)
            {
                if (max_batch < 1 || (size_t)max_batch > SIZE_MAX / 2 / RC_ARENA_BYTES_PER_IMAGE) return 0;
                rc_trainer *t = calloc(1, sizeof *t);
                if (!t) return 0;
                t->max_batch = max_batch;
                t->ranks = 1;
                t->sync = calloc(\(syncChannels), sizeof(double));
                t->params = calloc(RC_PARAM_FLOATS, sizeof(float));
                t->grads = calloc(RC_PARAM_FLOATS, sizeof(float));
                t->momentum = calloc(RC_PARAM_FLOATS, sizeof(float));
                const size_t packed_bytes = \(max(16, packedFloats)) * sizeof(float); /* whole 64-byte lines */
                t->packed = aligned_alloc(64, packed_bytes); /* aligned for rc_stream_floats */
                if (t->packed) memset(t->packed, 0, packed_bytes);
                t->stats = calloc(\(max(1, statsFloats)), sizeof(float));
                const size_t scratch_sizes[] = {\((["1"] + scratchSizes.sorted()).joined(separator: ", "))};
                size_t scratch = 0;
                for (size_t i = 0; i < sizeof scratch_sizes / sizeof scratch_sizes[0]; i++) if (scratch_sizes[i] > scratch) scratch = scratch_sizes[i];
                t->scratch = scratch <= SIZE_MAX / 2 / sizeof(double) ? malloc(scratch * sizeof(double)) : 0;
                t->arena = aligned_alloc(64, (size_t)RC_ARENA_BYTES_PER_IMAGE * (size_t)max_batch);
                if (!t->params || !t->grads || !t->momentum || !t->packed || !t->stats || !t->scratch || !t->arena || !t->sync) { rc_trainer_destroy(t); return 0; }
                return t;
            }

            #define BUF(offset) ((float *)(t->arena + (size_t)(offset) * (size_t)t->max_batch))
            #define P(offset) (t->params + (offset))
            #define G(offset) (t->grads + (offset))
            #define W(offset) (t->packed + (offset))
            #define STATS(offset) (t->stats + (offset))

            /* Convolution weights, from the flat parameters into the layouts the kernels read, shared out
             * among the threads of the step's region. */
            \(packParts.definitions)
            /* Forward with batch statistics, then backward, in schedule order, all run by every thread of
             * one parallel region: each kernel shares out its loops and ends at a barrier. */
            \(stepParts.definitions)
            int rc_train_step(rc_trainer *t, int n, const float *input, const int32_t *labels, float *loss, float *logits)
            {
                if (!t || n < 1 || n > t->max_batch) return -1;
                for (int b = 0; b < n; b++) if (labels[b] < 0 || labels[b] >= RC_OUTPUT_FLOATS) return -2;
            #pragma omp parallel
                {
            \(packParts.calls.map { "        \($0)(t);" }.joined(separator: "\n"))
            #pragma omp barrier
            \(stepParts.calls.map { "        \($0)(t, n, input, labels, loss);" }.joined(separator: "\n"))
                }
                if (logits) memcpy(logits, \(buffer(training.logits)), (size_t)n * RC_OUTPUT_FLOATS * sizeof(float));
                return 0;
            }

            /* SGD with momentum and weight decay, tensor by tensor in one parallel region (batch-norm gamma
             * and beta take their own decay). */
            \(sgdParts.definitions)
            void rc_sgd_step(rc_trainer *t, float lr, float momentum, float weight_decay, float bn_weight_decay, int nesterov)
            {
            #pragma omp parallel
                {
            \(sgdParts.calls.map { "        \($0)(t, lr, momentum, weight_decay, bn_weight_decay, nesterov);" }.joined(separator: "\n"))
                }
            }

            """
        let header = """
            /* Generated by resnetc: the training ABI of model "\(name)". Parameters, gradients and momentum
             * are flat float arrays in state-dict order (the manifest lists names and offsets). */
            #ifndef RESNETC_TRAIN_H
            #define RESNETC_TRAIN_H
            #include <stdint.h>

            #define RC_ABI_VERSION 1
            #define RC_PARAM_FLOATS \(floats)L
            #define RC_ARENA_BYTES_PER_IMAGE \(plan.arenaBytesPerImage)L
            #define RC_INPUT_FLOATS \(inputDims.reduce(1, *))L
            #define RC_OUTPUT_FLOATS \(classes)L

            typedef struct rc_trainer rc_trainer;

            int rc_abi_version(void);
            long rc_param_floats(void);
            long rc_arena_bytes_per_image(void);
            long rc_input_floats(void);
            long rc_output_floats(void);
            void rc_set_threads(int threads);
            rc_trainer *rc_trainer_create(int max_batch);
            void rc_trainer_destroy(rc_trainer *trainer);
            float *rc_trainer_params(rc_trainer *trainer);
            float *rc_trainer_grads(rc_trainer *trainer);
            float *rc_trainer_momentum(rc_trainer *trainer);
            /* Data-parallel training: average(context, values, count) replaces count doubles by their
             * mean over the `ranks` processes (an MPI all-reduce); sync batch norm calls it. */
            void rc_trainer_set_average(rc_trainer *trainer, void (*average)(void *context, double *values, int count), void *context, int ranks);
            /* Forward and backward on n <= max_batch images: the loss, the logits (if not NULL), every
             * gradient, and the running statistics updated in place. 0, or -1 for a bad n, -2 for a bad label. */
            int rc_train_step(rc_trainer *trainer, int n, const float *input, const int32_t *labels, float *loss, float *logits);
            void rc_sgd_step(rc_trainer *trainer, float lr, float momentum, float weight_decay, float bn_weight_decay, int nesterov);

            #endif

            """
        return TrainingSource(c: c, header: header, parameters: layout, parameterFloats: floats,
                              arenaBytesPerImage: plan.arenaBytesPerImage, inputDims: inputDims, classes: classes)
    }
}
