import ArgumentParser
import Foundation
import ResNetCodegen
import ResNetIR
import ResNetPasses
import ResNetRuntime

/// `resnetc summary SPEC [--json]`: the per-layer table with totals.
struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print per-layer output shapes, parameters, multiply-adds and activation memory.")

    @OptionGroup var options: SpecOptions

    @Flag(help: "Print JSON: {\"params\": …, \"macs\": …, \"layers\": […]}.")
    var json = false

    @Option(help: "Batch size for the arena line.")
    var batch = 1

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
    }

    func run() throws {
        let frontEnd = try options.frontEnd()
        let graph = frontEnd.graph!
        let layout = Target.host.layout
        let plan = try Pipeline.inferenceProgram(graph, layout: layout).plan
        let trainingPlan = try Pipeline.trainingPlan(for: frontEnd.spec!, layout: layout)
        var summary = ModelSummary(graph: graph, plan: plan)
        summary.trainingArenaBytesPerImage = trainingPlan.arenaBytesPerImage
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print(SummaryTable.render(summary))
            print("memory:      inference " + plan.report(batch: batch))
            print("             training " + trainingPlan.report(batch: batch) + "; parameters, gradients and momentum 3 × "
                  + SummaryTable.bytes(4 * (summary.params + summary.buffers)))
        }
    }
}

/// Renders a `ModelSummary` as an aligned text table.
enum SummaryTable {
    static func render(_ summary: ModelSummary) -> String {
        let header = ["layer", "op", "output shape", "params", "mult-adds", "activations"]
        let rows = summary.layers.map { layer in
            [layer.name, layer.op, "N×" + layer.shape.map(String.init).joined(separator: "×"),
             grouped(layer.params), grouped(layer.macs), bytes(layer.activationBytes)]
        }
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max()!
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column < 3 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        let rule = String(repeating: "─", count: widths.reduce(0, +) + 2 * (widths.count - 1))
        var out = ["model \(summary.name)", rule, line(header), rule]
        out += rows.map(line)
        out.append(rule)
        out.append("params:      \(grouped(summary.params)) trainable, \(grouped(summary.buffers)) batch-norm running statistics")
        out.append("mult-adds:   \(grouped(summary.macs)) per image (\(String(format: "%.2f", Double(summary.macs) / 1e9)) G)")
        out.append("activations: \(bytes(summary.activationBytes)) per image, unplanned")
        return out.joined(separator: "\n")
    }

    static func grouped(_ n: Int) -> String {
        let digits = String(n)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }

    static func bytes(_ n: Int) -> String {
        if n < 1024 { return "\(n) B" }
        if n < 1 << 20 { return String(format: "%.1f KiB", Double(n) / 1024) }
        return String(format: "%.1f MiB", Double(n) / Double(1 << 20))
    }
}
