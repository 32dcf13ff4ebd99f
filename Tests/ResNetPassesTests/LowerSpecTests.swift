import Foundation
import ResNetIR
import ResNetPasses
import ResNetSpec
import Testing
import TestSupport

/// LowerSpec builds the graph torchvision users expect: the same parameter names and shapes.
@Suite struct LowerSpecTests {
    func graph(_ spec: String, _ overrides: [String] = [], withLoss: Bool = false) throws -> Graph {
        let result = Pipeline.frontEnd(file: Fixtures.path("specs/\(spec).yaml"), overrides: try overrides.map { try SpecOverride($0) },
                                       withLoss: withLoss)
        return try #require(result.graph, "\(result.diagnostics)")
    }

    /// Every parameter and running statistic, in order, as `name shape` lines.
    func stateDict(_ graph: Graph) -> [String] {
        graph.parameters.map { "\(graph[$0].name) \(graph[$0].type.dims.map(String.init).joined(separator: "x"))" }
    }

    /// Lines of a state dict listing dumped from torchvision itself (Fixtures/*.statedict).
    func torchvisionStateDict(_ model: String) throws -> [String] {
        let text = try String(contentsOfFile: Fixtures.path("Tests/ResNetPassesTests/Fixtures/torchvision-\(model).statedict"), encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
    }

    @Test(arguments: ["resnet18", "resnet50"])
    func parameterNamesAndShapesMatchTorchvision(_ model: String) throws {
        let ours = stateDict(try graph(model)), theirs = try torchvisionStateDict(model)
        #expect(ours == theirs)
    }

    @Test func optionAHasPadShortcutsWhereDimensionsChange() throws {
        let g = try graph("cifar-resnet20")
        let pads = g.ids.filter { if case .shortcutPad = g[$0].op { return true } else { return false } }
        #expect(pads.map { g[$0].name } == ["layer2.0.shortcut", "layer3.0.shortcut"])
        #expect(g[pads[0]].type == .activation([32, 16, 16]))
        #expect(!g.nodes.contains { $0.name.contains("downsample") })
    }

    @Test func optionCProjectsEveryShortcut() throws {
        let g = try graph("resnet34-C")
        let projections = g.nodes.filter { $0.name.hasSuffix("downsample.0") }.count
        #expect(projections == 3 + 4 + 6 + 3)
    }

    @Test func plainNetworksHaveNoAdds() throws {
        let g = try graph("plain34")
        #expect(!g.nodes.contains { $0.op == .add })
        let residual = try graph("resnet34")
        #expect(residual.nodes.filter { $0.op == .add }.count == 16)
    }

    @Test func strideAtChoosesTheStridedConvolution() throws {
        func stride(_ g: Graph, _ name: String) -> Int? {
            guard let node = g.nodes.first(where: { $0.name == name }), case .conv2d(let c) = node.op else { return nil }
            return c.stride
        }
        let v15 = try graph("resnet50"), v1 = try graph("resnet50", ["stride_at=first"])
        #expect(stride(v15, "layer2.0.conv1") == 1 && stride(v15, "layer2.0.conv2") == 2)
        #expect(stride(v1, "layer2.0.conv1") == 2 && stride(v1, "layer2.0.conv2") == 1)
    }

    @Test func lossNodesAreAddedForTraining() throws {
        let g = try graph("cifar-resnet20", withLoss: true)
        #expect(g.outputs.count == 2)
        #expect(g[g.outputs[1]].op == .softmaxCrossEntropy)
        #expect(g[g.outputs[1]].type == TensorType([], batched: false))
    }

    @Test func irDumpMatchesGolden() throws {
        let text = GraphPrinter.print(try graph("cifar-resnet20", withLoss: true))
        let mismatch = Golden.mismatch(text, goldenPath: "Tests/ResNetPassesTests/Golden/cifar-resnet20.ir")
        #expect(mismatch == nil, "\(mismatch ?? "")")
    }

    @Test func verifierRejectsBrokenGraphs() throws {
        var g = try graph("cifar-resnet20")
        let conv = try #require(g.ids.first { g[$0].name == "layer1.0.conv1" })
        g[conv].type = .activation([16, 31, 32])
        #expect(throws: ShapeError.self) { try Verifier.verify(g) }
        var h = try graph("cifar-resnet20")
        h[conv].inputs[0] = NodeID(h.nodes.count - 1)
        #expect(throws: ShapeError.self) { try Verifier.verify(h) }
    }
}
