import Foundation
import ResNetIR
import ResNetPasses
import ResNetSpec
import Testing

/// Memory planning stays near-linear in depth. A training step of 2000 blocks keeps thousands of
/// activations alive at once, so a planner that compares each buffer with every buffer placed
/// before it takes minutes here; this one must plan it without overlaps, and as tightly as the
/// peak of live bytes allows (what the greedy plan reaches on every spec in specs/).
@Suite struct PlanMemoryScalingTests {
    static let deepNetwork = """
        input: {channels: 3, height: 8, width: 8}
        classes: 5
        stem:
          conv: {filters: 8, kernel: 3, stride: 1, padding: 1}
        stages:
          - {filters: 8, blocks: 1000, stride: 1}
          - {filters: 16, blocks: 1000, stride: 2}

        """

    func deepSpec() throws -> ModelSpec {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("resnetc-deep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("deep.yaml").path
        try Self.deepNetwork.write(toFile: file, atomically: true, encoding: .utf8)
        let loaded = SpecLoader().load(file: file)
        return try #require(loaded.spec, "\(loaded.diagnostics)")
    }

    @Test func trainingStepOfTwoThousandBlocks() throws {
        let graph = try Differentiate.run(try LowerSpec.lower(try deepSpec(), withLoss: true)).graph
        let plan = PlanMemory.run(graph, layout: .widest)
        #expect(plan.buffers.count == graph.nodes.filter { $0.type.batched && $0.op != .labels }.count)
        #expect(graph.nodes.count > 50_000)
        let overlaps = Self.overlaps(in: plan)
        #expect(overlaps.isEmpty, "\(overlaps.prefix(5))")
        #expect(plan.arenaBytesPerImage == Self.peakLiveBytes(plan))
    }

    @Test func inferenceOfTwoThousandBlocks() throws {
        let program = try Pipeline.inferenceProgram(try LowerSpec.lower(try deepSpec()), layout: .widest)
        let overlaps = Self.overlaps(in: program.plan)
        #expect(overlaps.isEmpty, "\(overlaps.prefix(5))")
        #expect(program.plan.arenaBytesPerImage == Self.peakLiveBytes(program.plan))
    }

    /// Pairs of buffers alive at one step whose bytes overlap, a legal in-place handoff aside: a
    /// sweep over the steps that keeps the live buffers sorted by offset and compares each new
    /// buffer with its neighbours there.
    static func overlaps(in plan: MemoryPlan) -> [String] {
        let buffers = plan.buffers.values.sorted { ($0.firstUse, $0.node) < ($1.firstUse, $1.node) }
        let position = Dictionary(uniqueKeysWithValues: buffers.enumerated().map { ($1.node, $0) })
        let byLastUse = buffers.indices.sorted { buffers[$0].lastUse < buffers[$1].lastUse }
        /// Indices into `buffers` of the live ones, by offset.
        var live: [Int] = []
        var retired = Set<Int>()
        var problems: [String] = []
        func liveIndex(after offset: Int) -> Int {
            var low = 0, high = live.count
            while low < high {
                let middle = (low + high) / 2
                if buffers[live[middle]].offset > offset { high = middle } else { low = middle + 1 }
            }
            return low
        }
        func retire(_ b: Int) {
            guard retired.insert(b).inserted else { return }
            var i = liveIndex(after: buffers[b].offset) - 1
            while i >= 0, live[i] != b { i -= 1 }
            if i >= 0 { live.remove(at: i) }
        }
        var next = 0
        for (b, buffer) in buffers.enumerated() {
            while next < byLastUse.count, buffers[byLastUse[next]].lastUse < buffer.firstUse {
                retire(byLastUse[next])
                next += 1
            }
            if let operand = buffer.inPlaceOf.flatMap({ position[$0] }), buffers[operand].lastUse == buffer.firstUse,
               buffers[operand].offset == buffer.offset {
                retire(operand)
            }
            let i = liveIndex(after: buffer.offset)
            if i > 0, buffers[live[i - 1]].offset + buffers[live[i - 1]].size > buffer.offset {
                problems.append("\(buffers[live[i - 1]].node) and \(buffer.node)")
            }
            if i < live.count, buffer.offset + buffer.size > buffers[live[i]].offset {
                problems.append("\(buffer.node) and \(buffers[live[i]].node)")
            }
            live.insert(b, at: i)
        }
        return problems
    }

    /// The most bytes alive at one step, counting a buffer written in place of its operand once:
    /// no plan can use a smaller arena.
    static func peakLiveBytes(_ plan: MemoryPlan) -> Int {
        var storage: [NodeID: NodeID] = [:]
        var groups: [NodeID: (first: Int, last: Int, size: Int)] = [:]
        for buffer in plan.buffers.values.sorted(by: { $0.node < $1.node }) {
            let root = buffer.inPlaceOf.flatMap { storage[$0] } ?? buffer.node
            storage[buffer.node] = root
            let group = groups[root] ?? (buffer.firstUse, buffer.lastUse, buffer.size)
            groups[root] = (min(group.first, buffer.firstUse), max(group.last, buffer.lastUse), max(group.size, buffer.size))
        }
        let changes = groups.values.flatMap { [(step: $0.first, bytes: $0.size), (step: $0.last + 1, bytes: -$0.size)] }
            .sorted { ($0.step, $0.bytes) < ($1.step, $1.bytes) }
        var live = 0, peak = 0
        for change in changes {
            live += change.bytes
            peak = max(peak, live)
        }
        return peak
    }
}
