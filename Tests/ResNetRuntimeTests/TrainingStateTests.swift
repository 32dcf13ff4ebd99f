import Foundation
import ResNetIR
import ResNetPasses
import ResNetRuntime
import ResNetSpec
import Testing
import TestSupport

/// Learning-rate schedules, checkpoints and the metrics log: the state `resnetc run` keeps.
@Suite struct TrainingStateTests {
    func spec(_ overrides: [String]) throws -> ModelSpec {
        let result = Pipeline.frontEnd(file: Fixtures.path("specs/cifar-resnet20.yaml"), overrides: try overrides.map { try SpecOverride($0) })
        return try #require(result.spec, "\(result.diagnostics)")
    }

    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("resnetc-state-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func thePapersCifarScheduleWithResNet110Warmup() throws {
        let lr = LearningRate(settings: try spec(["train.warmup={iterations: 400, lr: 0.01, shape: constant}"]).train, iterationsPerEpoch: 391)
        #expect(lr.totalIterations == 64_000)
        #expect(lr.rate(at: 0) == 0.01 && lr.rate(at: 399) == 0.01, "constant warm-up at 0.01")
        #expect(lr.rate(at: 400) == 0.1 && lr.rate(at: 31_999) == 0.1)
        #expect(abs(lr.rate(at: 32_000) - 0.01) < 1e-12 && abs(lr.rate(at: 47_999) - 0.01) < 1e-12, "÷10 at 32k")
        #expect(abs(lr.rate(at: 48_000) - 0.001) < 1e-12 && abs(lr.rate(at: 63_999) - 0.001) < 1e-12, "÷10 again at 48k")
    }

    @Test func epochMilestonesChangeAtEpochBoundaries() throws {
        let settings = try spec(["train.iterations=null", "train.epochs=90", "train.schedule={type: step, milestones: [30, 60]}"]).train
        let lr = LearningRate(settings: settings, iterationsPerEpoch: 100)
        #expect(lr.rate(at: 2999) == 0.1 && abs(lr.rate(at: 3000) - 0.01) < 1e-12 && abs(lr.rate(at: 6000) - 0.001) < 1e-12)
    }

    @Test func linearWarmupThenCosineToZero() throws {
        let settings = try spec(["train.iterations=null", "train.epochs=10", "train.schedule={type: cosine}",
                                 "train.warmup={epochs: 1, lr: 0.02, shape: linear}"]).train
        let lr = LearningRate(settings: settings, iterationsPerEpoch: 100)
        #expect(lr.warmupIterations == 100)
        #expect(lr.rate(at: 0) == 0.02 && abs(lr.rate(at: 50) - 0.06) < 1e-12, "linear from 0.02 to 0.1")
        #expect(abs(lr.rate(at: 100) - 0.1) < 1e-12, "cosine starts at the base rate")
        #expect(abs(lr.rate(at: 550) - 0.05) < 1e-12, "half way down half way through")
        #expect(lr.rate(at: 999) < 1e-5 && lr.rate(at: 999) >= 0)
    }

    @Test func checkpointsRoundTripAndRefuseOtherNetworks() throws {
        let graph = try #require(Pipeline.frontEnd(file: try TestSpecs.file(TestSpecs.small())).graph)
        let spec = try #require(Pipeline.frontEnd(file: try TestSpecs.file(TestSpecs.small())).spec)
        let values = WeightInitializer.initialize(graph, spec: spec, seed: 3)
        let momentum = ["fc.weight": [Float](repeating: 0.25, count: 80), "fc.bias": [Float](repeating: -1, count: 5)]
        let path = try temporaryDirectory() + "/checkpoint.safetensors"
        try Checkpoint(parameters: values, momentum: momentum, iteration: 1234, seed: 7, graphHash: "abc").write(to: path, graph: graph)
        let restored = try Checkpoint.read(path, graph: graph, graphHash: "abc")
        #expect(restored.iteration == 1234 && restored.seed == 7)
        #expect(restored.parameters.tensors == values.tensors)
        #expect(restored.momentum == momentum)
        do {
            _ = try Checkpoint.read(path, graph: graph, graphHash: "other")
            Issue.record("a checkpoint of another network was accepted")
        } catch {
            #expect("\(error)".contains("different network"))
        }
        try values.write(safetensors: path, for: graph)
        #expect(throws: RuntimeError.self) { try Checkpoint.read(path, graph: graph, graphHash: "abc") }
    }

    @Test func metricsLogAppendsAcrossReopens() throws {
        let path = try temporaryDirectory() + "/metrics.csv"
        let row = MetricsLog.Row(iteration: 391, epoch: 1, learningRate: 0.1, trainLoss: 1.5, trainError: 0.5,
                                 testLoss: nil, testError: nil, testTop5Error: nil, seconds: 12.5)
        try MetricsLog(path: path).append(row)
        try MetricsLog(path: path).append(row)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("iteration,epoch,lr,train_loss,train_error,test_loss,test_error,test_top5_error,seconds\n"))
        #expect(try MetricsLog(path: path).rows() == Array(repeating: ["391", "1", "0.1", "1.5", "0.5", "", "", "", "12.500"], count: 2))
        try "a,b\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: RuntimeError.self) { try MetricsLog(path: path) }
    }
}
