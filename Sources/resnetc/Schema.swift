import ArgumentParser
import ResNetSpec

/// `resnetc schema`: the spec language as JSON Schema, for editors and CI.
struct Schema: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the spec language as a JSON Schema (or a Markdown key table).")

    @Flag(help: "Print the key reference as a Markdown table (the one in docs/SpecFormat.md) instead.")
    var markdown = false

    func run() throws {
        print(markdown ? SchemaMarkdownWriter.write(SpecSchema.root) : JSONSchemaWriter.write(SpecSchema.root), terminator: markdown ? "" : "\n")
    }
}
