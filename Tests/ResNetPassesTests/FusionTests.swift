import ResNetIR
import ResNetPasses
import ResNetSpec
import Testing
import TestSupport

/// What the inference passes make of real networks, and what they must leave alone.
@Suite struct FusionTests {
    func fused(_ spec: String, _ overrides: [String] = []) throws -> Graph {
        let graph = try #require(Pipeline.frontEnd(file: Fixtures.path("specs/\(spec).yaml"),
                                                   overrides: try overrides.map { try SpecOverride($0) }).graph)
        return try Pipeline.inferenceProgram(graph, layout: .widest).graph
    }

    func mnemonics(_ g: Graph) -> [String: Int] {
        g.nodes.filter { !$0.op.isLeaf && $0.type.batched }.reduce(into: [:]) { $0[$1.op.mnemonic, default: 0] += 1 }
    }

    @Test func resnet20FusesEveryBatchNormReluAndAdd() throws {
        #expect(mnemonics(try fused("cifar-resnet20")) == [
            "conv2d_bias_relu": 10, "conv2d_bias_add_relu": 9, "shortcut_pad": 2,
            "global_avg_pool": 1, "linear": 1,
        ])
    }

    @Test func projectionShortcutsBecomeBiasConvolutions() throws {
        let m = mnemonics(try fused("resnet50"))
        #expect(m["conv2d_bias"] == 4, "the four downsample projections")
        #expect(m["conv2d_bias_add_relu"] == 16)
        #expect(m["batch_norm"] == nil && m["relu"] == nil && m["add"] == nil)
    }

    @Test func plainNetworksFuseOnlyBatchNormAndRelu() throws {
        let m = mnemonics(try fused("plain18"))
        #expect(m["conv2d_bias_relu"] == 17)
        #expect(m["conv2d_bias_add_relu"] == nil)
    }

    @Test func keepsABatchNormWhoseConvolutionHasAnotherUser() throws {
        // conv → bn, with the conv's output also returned: folding would change that output.
        var g = Graph(name: "keep")
        let x = g.append(Node(op: .input, inputs: [], type: .activation([8, 4, 4]), name: "input"))
        let w = g.append(Node(op: .parameter(.weight), inputs: [], type: .parameter([8, 8, 3, 3]), name: "w"))
        let conv = try g.add(.conv2d(Convolution(outChannels: 8, kernel: 3, stride: 1, padding: 1)), [x, w], name: "conv")
        let stats = (0..<4).map { g.append(Node(op: .parameter(.scale), inputs: [], type: .parameter([8]), name: "s\($0)")) }
        let bn = try g.add(.batchNorm(BatchNormAttributes(epsilon: 1e-5, momentum: 0.1)), [conv] + stats, name: "bn")
        g.outputs = [bn, conv]
        let folded = try FoldBatchNorm.run(g)
        #expect(folded.nodes.contains { if case .batchNorm = $0.op { return true } else { return false } })
    }

    @Test func keepsAReluBeforeAnAdd() throws {
        // relu(conv) + x: the epilogue order is bias, add, relu, so only the relu may fuse.
        var g = Graph(name: "order")
        let x = g.append(Node(op: .input, inputs: [], type: .activation([8, 4, 4]), name: "input"))
        let w = g.append(Node(op: .parameter(.weight), inputs: [], type: .parameter([8, 8, 3, 3]), name: "w"))
        let conv = try g.add(.conv2d(Convolution(outChannels: 8, kernel: 3, stride: 1, padding: 1)), [x, w], name: "conv")
        let relu = try g.add(.relu, [conv], name: "relu")
        let sum = try g.add(.add, [relu, x], name: "add")
        g.outputs = [sum]
        let fusedGraph = try FuseEpilogues.run(g)
        #expect(fusedGraph.nodes.contains { $0.op == .add })
        #expect(fusedGraph.nodes.contains { $0.op.mnemonic == "conv2d_relu" })
    }
}
