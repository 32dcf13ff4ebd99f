import Foundation
import ResNetIR
import ResNetPasses
import ResNetReference
import ResNetRuntime
import Testing
import TestSupport

/// The reference gradients against finite differences of the loss, as directional derivatives
/// along random directions: (L(p + εd) − L(p − εd)) / 2ε must equal ⟨∇L, d⟩.
///
/// Each op's rule is checked strictly on graphs without ReLU kinks. Whole networks are checked
/// tensor by tensor within 5%: ReLU and max-pool switches inside ±ε, amplified by batch norm
/// over tiny batches, can move a finite difference further, so a disagreement is measured again
/// with a ten times smaller step, and every tensor must agree at one of the two.
@Suite struct GradientCheckTests {
    /// conv → BN (batch statistics) → [max pool] → global average pool → FC → cross-entropy.
    func smoothGraph(maxPool: Bool) throws -> Graph {
        var g = Graph(name: "smooth")
        let x = g.append(Node(op: .input, inputs: [], type: .activation([2, 6, 6]), name: "input"))
        let w = g.append(Node(op: .parameter(.weight), inputs: [], type: .parameter([8, 2, 3, 3]), name: "conv.weight"))
        let conv = try g.add(.conv2d(Convolution(outChannels: 8, kernel: 3, stride: 1, padding: 1)), [x, w], name: "conv")
        let statistics = [ParameterKind.scale, .shift, .runningMean, .runningVariance].map { kind in
            g.append(Node(op: .parameter(kind), inputs: [], type: .parameter([8]), name: "bn.\(kind.rawValue)"))
        }
        var y = try g.add(.batchNorm(BatchNormAttributes(epsilon: 1e-5, momentum: 0.1)), [conv] + statistics, name: "bn")
        if maxPool { y = try g.add(.maxPool(Window(kernel: 3, stride: 2, padding: 1)), [y], name: "pool") }
        y = try g.add(.globalAveragePool, [y], name: "avgpool")
        let fw = g.append(Node(op: .parameter(.weight), inputs: [], type: .parameter([5, 8]), name: "fc.weight"))
        let fb = g.append(Node(op: .parameter(.bias), inputs: [], type: .parameter([5]), name: "fc.bias"))
        let logits = try g.add(.linear, [y, fw, fb], name: "fc")
        let labels = g.append(Node(op: .labels, inputs: [], type: TensorType([], batched: true, element: .int32), name: "labels"))
        g.outputs = [logits, try g.add(.softmaxCrossEntropy, [logits, labels], name: "loss")]
        return g
    }

    /// For each trainable tensor: (analytic, numeric) directional derivatives along a random direction.
    func directionalDerivatives(_ graph: Graph, input: [Int], epsilon: Double, seed: UInt64) throws -> [(String, Double, Double)] {
        let training = ReferenceTraining(graph: graph)
        var rng = SplitMix64(seed: seed)
        var parameters: [String: Tensor] = [:]
        for id in graph.parameters {
            let node = graph[id]
            guard case .parameter(let kind) = node.op else { continue }
            let fan = max(1, node.type.dims.dropFirst().reduce(1, *))
            parameters[node.name] = Tensor(shape: node.type.dims, data: (0..<node.type.elementCount).map { _ in
                switch kind {
                case .weight: return Float(rng.nextNormal() * (2 / Double(fan)).squareRoot())
                case .scale, .runningVariance: return Float(0.5 + rng.nextUnit())
                default: return Float(rng.nextNormal() * 0.1)
                }
            })
        }
        let count = input.reduce(1, *)
        let images = Tensor(shape: input, data: (0..<count).map { _ in Float(rng.nextNormal()) })
        let labels = (0..<input[0]).map { Int32($0 % 5) }
        let step = try training.step(parameters: parameters, input: images, labels: labels)
        return try step.gradients.sorted(by: { $0.key < $1.key }).map { name, gradient in
            let raw = (0..<gradient.count).map { _ in rng.nextNormal() }
            let norm = raw.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let d = raw.map { $0 / norm }
            let analytic = zip(gradient.data, d).reduce(0.0) { $0 + Double($1.0) * $1.1 }
            func loss(_ sign: Double) throws -> Double {
                var shifted = parameters
                shifted[name]!.data = zip(parameters[name]!.data, d).map { Float(Double($0) + sign * epsilon * $1) }
                return try training.step(parameters: shifted, input: images, labels: labels).loss
            }
            return (name, analytic, (try loss(1) - loss(-1)) / (2 * epsilon))
        }
    }

    @Test(arguments: [false, true])
    func eachRuleMatchesFiniteDifferencesStrictly(_ maxPool: Bool) throws {
        for (name, analytic, numeric) in try directionalDerivatives(try smoothGraph(maxPool: maxPool), input: [4, 2, 6, 6], epsilon: 1e-2, seed: 1) {
            #expect(abs(numeric - analytic) <= 2e-3 * abs(analytic) + 1e-5, "\(name): numeric \(numeric), analytic \(analytic)")
        }
    }

    @Test(arguments: TestSpecs.variants)
    func networkGradientsMatchFiniteDifferences(_ variant: (String, String)) throws {
        let file = try TestSpecs.file(TestSpecs.small(input: "{channels: 2, height: 8, width: 8}"), overriding: variant.1)
        let graph = try #require(Pipeline.frontEnd(file: file, withLoss: true).graph)
        func agree(_ check: (String, Double, Double)) -> Bool {
            abs(check.2 - check.1) <= 5e-2 * max(abs(check.1), abs(check.2)) + 5e-4
        }
        // A tensor whose step of 1e-3 crossed a kink is measured again with 1e-4 (measured: the
        // same tensors then converge to the analytic value); every tensor must agree at one of them.
        let coarse = try directionalDerivatives(graph, input: [4, 2, 8, 8], epsilon: 1e-3, seed: 42)
        let fine = try directionalDerivatives(graph, input: [4, 2, 8, 8], epsilon: 1e-4, seed: 42)
        #expect(coarse.count >= 10)
        for (c, f) in zip(coarse, fine) where !agree(c) && !agree(f) {
            Issue.record("\(variant.0) \(c.0): analytic \(c.1), numeric \(c.2) (step 1e-3) and \(f.2) (step 1e-4)")
        }
    }

    @Test func runningStatisticsFollowPyTorch() throws {
        // input → BN → average pool → FC → loss, on values 0…31 over two 1×4×4 images:
        // batch mean 15.5, unbiased variance (32² − 1)/12 · 32/31 = 88.
        var g = Graph(name: "running")
        let x = g.append(Node(op: .input, inputs: [], type: .activation([1, 4, 4]), name: "input"))
        let statistics = [ParameterKind.scale, .shift, .runningMean, .runningVariance].map { kind in
            g.append(Node(op: .parameter(kind), inputs: [], type: .parameter([1]), name: "bn.\(kind.rawValue)"))
        }
        let bn = try g.add(.batchNorm(BatchNormAttributes(epsilon: 1e-5, momentum: 0.25)), [x] + statistics, name: "bn")
        let pooled = try g.add(.globalAveragePool, [bn], name: "avgpool")
        let fw = g.append(Node(op: .parameter(.weight), inputs: [], type: .parameter([2, 1]), name: "fc.weight"))
        let fb = g.append(Node(op: .parameter(.bias), inputs: [], type: .parameter([2]), name: "fc.bias"))
        let logits = try g.add(.linear, [pooled, fw, fb], name: "fc")
        let labels = g.append(Node(op: .labels, inputs: [], type: TensorType([], batched: true, element: .int32), name: "labels"))
        g.outputs = [logits, try g.add(.softmaxCrossEntropy, [logits, labels], name: "loss")]
        let parameters: [String: Tensor] = [
            "bn.scale": Tensor(shape: [1], data: [1]), "bn.shift": Tensor(shape: [1], data: [0]),
            "bn.running_mean": Tensor(shape: [1], data: [0.5]), "bn.running_var": Tensor(shape: [1], data: [1]),
            "fc.weight": Tensor(shape: [2, 1], data: [1, -1]), "fc.bias": Tensor(shape: [2], data: [0, 0]),
        ]
        let input = Tensor(shape: [2, 1, 4, 4], data: (0..<32).map(Float.init))
        let step = try ReferenceTraining(graph: g).step(parameters: parameters, input: input, labels: [0, 1])
        #expect(step.runningStatistics["bn.running_mean"]?.data == [0.75 * 0.5 + 0.25 * 15.5])
        #expect(abs((step.runningStatistics["bn.running_var"]?.data[0] ?? 0) - (0.75 * 1 + 0.25 * 88)) < 1e-4)
        #expect(Set(step.gradients.keys) == ["bn.scale", "bn.shift", "fc.weight", "fc.bias"], "running statistics are not trained")
    }
}
