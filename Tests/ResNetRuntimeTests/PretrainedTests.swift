import Foundation
import ResNetPasses
import ResNetRuntime
import ResNetSpec
import Testing
import TestSupport

/// Weights trained elsewhere (shared/data/pretrained, PyTorch) reproduce the test accuracy their
/// README documents on the real CIFAR-10 test set, with the normalisation it gives.
@Suite(.serialized) struct PretrainedTests {
    static let data = Fixtures.path("../shared/data")

    @Test(.enabled(if: FileManager.default.fileExists(atPath: data + "/cifar10/test_batch.bin")),
          arguments: [(20, 0.9173), (56, 0.9339)])
    func pretrainedCifarResNetsReachTheirDocumentedAccuracy(_ model: (depth: Int, accuracy: Double)) throws {
        let result = Pipeline.frontEnd(file: Fixtures.path("specs/cifar-resnet\(model.depth).yaml"))
        let graph = try #require(result.graph)
        let values = try ParameterValues.load(safetensors: Self.data + "/pretrained/cifar-resnet\(model.depth)-akamaster.safetensors", for: graph)
        let loaded = try InferenceBuild.build(graph, compiler: try CCompiler()).load(values, maxBatch: 500).model
        let test = try DatasetSource(argument: "cifar10:" + Self.data + "/cifar10").load(training: false, input: InputShape(channels: 3, height: 32, width: 32))
        let evaluation = try Evaluator.evaluate(loaded, on: test, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], batch: 500)
        #expect(evaluation.images == 10_000)
        #expect(abs(evaluation.top1 - model.accuracy) < 0.0005, "top-1 \(evaluation.top1), documented \(model.accuracy)")
        #expect(evaluation.top5 > evaluation.top1)
    }
}
