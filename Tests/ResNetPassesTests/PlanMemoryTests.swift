import Foundation
import ResNetIR
import ResNetPasses
import ResNetSpec
import Testing
import TestSupport

/// The memory plan never lets two buffers that are alive at the same time share bytes, unless
/// one legally overwrites the other in place, for every spec in specs/.
@Suite struct PlanMemoryTests {
    @Test(arguments: Fixtures.files(in: "specs", withExtension: "yaml"))
    func liveBuffersNeverOverlap(_ name: String) throws {
        let graph = try #require(Pipeline.frontEnd(file: Fixtures.path("specs/\(name)")).graph)
        let program = try Pipeline.inferenceProgram(graph, layout: .widest)
        let buffers = program.plan.buffers.values.sorted { $0.node < $1.node }
        #expect(buffers.count == program.graph.nodes.filter(\.type.batched).count, "every batched tensor is planned")
        var byStart = buffers.sorted { $0.firstUse < $1.firstUse }
        var active: [MemoryPlan.Buffer] = []
        var checked = 0
        while !byStart.isEmpty {
            let b = byStart.removeFirst()
            active.removeAll { $0.lastUse < b.firstUse }
            for a in active where a.offset < b.offset + b.size && b.offset < a.offset + a.size {
                let inPlace = b.inPlaceOf == a.node && a.lastUse == b.firstUse && a.offset == b.offset
                #expect(inPlace, "\(name): \(a.node) [\(a.firstUse), \(a.lastUse)] and \(b.node) [\(b.firstUse), \(b.lastUse)] overlap in bytes")
                checked += 1
            }
            active.append(b)
            #expect(b.offset + b.size <= program.plan.arenaBytesPerImage)
            #expect(b.offset % TensorLayout.alignment == 0)
        }
        #expect(program.plan.arenaBytesPerImage < program.plan.unplannedBytesPerImage)
    }

    @Test func residualEpiloguesRunInPlace() throws {
        let graph = try #require(Pipeline.frontEnd(file: Fixtures.path("specs/cifar-resnet20.yaml")).graph)
        let program = try Pipeline.inferenceProgram(graph, layout: .widest)
        let inPlace = program.plan.buffers.values.filter { $0.inPlaceOf != nil }
        #expect(inPlace.count == 9, "each of the nine blocks' last conv overwrites its shortcut")
    }
}
