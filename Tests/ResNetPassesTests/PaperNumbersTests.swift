import Foundation
import ResNetIR
import ResNetPasses
import ResNetSpec
import Testing
import TestSupport

/// `resnetc summary` against the integers in shared/REFERENCE.md (torchvision 0.29 and the paper).
@Suite struct PaperNumbersTests {
    func summary(_ spec: String, _ overrides: [String] = []) throws -> ModelSummary {
        let result = Pipeline.frontEnd(file: Fixtures.path("specs/\(spec).yaml"), overrides: try overrides.map { try SpecOverride($0) })
        let graph = try #require(result.graph, "\(result.diagnostics)")
        return ModelSummary(graph: graph)
    }

    /// (spec, parameters, multiply-adds) for torchvision's option-B, stride-on-3×3 models.
    static let torchvision: [(String, Int, Int)] = [
        ("resnet18", 11_689_512, 1_814_073_344),
        ("resnet34", 21_797_672, 3_663_761_408),
        ("resnet50", 25_557_032, 4_089_184_256),
        ("resnet101", 44_549_160, 7_801_405_440),
        ("resnet152", 60_192_808, 11_513_626_624),
    ]

    @Test(arguments: torchvision)
    func imageNetModelsMatchTorchvision(_ model: (String, Int, Int)) throws {
        let s = try summary(model.0)
        #expect(s.params == model.1)
        #expect(s.macs == model.2)
    }

    /// The paper's Table 1 FLOPs (two significant figures) for its stride-on-the-first-1×1 bottleneck.
    @Test(arguments: [("resnet50", 3.8), ("resnet101", 7.6), ("resnet152", 11.3)])
    func paperV1FlopsForStrideAtFirst(_ model: (String, Double)) throws {
        let v1 = try summary(model.0, ["stride_at=first"])
        let v15 = try summary(model.0)
        #expect(abs(Double(v1.macs) / 1e9 - model.1) < 0.1, "\(v1.macs)")
        #expect(v1.params == v15.params, "the stride's position does not change parameters")
        #expect(v1.macs < v15.macs)
    }

    /// (depth, exact option-A parameters) from REFERENCE.md's CIFAR table.
    @Test(arguments: [(20, 269_722), (32, 464_154), (44, 658_586), (56, 853_018), (110, 1_727_962), (1202, 19_421_274)])
    func cifarResNetsMatchThePaper(_ model: (Int, Int)) throws {
        let s = try summary("cifar-resnet\(model.0)")
        #expect(s.params == model.1)
        let weighted = s.layers.filter { $0.op.hasPrefix("conv2d") || $0.op == "linear" }.count
        #expect(weighted == model.0, "6n+2 weighted layers")
    }

    @Test func resnet20MultiplyAdds() throws {
        let s = try summary("cifar-resnet20")
        #expect(s.macs == 40_551_040)
    }

    @Test(arguments: [20, 32, 44, 56])
    func plainCifarNetsHaveTheResNetsParameters(_ depth: Int) throws {
        let plain = try summary("cifar-plain\(depth)"), residual = try summary("cifar-resnet\(depth)")
        #expect(plain.params == residual.params)
    }

    @Test func shortcutOptionsDifferOnlyByProjections() throws {
        let a = try summary("resnet34-A"), b = try summary("resnet34"), c = try summary("resnet34-C")
        let plain = try summary("plain34")
        #expect(a.params == plain.params, "option A adds no parameters")
        #expect(a.params < b.params && b.params < c.params)
        // B projects the three downsampling shortcuts: 1×1 conv + BN γ, β each.
        let projections = [(64, 128), (128, 256), (256, 512)].reduce(0) { $0 + $1.0 * $1.1 + 2 * $1.1 }
        #expect(b.params - a.params == projections)
    }

    @Test func ablationThroughSetMatchesTheDedicatedSpec() throws {
        let viaSet = try summary("resnet34", ["shortcut=A"]), dedicated = try summary("resnet34-A")
        #expect(viaSet.params == dedicated.params && viaSet.macs == dedicated.macs)
        let deeper = try summary("cifar-resnet20", ["stages[0].blocks=9", "stages[1].blocks=9", "stages[2].blocks=9", "depth=56"])
        let resnet56 = try summary("cifar-resnet56")
        #expect(deeper.params == resnet56.params && deeper.macs == resnet56.macs)
    }
}
