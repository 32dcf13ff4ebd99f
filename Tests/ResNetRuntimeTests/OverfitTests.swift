import Foundation
import ResNetPasses
import ResNetRuntime
import ResNetSpec
import Testing
import TestSupport

/// The whole training path (generated forward, backward and SGD, the loader, the schedule)
/// can drive a small network to memorise 256 real Fashion-MNIST images.
@Suite(.serialized) struct OverfitTests {
    @Test(.enabled(if: FileManager.default.fileExists(atPath: DatasetSource.fashionMNISTDirectory + "/train-labels-idx1-ubyte.gz")))
    func smallNetOverfits256FashionImages() throws {
        let overrides = ["stages=[{filters: 16, blocks: 1, stride: 1}, {filters: 32, blocks: 1, stride: 2}, {filters: 32, blocks: 1, stride: 2}]",
                         "depth=null", "data.augment={pad: 0, flip: false}", "train.batch_size=64", "train.epochs=60",
                         "train.lr=0.1", "train.schedule={type: cosine}", "train.warmup=null", "train.weight_decay=0"]
        let result = Pipeline.frontEnd(file: Fixtures.path("specs/fashion-resnet20.yaml"), overrides: try overrides.map { try SpecOverride($0) },
                                       withLoss: true)
        let spec = try #require(result.spec, "\(result.diagnostics)"), graph = try #require(result.graph)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("resnetc-overfit-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let source = try DatasetSource(argument: "fashion-mnist")
        let trainer = try Trainer(spec: spec, forward: graph, options: .init(outputDirectory: out, epochs: nil, limit: 256, testLimit: 500, mode: .start,
                                                                             threads: nil, seed: 1), compiler: try CCompiler())
        _ = try trainer.run(initial: WeightInitializer.initialize(graph, spec: spec, seed: 1), source: source) { _ in }
        // Training accuracy as training measures it (batch statistics), over the last epoch.
        let rows = try MetricsLog.read(out + "/metrics.csv").rows
        #expect(rows.count == 60)
        let lastTrainError = try #require(Double(rows.last![4]))
        #expect(lastTrainError <= 0.01, "training accuracy in the last epoch: \(1 - lastTrainError)")
        #expect(Double(rows.last![3])! < Double(rows.first![3])! / 5, "the training loss falls")
        // Evaluation (running statistics) on held-out images does far better than chance (10%).
        let bestTestError = rows.compactMap { Double($0[6]) }.min()!
        #expect(bestTestError < 0.6, "best test error \(bestTestError)")
    }
}
