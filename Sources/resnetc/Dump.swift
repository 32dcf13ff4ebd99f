import ArgumentParser
import ResNetIR

/// `resnetc dump --stage ir SPEC`: shows the graph after a pipeline stage.
struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the graph after a compiler stage.")

    /// The stages whose result can be printed.
    enum Stage: String, ExpressibleByArgument, CaseIterable {
        case ir
    }

    @Option(help: "Which stage: \(Stage.allCases.map(\.rawValue).joined(separator: ", ")).")
    var stage: Stage = .ir

    @Flag(help: "Include the training loss (labels and softmax cross-entropy).")
    var loss = false

    @OptionGroup var options: SpecOptions

    func run() throws {
        let graph = try options.frontEnd(withLoss: loss).graph!
        switch stage {
        case .ir: print(GraphPrinter.print(graph), terminator: "")
        }
    }
}
