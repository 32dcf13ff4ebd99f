import ResNetCodegen
import ResNetPasses
import Testing
import TestSupport

/// The generated C for a small network, reviewed by hand; RECORD_GOLDEN=1 rewrites it.
@Suite struct CodegenGoldenTests {
    @Test func smallNetworkMatchesGolden() throws {
        let spec = TestSpecs.small() + "\nname: golden\nshortcut: A\n"
        let graph = try #require(Pipeline.frontEnd(file: try TestSpecs.file(spec)).graph)
        let program = try Pipeline.inferenceProgram(graph, layout: Target.avx2.layout)
        let source = try CodeGenerator.generate(graph: program.graph, plan: program.plan, target: .avx2)
        for (text, file) in [(source.c, "model.c"), (source.header, "model.h")] {
            let mismatch = Golden.mismatch(text, goldenPath: "Tests/ResNetRuntimeTests/Golden/\(file)")
            #expect(mismatch == nil, "\(mismatch ?? "")")
        }
    }

    @Test func kernelsAreSharedAcrossLayersOfOneShape() throws {
        let graph = try #require(Pipeline.frontEnd(file: Fixtures.path("specs/cifar-resnet110.yaml")).graph)
        let program = try Pipeline.inferenceProgram(graph, layout: Target.avx512.layout)
        let source = try CodeGenerator.generate(graph: program.graph, plan: program.plan, target: .avx512)
        #expect(source.kernelCount == 14, "110 layers, 14 distinct op-and-shape signatures")
    }
}
