import Foundation
import ResNetDiagnostics
import ResNetIR
import ResNetPasses
import ResNetSpec
import Testing

/// Sizes beyond `SizeLimits` are rejected by the front end at the key that sets them, never by
/// a trap; sizes just inside pass, and summary, planning and differentiation handle them.
@Suite struct SizeLimitTests {
    /// Runs the front end on `text`, written to a spec file of its own.
    func frontEnd(_ text: String, _ overrides: [String] = []) throws -> Pipeline.FrontEndResult {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("resnetc-size-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("net.yaml").path
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return Pipeline.frontEnd(file: file, overrides: try overrides.map { try SpecOverride($0) })
    }

    /// The one error of a rejected spec, with its line and column.
    func onlyError(_ result: Pipeline.FrontEndResult) throws -> (line: Int, column: Int, message: String, hint: String?) {
        #expect(result.graph == nil)
        try #require(result.diagnostics.count == 1, "\(result.diagnostics)")
        let diagnostic = result.diagnostics[0]
        let location = try #require(diagnostic.location)
        #expect(diagnostic.severity == .error)
        return (location.line, location.column, diagnostic.message, diagnostic.hint)
    }

    @Test func hugeImageWithManyFiltersIsRejectedAtTheInput() throws {
        let error = try onlyError(try frontEnd("""
            input: {channels: 3, height: 1048576, width: 1048576}
            classes: 1048576
            stem:
              conv: {filters: 1048576}
            stages:
              - {filters: 1048576, blocks: 10000}

            """))
        #expect(error.line == 1 && error.column == 30, "at input.height")
        #expect(error.message == "input would be N×3×1048576×1048576 f32: 17592186044416 values per image "
                + "(channels padded to a multiple of 16); one tensor holds at most 2147483647")
        #expect(error.hint == SpecSizeLimits.tensorHint)
    }

    @Test func filtersAreBlamedForTheTensorsTheyMakeTooLarge() throws {
        let stem = try onlyError(try frontEnd("""
            input: {channels: 3, height: 11000, width: 11000}
            classes: 10
            stem:
              conv: {filters: 64}
            stages:
              - {filters: 64, blocks: 1}

            """))
        #expect(stem.line == 4 && stem.column == 19, "at stem.conv.filters")
        #expect(stem.message.hasPrefix("conv1 would be N×64×11000×11000 f32: 7744000000 values per image"))

        let stage = try onlyError(try frontEnd("""
            input: {channels: 3, height: 32, width: 32}
            classes: 10
            stem:
              conv: {filters: 16}
            stages:
              - {filters: 1048576, blocks: 1}

            """))
        #expect(stage.line == 6 && stage.column == 15, "at stages[0].filters")
        #expect(stage.message.hasPrefix("layer1.0.conv2.weight would be 1048576×1048576×3×3 f32: 9895604649984 values;"))

        let classes = try onlyError(try frontEnd("""
            input: {channels: 3, height: 8, width: 8}
            classes: 1048576
            stem:
              conv: {filters: 16}
            stages:
              - {filters: 2048, blocks: 1}

            """))
        #expect(classes.line == 2 && classes.column == 10, "at classes")
        #expect(classes.message.hasPrefix("fc.weight would be 1048576×2048 f32: 2147483648 values;"))
    }

    /// 16 × 511 × 262657 = 2³¹ − 16 stored values fit (whole blocks at every target's width); 16 × 512 × 262657 do not.
    @Test func theTensorLimitIsExact() throws {
        func spec(height: Int) -> String {
            """
            input: {channels: 16, height: \(height), width: 262657}
            classes: 10
            stem:
              conv: {filters: 16, kernel: 1, stride: 64, padding: 0}
            stages:
              - {filters: 16, blocks: 1}
            train: {batch_size: 1}

            """
        }
        let inside = try frontEnd(spec(height: 511))
        #expect(inside.diagnostics.isEmpty, "\(inside.diagnostics)")
        let graph = try #require(inside.graph)
        #expect(graph.nodes.map { TensorLayout.widest.storedElementCount($0.type) }.max() == SizeLimits.tensorElements - 15)
        let outside = try onlyError(try frontEnd(spec(height: 512)))
        #expect(outside.line == 1 && outside.column == 43, "at input.width, the largest dimension")
    }

    /// The batch limit is exact too: a training batch may hold 1 TiB of activations, no more.
    @Test func batchSizeIsBlamedForActivationsBeyondOneTebibyte() throws {
        let network = """
            input: {channels: 3, height: 2048, width: 2048}
            classes: 10
            stem:
              conv: {filters: 16}
            stages:
              - {filters: 16, blocks: 1}

            """
        let graph = try #require(try frontEnd(network, ["train.batch_size=1"]).graph)
        let perImage = graph.nodes.filter { $0.type.batched && $0.op != .labels }.reduce(0) { $0 + TensorLayout.widest.storedBytes($1.type) }
        let largest = SizeLimits.batchActivationBytes / perImage
        #expect(try frontEnd(network, ["train.batch_size=\(largest)"]).diagnostics.isEmpty)
        let error = try onlyError(try frontEnd(network, ["train.batch_size=\(largest + 1)"]))
        #expect(error.message.hasPrefix("a training batch of \(largest + 1) images needs"))
        #expect(error.hint == "use 'train.batch_size: \(largest)' or less")
    }

    @Test func blocksAreLimitedInAllStagesTogether() throws {
        func stages(_ first: Int, _ second: Int) -> String {
            """
            input: {channels: 3, height: 32, width: 32}
            classes: 10
            stem:
              conv: {filters: 16}
            stages:
              - {filters: 16, blocks: \(first)}
              - {filters: 32, blocks: \(second), stride: 2}

            """
        }
        let error = try onlyError(try frontEnd(stages(6000, 6000)))
        #expect(error.line == 7 && error.column == 27, "at stages[1].blocks")
        #expect(error.message == "the stages have 12000 blocks in all; at most 10000 are allowed")

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("resnetc-blocks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("net.yaml").path
        try stages(5000, 5000).write(toFile: file, atomically: true, encoding: .utf8)
        #expect(SpecLoader().load(file: file).diagnostics.isEmpty, "10000 blocks are allowed")
    }

    /// Every combination of extreme values, for each image side: either located errors, or a
    /// network whose summary, inference plan and training plan stay within the limits.
    @Test(arguments: [1, 7, 4096, 65536, 1 << 20])
    func extremeSpecsAreRejectedOrSummarised(side: Int) throws {
        let variants: [(block: String, overrides: [String])] = [("basic", []), ("bottleneck", ["block=bottleneck", "expansion=64"])]
        for channels in [1, 3, 1 << 20] {
            for filters in [1, 64, 1 << 20] {
                for (classes, batch) in [(1, 1), (1 << 20, 65536)] {
                    for (kernel, padding) in [(1, 0), (64, 64)] {
                        for variant in variants {
                            let label = "\(channels)×\(side)×\(side), \(filters) filters, \(classes) classes, kernel \(kernel), \(variant.block), batch \(batch)"
                            let result = try frontEnd("""
                                input: {channels: \(channels), height: \(side), width: \(side)}
                                classes: \(classes)
                                stem:
                                  conv: {filters: \(filters), kernel: \(kernel), stride: 1, padding: \(padding)}
                                stages:
                                  - {filters: \(filters), blocks: 1}
                                  - {filters: \(filters), blocks: 1, stride: 2}
                                train: {batch_size: \(batch)}

                                """, variant.overrides)
                            guard let graph = result.graph, let spec = result.spec else {
                                #expect(result.hasErrors, "\(label): rejected without an error")
                                #expect(result.diagnostics.allSatisfy { $0.location != nil }, "\(label): unlocated")
                                continue
                            }
                            let plan = try Pipeline.inferenceProgram(graph, layout: .widest).plan
                            let summary = ModelSummary(graph: graph, plan: plan)
                            let training = try Pipeline.trainingPlan(for: spec, layout: .widest)
                            #expect(summary.macs <= SizeLimits.multiplyAdds, "\(label)")
                            #expect(summary.params + summary.buffers <= SizeLimits.parameters, "\(label)")
                            #expect(plan.arenaBytesPerImage * batch <= SizeLimits.batchActivationBytes, "\(label)")
                            #expect(training.arenaBytesPerImage * batch < 1 << 44, "\(label)")
                        }
                    }
                }
            }
        }
    }
}
