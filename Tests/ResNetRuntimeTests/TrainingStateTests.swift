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

    static let recipe = TrainingRecipe(values: ["seed": "7", "train.batchSize": "128"])

    func smallNetwork() throws -> (graph: Graph, values: ParameterValues) {
        let result = Pipeline.frontEnd(file: try TestSpecs.file(TestSpecs.small()))
        let graph = try #require(result.graph), spec = try #require(result.spec)
        return (graph, WeightInitializer.initialize(graph, spec: spec, seed: 3))
    }

    @Test func checkpointsRoundTripAndRefuseOtherNetworks() throws {
        let (graph, values) = try smallNetwork()
        let momentum = values.tensors.mapValues { $0.map { -0.5 * $0 } }
        var metrics = MetricsLog()
        metrics.append(MetricsLog.Row(iteration: 10, epoch: 1, learningRate: 0.1, trainLoss: 1, trainError: 0.5, testLoss: 1, testError: 0.5,
                                      testTop5Error: 0.1, seconds: 1))
        let path = try Scratch.directory() + "/checkpoint.safetensors"
        try Checkpoint(parameters: values, momentum: momentum, iteration: 1234, recipe: Self.recipe, graphHash: "abc", metrics: metrics)
            .write(to: path, graph: graph)
        let restored = try Checkpoint.read(path, graph: graph, graphHash: "abc")
        #expect(restored.iteration == 1234 && restored.recipe == Self.recipe && restored.metrics == metrics)
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

    /// Writes a checkpoint of the small network with `edit` applied to its tensors and metadata,
    /// and returns what reading it says.
    func readEdited(_ edit: (inout [(name: String, shape: [Int], values: [Float])], inout [String: String]) -> Void) throws -> String {
        let (graph, values) = try smallNetwork()
        let path = try Scratch.directory() + "/checkpoint.safetensors"
        try Checkpoint(parameters: values, momentum: values.tensors, iteration: 5, recipe: Self.recipe, graphHash: "abc", metrics: MetricsLog())
            .write(to: path, graph: graph)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var metadata = try SafeTensors.metadata(data, file: path)
        let entries = try SafeTensors.parse(data, file: path)
        var tensors = entries.keys.sorted().map { (name: $0, shape: entries[$0]!.shape, values: entries[$0]!.values) }
        edit(&tensors, &metadata)
        try SafeTensors.serialize(tensors, metadata: metadata).write(to: URL(fileURLWithPath: path))
        do { _ = try Checkpoint.read(path, graph: graph, graphHash: "abc"); return "" } catch { return "\(error)" }
    }

    @Test func checkpointsAreValidatedBeforeUse() throws {
        // A momentum larger than its parameter used to be copied past the end of the region.
        let oversized = try readEdited { tensors, _ in
            let i = tensors.firstIndex { $0.name == "momentum.fc.bias" }!
            tensors[i] = (name: "momentum.fc.bias", shape: [50_000], values: .init(repeating: 1, count: 50_000))
        }
        #expect(oversized.contains("'momentum.fc.bias' has shape [50000]"), "\(oversized)")
        let negative = try readEdited { _, metadata in metadata["iteration"] = "-5" }
        #expect(negative.contains("'iteration' is '-5'"), "\(negative)")
        let nan = try readEdited { tensors, _ in
            let i = tensors.firstIndex { $0.name == "fc.weight" }!
            tensors[i].values[3] = .nan
        }
        #expect(nan.contains("'fc.weight' holds nan at index 3"), "\(nan)")
        let unknown = try readEdited { tensors, _ in tensors.append((name: "extra", shape: [1], values: [0])) }
        let noMomentum = try readEdited { tensors, _ in tensors.removeAll { $0.name == "momentum.fc.bias" } }
        #expect(noMomentum.contains("'momentum.fc.bias' is missing"), "a resume without momentum would not be exact: \(noMomentum)")
        let negativeVariance = try readEdited { tensors, _ in
            let i = tensors.firstIndex { $0.name == "bn1.running_var" }!
            tensors[i].values[2] = -1
        }
        #expect(negativeVariance.contains("'bn1.running_var' holds the negative variance -1.0 at index 2"), "\(negativeVariance)")
        #expect(unknown.contains("'extra' is not a parameter"), "\(unknown)")
        let noRecipe = try readEdited { _, metadata in metadata["recipe"] = nil }
        #expect(noRecipe.contains("recipe"), "\(noRecipe)")
        #expect(try readEdited { _, _ in } == "", "the unedited checkpoint reads")
    }

    @Test func resumingRefusesAChangedRecipeNamingEachKey() throws {
        var changed = Self.recipe
        changed.values["train.batchSize"] = "64"
        changed.values["seed"] = "8"
        let text = Scratch.errorText { try changed.requireSame(as: Self.recipe, checkpoint: "run/checkpoint.safetensors") }
        #expect(text.contains("train.batchSize: 128 in the checkpoint, 64 now"), "\(text)")
        #expect(text.contains("seed: 7 in the checkpoint, 8 now"), "\(text)")
        #expect(Scratch.errorText { try Self.recipe.requireSame(as: Self.recipe, checkpoint: "c") } == "")
        let parsed = try TrainingRecipe(serialized: Self.recipe.serialized, file: "c")
        #expect(parsed == Self.recipe)
    }

    @Test func metricsRoundTripThroughTheirText() throws {
        var log = MetricsLog()
        let row = MetricsLog.Row(iteration: 391, epoch: 1, learningRate: 0.1, trainLoss: 1.5, trainError: 0.5,
                                 testLoss: nil, testError: nil, testTop5Error: nil, seconds: 12.5)
        log.append(row)
        log.append(row)
        let path = try Scratch.directory() + "/metrics.csv"
        try log.write(to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("iteration,epoch,lr,train_loss,train_error,test_loss,test_error,test_top5_error,seconds\n"))
        #expect(try MetricsLog.read(path).rows == Array(repeating: ["391", "1", "0.1", "1.5", "0.5", "", "", "", "12.500"], count: 2))
        try "a,b\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: RuntimeError.self) { try MetricsLog.read(path) }
    }

}
