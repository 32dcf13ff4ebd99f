import ArgumentParser
import ResNetCodegen
import ResNetIR
import ResNetPasses
import ResNetRuntime

/// `resnetc dump --stage ir SPEC`: shows the graph after a pipeline stage.
struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the graph after a compiler stage.")

    /// The stages whose result can be printed.
    enum Stage: String, ExpressibleByArgument, CaseIterable {
        /// As lowered from the spec.
        case ir
        /// After the inference passes (BN folded, epilogues fused, scheduled).
        case fused
        /// The fused graph with each buffer's arena offset and live range.
        case planned
        /// The generated model.c (the header follows with --header).
        case c
        /// The training step: forward with batch statistics, backward, running-statistic updates.
        case train
    }

    @Option(help: "Which stage: \(Stage.allCases.map(\.rawValue).joined(separator: ", ")).")
    var stage: Stage = .ir

    @Flag(help: "Include the training loss (labels and softmax cross-entropy).")
    var loss = false

    @Flag(help: "With --stage c, print model.h instead of model.c.")
    var header = false

    @OptionGroup var options: SpecOptions

    func run() throws {
        let graph = try options.frontEnd(withLoss: loss || stage == .train).graph!
        switch stage {
        case .train:
            print(GraphPrinter.print(try Differentiate.run(graph).graph), terminator: "")
        case .ir:
            print(GraphPrinter.print(graph), terminator: "")
        case .fused, .planned:
            let program = try Pipeline.inferenceProgram(graph, layout: Target.host.layout)
            print(GraphPrinter.print(program.graph, plan: stage == .planned ? program.plan : nil), terminator: "")
        case .c:
            let program = try Pipeline.inferenceProgram(graph, layout: Target.host.layout)
            let source = try CodeGenerator.generate(graph: program.graph, plan: program.plan, target: .host)
            print(header ? source.header : source.c, terminator: "")
        }
    }
}
