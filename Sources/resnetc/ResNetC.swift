import ArgumentParser

/// The root command: one subcommand per job, each in its own file.
@main
struct ResNetC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resnetc",
        abstract: "A compiler for residual networks: YAML spec in, fast trained model out.",
        subcommands: [Check.self, Summary.self, Dump.self, Compile.self, Export.self, Predict.self, Eval.self, Run.self, Ablate.self, Report.self, Diagram.self,
                      Bench.self, Schema.self]
    )
}
