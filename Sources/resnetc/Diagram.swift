import ArgumentParser
import Foundation
import ResNetReports
import ResNetRuntime

/// `resnetc diagram SPEC [-o net.svg] [--format svg|dot] [--unfold]`: the network as the paper's Figure 3.
struct Diagram: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a spec as the paper's Figure 3: layers, block output shapes, identity shortcuts solid, projection and zero-padding ones dotted.")

    /// The formats `--format` takes.
    enum Format: String, ExpressibleByArgument, CaseIterable { case svg, dot }

    @OptionGroup var options: SpecOptions

    @Option(name: [.customShort("o"), .long], help: "Write the drawing to this file (default: standard output).")
    var output: String?

    @Option(help: "svg, or dot for Graphviz (default: from -o's extension, else svg).")
    var format: Format?

    @Flag(help: "Draw every block instead of folding a stage's repeated blocks into one marked × n.")
    var unfold = false

    /// The first line of every file `diagram -o` writes, by which it knows its own files.
    static let marker = "<!-- written by resnetc diagram -->", dotMarker = "// written by resnetc diagram"

    func run() throws {
        let frontEnd = try options.frontEnd()
        let diagram = NetworkDiagram(spec: frontEnd.spec!, unfold: unfold)
        let chosen = format ?? (output.map { ($0 as NSString).pathExtension.lowercased() == "dot" ? .dot : .svg } ?? .svg)
        guard let output else {
            print(chosen == .svg ? diagram.svg : diagram.dot, terminator: "")
            return
        }
        let file = chosen == .svg
            ? OwnedFiles.svg(name: (output as NSString).lastPathComponent, diagram.svg, marker: Self.marker)
            : OwnedFiles.File(name: (output as NSString).lastPathComponent, text: Self.dotMarker + "\n" + diagram.dot, signature: Self.dotMarker + "\n")
        let directory = (output as NSString).deletingLastPathComponent
        do {
            try OwnedFiles.write([file], to: directory.isEmpty ? "." : directory, hint: "give another -o")
        } catch { throw fail(error) }
        print("wrote \(output): \(diagram.convolutionLayers) convolutions in \(diagram.blocks.count) drawn blocks\(unfold ? "" : " (repeats folded; --unfold draws each)")")
    }
}
