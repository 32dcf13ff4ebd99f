import Foundation
import ResNetIR
import ResNetPasses
import ResNetReference
import ResNetRuntime
import ResNetSpec
import Testing
import TestSupport

/// Generated C against the reference interpreter, on random weights and inputs, for every block
/// type and shortcut option, including shapes that are not multiples of the vector width, maps
/// whose every pixel is a border, and maps wide enough for interior tiles.
@Suite(.serialized) struct DifferentialTests {
    /// The shared variants plus shapes that stress the tiling: odd sizes and all-border maps.
    static let variants: [(String, String)] = TestSpecs.variants + [
        ("odd sizes, 12 channels", "stem:\n  conv: {filters: 12, kernel: 5, stride: 1}\nstages:\n  - {filters: 12, blocks: 1}\n  - {filters: 20, blocks: 1, stride: 2}\nshortcut: A"),
        ("tiny maps", "stages:\n  - {filters: 8, blocks: 1, stride: 2}\n  - {filters: 16, blocks: 1, stride: 2}\n  - {filters: 16, blocks: 1, stride: 2}\n  - {filters: 24, blocks: 1, stride: 2}"),
    ]

    func graph(_ extra: String, input: String = "{channels: 3, height: 12, width: 12}") throws -> Graph {
        let result = Pipeline.frontEnd(file: try TestSpecs.file(TestSpecs.small(input: input), overriding: extra))
        return try #require(result.graph, "\(result.diagnostics)")
    }

    @Test(arguments: variants, TestMachines.runnable)
    func generatedCMatchesTheReference(_ variant: (String, String), _ machine: TargetMachine) throws {
        // Three inputs that between them reach every case of each kernel's tiling (checked on the
        // tile parameters in the 16-lane kernels' enums, every variant below): 12 x 40 with 3
        // channels, whole Winograd tiles and several register tiles per row (so interior,
        // unchecked ones run too); 13 x 40 with 1 channel, partial tile rows and a one-channel
        // stem over interior tiles; 7 x 9 with 1 channel, partial tiles both ways and rows shorter
        // than a register tile. (Each input is one C compile per variant and width.)
        for input in ["{channels: 3, height: 12, width: 40}", "{channels: 1, height: 13, width: 40}", "{channels: 1, height: 7, width: 9}"] {
            let g = try graph(variant.1, input: input)
            let parameters = RandomData.parameters(g, seed: 7)
            let images = RandomData.input(g, batch: 3, seed: 11)
            let expected = try ReferenceInterpreter(graph: g).run(parameters: parameters, input: images)[0]

            let build = try InferenceBuild.build(g, compiler: try CCompiler(machine: machine))
            let values = ParameterValues(tensors: parameters.mapValues(\.data))
            let model = try build.load(values, maxBatch: 2).model
            let actual = try model.forward(images.data, count: 3)
            let error = RandomData.relativeError(actual, expected.data)
            #expect(error <= 1e-4, "\(variant.0) on \(input) for \(machine): relative error \(error)")
        }
    }

    @Test(arguments: variants)
    func passesPreserveTheReferenceResult(_ variant: (String, String)) throws {
        let g = try graph(variant.1)
        let parameters = RandomData.parameters(g, seed: 3)
        let images = RandomData.input(g, batch: 2, seed: 5)
        let before = try ReferenceInterpreter(graph: g).run(parameters: parameters, input: images)[0]
        let program = try Pipeline.inferenceProgram(g, layout: .widest)
        let after = try ReferenceInterpreter(graph: program.graph).run(parameters: parameters, input: images)[0]
        #expect(RandomData.relativeError(after.data, before.data) <= 1e-5)
    }

    @Test func threadCountDoesNotChangeResults() throws {
        let g = try graph("shortcut: B")
        let values = ParameterValues(tensors: RandomData.parameters(g, seed: 1).mapValues(\.data))
        let images = RandomData.input(g, batch: 4, seed: 2)
        let model = try InferenceBuild.build(g, compiler: try CCompiler()).load(values, maxBatch: 4).model
        model.setThreadCount(1)
        let one = try model.forward(images.data, count: 4)
        model.setThreadCount(2)
        let two = try model.forward(images.data, count: 4)
        #expect(one == two)
    }
}
