import Foundation
import ResNetDiagnostics
@testable import ResNetSpec
import Testing
import TestSupport

/// Loading specs: defaults, cross-key checks, `extends:` and `--set`.
@Suite struct SpecLoaderTests {
    static let minimal = """
        input: {channels: 3, height: 32, width: 32}
        classes: 10
        stem:
          conv: {filters: 16}
        stages:
          - {filters: 16, blocks: 3}
          - {filters: 32, blocks: 3, stride: 2}

        """

    func load(_ text: String, overrides: [String] = []) throws -> SpecLoader.Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("resnetc-spec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("net.yaml").path
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return SpecLoader(overrides: try overrides.map { try SpecOverride($0) }).load(file: file)
    }

    @Test func fillsDefaults() throws {
        let spec = try #require(try load(Self.minimal).spec)
        #expect(spec.name == "net")
        #expect(spec.stem.conv == ConvSettings(filters: 16, kernel: 3, stride: 1, padding: 1))
        #expect(spec.stem.pool == nil)
        #expect(spec.block == .basic)
        #expect(spec.shortcut == .B)
        #expect(spec.residual)
        #expect(spec.batchNorm == BatchNormSettings(epsilon: 1e-5, momentum: 0.1))
        #expect(spec.train.learningRate == 0.1 && spec.train.momentum == 0.9 && spec.train.weightDecay == 1e-4)
        #expect(spec.depth == 2 + 2 * 6)
    }

    @Test func readsBottleneckOptions() throws {
        let spec = try #require(try load(Self.minimal + "block: bottleneck\nexpansion: 2\nstride_at: first\n").spec)
        #expect(spec.block == .bottleneck(expansion: 2, strideAt: .first))
    }

    @Test func readsTheTrainingRecipe() throws {
        let text = Self.minimal + """
            train:
              iterations: 64000
              schedule: {type: step, milestones: [32000, 48000]}
              warmup: {iterations: 400, lr: 0.01, shape: constant}
            data: {dataset: cifar10, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], augment: {pad: 4, flip: true}}

            """
        let spec = try #require(try load(text).spec)
        #expect(spec.train.length == .iterations(64000))
        #expect(spec.train.schedule == .step(milestones: [32000, 48000], gamma: 0.1, unit: .iteration))
        #expect(spec.train.warmup == Warmup(length: 400, unit: .iteration, startLearningRate: 0.01, shape: .constant))
        #expect(spec.data.dataset == .cifar10)
        #expect(spec.data.augment == Augmentation(pad: 4, flip: true))
    }

    @Test func overridesAreReadAsYAMLAndValidated() throws {
        let spec = try #require(try load(Self.minimal, overrides: [
            "shortcut=A", "stages[1].blocks=9", "input.height=64", "data.mean=[0.49,0.48,0.45]",
            "stages[2]={filters: 64, blocks: 1, stride: 2}",
        ]).spec)
        #expect(spec.shortcut == .A)
        #expect(spec.stages[1].blocks == 9)
        #expect(spec.input.height == 64)
        #expect(spec.data.mean == [0.49, 0.48, 0.45])
        #expect(spec.stages.count == 3)
    }

    @Test func overrideErrorsNameTheOverride() throws {
        let result = try load(Self.minimal, overrides: ["stages[0].blocks=0", "shortcutt=A"])
        #expect(result.spec == nil)
        let files = Set(result.diagnostics.compactMap { $0.location?.file })
        #expect(files == ["--set stages[0].blocks=0", "--set shortcutt=A"])
        #expect(result.diagnostics.contains { $0.message.contains("did you mean 'shortcut'") })
    }

    @Test func nullOverrideRestoresTheDefault() throws {
        let spec = try #require(try load(Self.minimal + "train: {warmup: {epochs: 1}}\n", overrides: ["train.warmup=null"]).spec)
        #expect(spec.train.warmup == nil)
    }

    @Test func malformedOverridePathsAreLocated() {
        for text in ["noequals", "stages[x].blocks=1", "=3", "a..b=1"] {
            #expect(throws: DiagnosticError.self, "\(text)") { try SpecOverride(text) }
        }
    }

    @Test func extendsMergesKeyByKeyAndNullRemoves() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("resnetc-ext-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try (Self.minimal + "train: {iterations: 100, lr: 0.05}\n").write(to: directory.appendingPathComponent("base.yaml"), atomically: true, encoding: .utf8)
        let derived = "extends: base.yaml\nshortcut: C\ninput: {height: 28}\ntrain: {iterations: null, epochs: 3}\n"
        let file = directory.appendingPathComponent("derived.yaml")
        try derived.write(to: file, atomically: true, encoding: .utf8)
        let result = SpecLoader().load(file: file.path)
        let spec = try #require(result.spec, "\(result.diagnostics)")
        #expect(spec.shortcut == .C)
        #expect(spec.input == InputShape(channels: 3, height: 28, width: 32))
        #expect(spec.train.length == .epochs(3))
        #expect(spec.train.learningRate == 0.05)
        #expect(spec.name == "derived")
    }

    @Test func extendsCycleIsAnError() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("resnetc-cyc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "extends: b.yaml\n".write(to: directory.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        try "extends: a.yaml\n".write(to: directory.appendingPathComponent("b.yaml"), atomically: true, encoding: .utf8)
        let result = SpecLoader().load(file: directory.appendingPathComponent("a.yaml").path)
        #expect(result.diagnostics.contains { $0.message.contains("cycle") })
    }

    @Test func missingFileIsAnError() {
        let result = SpecLoader().load(file: "/nonexistent/spec.yaml")
        #expect(result.spec == nil)
        #expect(result.diagnostics.first?.message.contains("/nonexistent/spec.yaml") == true)
    }

    @Test func reportsEveryErrorInOnePass() throws {
        let text = Self.minimal.replacingOccurrences(of: "classes: 10", with: "classes: -1")
            + "shortcut: X\nresidual: 3\nblock: basic\nexpansion: 4\n"
        let result = try load(text)
        #expect(result.diagnostics.count == 4, "\(result.diagnostics.map(\.description))")
    }
}

/// The edit distance behind "did you mean".
@Suite struct NearestNameTests {
    @Test func suggestsCloseNamesOnly() {
        #expect(NearestName.suggestion(for: "filter", among: ["filters", "blocks", "stride"]) == "filters")
        #expect(NearestName.suggestion(for: "strdie", among: ["filters", "blocks", "stride"]) == "stride")
        #expect(NearestName.suggestion(for: "colour", among: ["filters", "blocks", "stride"]) == nil)
        #expect(NearestName.suggestion(for: "D", among: ["A", "B", "C"]) == nil)
        #expect(NearestName.suggestion(for: "a", among: ["A", "B", "C"]) == "A")
    }
}

/// docs/SpecFormat.md's key table is the schema's; the JSON Schema lists every top-level key.
@Suite struct SchemaDocumentationTests {
    @Test func specFormatDocumentsEveryKey() throws {
        let doc = try String(contentsOfFile: Fixtures.path("docs/SpecFormat.md"), encoding: .utf8)
        let table = try #require(doc.components(separatedBy: "<!-- keys:begin -->\n").last?.components(separatedBy: "<!-- keys:end -->").first)
        #expect(table == SchemaMarkdownWriter.write(SpecSchema.root), "regenerate with: resnetc schema --markdown")
    }

    @Test func jsonSchemaNamesEveryTopLevelKey() throws {
        let json = JSONSchemaWriter.write(SpecSchema.root)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let properties = try #require(object["properties"] as? [String: Any])
        guard case let .object(fields) = SpecSchema.root else { Issue.record("root is not an object"); return }
        #expect(Set(properties.keys) == Set(fields.map(\.name)))
    }
}
