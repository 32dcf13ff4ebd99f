import Foundation
import ResNetIR
import ResNetPasses
import ResNetReference
import ResNetRuntime
import Testing
import TestSupport

/// The generated training step against the interpreter running the same training graph: the
/// loss, the logits, every parameter's gradient and the updated running statistics.
@Suite(.serialized) struct TrainingDifferentialTests {
    @Test(arguments: TestSpecs.variants, TestMachines.runnable)
    func generatedTrainingStepMatchesTheReference(_ variant: (String, String), _ machine: TargetMachine) throws {
        try checkTrainingStep(variant, input: "{channels: 3, height: 11, width: 9}", machine: machine)
    }

    /// One-pixel-wide maps: a stride-2 convolution's last kernel column then lies wholly outside
    /// the image, which the weight gradient's column range must skip rather than round into.
    @Test(arguments: [TestSpecs.variants[0], TestSpecs.variants[4], TestSpecs.variants[7]])
    func oneColumnFeatureMaps(_ variant: (String, String)) throws {
        try checkTrainingStep(variant, input: "{channels: 3, height: 5, width: 1}", machine: .native)
    }

    /// Maps 40 wide (20 after the stride-2 stage), 5 images on 2 threads: the direct and Winograd
    /// kernels' full register tiles and their edges, the weight gradient's row chunks and
    /// per-thread batch slices, batch norm split over (image, block), and the fused
    /// normalise-add-ReLU pass of the residual blocks.
    @Test(arguments: [TestSpecs.variants[0], TestSpecs.variants[1], TestSpecs.variants[3], TestSpecs.variants[4]])
    func wideMapsOnTwoThreads(_ variant: (String, String)) throws {
        try checkTrainingStep(variant, input: "{channels: 3, height: 33, width: 40}", machine: .native, batch: 5, threads: 2)
    }

    func checkTrainingStep(_ variant: (String, String), input: String, machine: TargetMachine, batch: Int = 3, threads: Int? = nil) throws {
        let file = try TestSpecs.file(TestSpecs.small(input: input), overriding: variant.1)
        let forward = try #require(Pipeline.frontEnd(file: file, withLoss: true).graph)
        let build = try TrainingBuild.build(forward, compiler: try CCompiler(machine: machine))
        #expect(build.source.c.contains("rc_bn_normalize(n, "), "\(variant.0): every batch norm before a ReLU normalises in the fused pass")
        let parameters = RandomData.parameters(forward, seed: 5)
        let images = RandomData.input(forward, batch: batch, seed: 6)
        let labels: [Int32] = (0..<batch).map { [1, 4, 0, 2, 3][$0 % 5] }
        let expected = try ReferenceInterpreter(graph: build.training.graph).run(parameters: parameters, input: images, labels: labels)

        let trainer = try CompiledTrainer(library: build.library, maxBatch: batch + 1)
        if let threads { trainer.setThreadCount(threads) }
        try build.load(ParameterValues(tensors: parameters.mapValues(\.data)), into: trainer)
        var logits: [Float] = []
        let loss = try trainer.step(images: images.data, labels: labels, logits: &logits)

        #expect(abs(Double(loss) - Double(expected[1].data[0])) <= 1e-4 * abs(Double(expected[1].data[0])), "\(variant.0): loss")
        #expect(RandomData.relativeError(logits, expected[0].data) <= 1e-4, "\(variant.0): logits")
        let gradients = build.values(of: trainer.gradients)
        for (i, pair) in build.training.gradients.enumerated() {
            let name = build.training.graph[pair.parameter].name
            let error = RandomData.relativeError(gradients[name]!, expected[2 + i].data)
            #expect(error <= 1e-3, "\(variant.0) \(name): relative error \(error)")
        }
        let updated = build.values(of: trainer.parameters)
        for (i, pair) in build.training.runningStatistics.enumerated() {
            let name = build.training.graph[pair.state].name
            let error = RandomData.relativeError(updated[name]!, expected[2 + build.training.gradients.count + i].data)
            #expect(error <= 1e-4, "\(variant.0) \(name): relative error \(error)")
        }
    }
}
