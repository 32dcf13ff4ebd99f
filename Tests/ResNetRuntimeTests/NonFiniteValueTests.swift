import Foundation
import ResNetPasses
import ResNetRuntime
import Testing
import TestSupport

/// NaN and infinity reach the logits of the image they came from, as in PyTorch: ReLU and max
/// pooling must not turn them into zeros, or bad weights and inputs would look like a model; and
/// non-finite logits are an error naming the image, never a prediction.
@Suite struct NonFiniteValueTests {
    func compiledSmallModel(withNaNIn poisoned: String? = nil) throws -> CompiledModel {
        let spec = "stem:\n  conv: {filters: 8, kernel: 3, stride: 1, padding: 1}\n  pool: {kernel: 3, stride: 2, padding: 1}"
        let result = Pipeline.frontEnd(file: try TestSpecs.file(TestSpecs.small(input: "{channels: 3, height: 16, width: 16}"), overriding: spec))
        let graph = try #require(result.graph), modelSpec = try #require(result.spec)
        var values = WeightInitializer.initialize(graph, spec: modelSpec, seed: 1)
        if let poisoned { values.tensors[poisoned]![0] = .nan }
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("resnetc-nan-\(UUID().uuidString)").path
        let compiler = try CCompiler(environment: ProcessInfo.processInfo.environment.merging(["RESNETC_CACHE": cache]) { _, new in new })
        return try InferenceBuild.build(graph, compiler: compiler).load(values, maxBatch: 2).model
    }

    @Test func aNaNPixelReachesItsImagesLogits() throws {
        let model = try compiledSmallModel()
        var images = (0..<(2 * model.inputFloats)).map { Float($0 % 7) / 7 - 0.5 }
        #expect(Scratch.errorText { _ = try model.forward(images, count: 2) } == "", "clean images give finite logits")
        images[model.inputFloats + 100] = .nan
        let text = Scratch.errorText { _ = try model.forward(images, count: 2) }
        #expect(text.contains("the logits of image 1 are not finite (nan)"), "image 0 is unaffected, image 1 is NaN: \(text)")
    }

    @Test func weightsThatFoldToNaNAreRefusedWhenPacked() throws {
        let text = Scratch.errorText { _ = try compiledSmallModel(withNaNIn: "conv1.weight") }
        #expect(text.contains("packing the weights gave nan"), "\(text)")
    }
}
