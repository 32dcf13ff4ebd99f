import Foundation
import ResNetIR
import ResNetPasses
import ResNetReference
import ResNetRuntime
import Testing
import TestSupport

/// The backward graph `Differentiate` builds, run by the interpreter, gives the same loss, every
/// gradient and every running statistic as the hand-written `ReferenceTraining` (itself checked
/// against finite differences).
@Suite struct DifferentiateTests {

    @Test(arguments: TestSpecs.variants)
    func backwardGraphMatchesTheReferenceStep(_ variant: (String, String)) throws {
        let file = try TestSpecs.file(TestSpecs.small(input: "{channels: 3, height: 9, width: 8}"), overriding: variant.1)
        let forward = try #require(Pipeline.frontEnd(file: file, withLoss: true).graph)
        let training = try Differentiate.run(forward)
        var rng = SplitMix64(seed: 9)
        var parameters: [String: Tensor] = [:]
        for id in forward.parameters {
            let node = forward[id]
            parameters[node.name] = Tensor(shape: node.type.dims, data: (0..<node.type.elementCount).map { _ in
                node.name.hasSuffix("running_var") || node.op == .parameter(.scale) ? Float(0.5 + rng.nextUnit()) : Float(rng.nextNormal() * 0.3)
            })
        }
        let input = Tensor(shape: [3, 3, 9, 8], data: (0..<(3 * 3 * 72)).map { _ in Float(rng.nextNormal()) })
        let labels: [Int32] = [4, 0, 2]
        let expected = try ReferenceTraining(graph: forward).step(parameters: parameters, input: input, labels: labels)
        let outputs = try ReferenceInterpreter(graph: training.graph).run(parameters: parameters, input: input, labels: labels)

        #expect(abs(Double(outputs[1].data[0]) - expected.loss) <= 1e-5 * abs(expected.loss), "loss")
        for (i, pair) in training.gradients.enumerated() {
            let name = training.graph[pair.parameter].name
            let reference = try #require(expected.gradients[name], "no reference gradient for \(name)")
            let error = zip(outputs[2 + i].data, reference.data).map { abs(Double($0) - Double($1)) }.max() ?? 0
            let scale = reference.data.map { abs(Double($0)) }.max() ?? 0
            #expect(error <= 1e-4 * scale + 1e-7, "\(variant.0) \(name): max error \(error) at scale \(scale)")
        }
        #expect(Set(training.gradients.map { training.graph[$0.parameter].name }) == Set(expected.gradients.keys))
        for (i, pair) in training.runningStatistics.enumerated() {
            let name = training.graph[pair.state].name
            let value = outputs[2 + training.gradients.count + i]
            let reference = try #require(expected.runningStatistics[name])
            let error = zip(value.data, reference.data).map { abs($0 - $1) }.max() ?? 0
            #expect(error <= 1e-5 * max(1, reference.data.map(abs).max() ?? 0), "\(name): \(error)")
        }
    }

    @Test func refusesGraphsWithoutTheLoss() throws {
        let forward = try #require(Pipeline.frontEnd(file: Fixtures.path("specs/cifar-resnet20.yaml")).graph)
        #expect(throws: ShapeError.self) { try Differentiate.run(forward) }
    }

    @Test func resnet20TrainingGraphIsWellFormed() throws {
        let forward = try #require(Pipeline.frontEnd(file: Fixtures.path("specs/cifar-resnet20.yaml"), withLoss: true).graph)
        let training = try Differentiate.run(forward)
        #expect(training.gradients.count == forward.parameters.filter {
            if case .parameter(let kind) = forward[$0].op { return kind.isTrainable } else { return false }
        }.count)
        #expect(training.runningStatistics.count == 2 * 19, "19 batch norms, mean and variance each")
        #expect(!training.graph.nodes.contains { $0.op.mnemonic == "conv2d_backward_input" && training.graph[$0.inputs[1]].name == "conv1.weight" },
                "no gradient flows into the images")
    }

    /// The stem's and every block's first batch norm feed only a ReLU, so their backward ops take
    /// the ReLU's mask; the block outputs' ReLUs follow an add and keep their own relu_backward.
    @Test func reluAfterABatchNormIsDifferentiatedWithIt() throws {
        let forward = try #require(Pipeline.frontEnd(file: Fixtures.path("specs/cifar-resnet20.yaml"), withLoss: true).graph)
        let graph = try Differentiate.run(forward).graph
        let fused = graph.nodes.filter { $0.op.mnemonic == "batch_norm_relu_backward" }.map { $0.name.split(separator: ":")[0] }
        #expect(Set(fused) == Set(["bn1"] + (1...3).flatMap { stage in (0..<3).map { "layer\(stage).\($0).bn1" } }))
        #expect(graph.nodes.filter { $0.op == .reluBackward }.count == 9, "one per block output")
        #expect(graph.nodes.filter { $0.op.mnemonic == "batch_norm_backward" }.count == 9, "every block's bn2, unfused")
        for node in graph.nodes where node.op.mnemonic == "batch_norm_relu_backward" {
            #expect(graph[node.inputs[5]].op == .relu, "\(node.name) is masked by its ReLU's output")
        }
    }
}
