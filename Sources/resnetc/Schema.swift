import ArgumentParser
import ResNetSpec

/// `resnetc schema`: the spec language as JSON Schema, for editors and CI.
struct Schema: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the spec language as a JSON Schema.")

    func run() throws {
        print(JSONSchemaWriter.write(SpecSchema.root))
    }
}
