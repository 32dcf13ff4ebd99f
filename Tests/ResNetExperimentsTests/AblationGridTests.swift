import Foundation
@testable import ResNetExperiments
import ResNetSpec
import Testing

/// Grids from `--vary` (cross product order, values that are YAML lists, refused forms, directory
/// names) and the differences between a variant's spec and the base.
@Suite struct AblationGridTests {
    @Test func crossProductVariesTheLastKeyFastest() throws {
        let grid = try AblationGrid(spec: "s.yaml", vary: ["shortcut=A,B", "depth=20,32,44"])
        #expect(grid.variants.map(\.name) == ["shortcut=A,depth=20", "shortcut=A,depth=32", "shortcut=A,depth=44",
                                              "shortcut=B,depth=20", "shortcut=B,depth=32", "shortcut=B,depth=44"])
        #expect(grid.variants[4].overrides == ["shortcut=B", "depth=32"])
    }

    @Test func valuesMayBeYAMLListsAndQuotedCommas() throws {
        #expect(AblationGrid.splitValues("[1, 2],[3],'a,b', {x: 1, y: 2}") == ["[1, 2]", "[3]", "'a,b'", "{x: 1, y: 2}"])
        let grid = try AblationGrid(spec: "s.yaml", vary: ["data.mean=[0.1],[0.2]"])
        #expect(grid.variants.map(\.overrides) == [["data.mean=[0.1]"], ["data.mean=[0.2]"]])
    }

    @Test(arguments: ["shortcut", "=A,B", "shortcut=", "shortcut=A,,B", "shortcut=A,A"])
    func malformedVaryIsRefused(_ text: String) {
        #expect(throws: (any Error).self) { try AblationGrid(spec: "s.yaml", vary: [text]) }
    }

    @Test func aKeyVariedTwiceIsRefused() {
        #expect(throws: (any Error).self) { try AblationGrid(spec: "s.yaml", vary: ["depth=20", "depth=32"]) }
    }

    @Test func directoryNamesAreSafeAndDistinct() throws {
        let grid = try AblationGrid(spec: "s.yaml", vary: ["name=a/b,A/B,../x,a b"])
        let names = grid.variants.map(\.directoryName)
        #expect(names.allSatisfy { !$0.contains("/") && !$0.hasPrefix(".") && !$0.contains(" ") })
        #expect(Set(names.map { $0.lowercased() }).count == names.count, "\(names)")
        let files = AblationGrid(specFiles: ["a/net.yaml", "b/net.yaml"])
        #expect(files.variants.map(\.directoryName) == ["net", "net-2"])
    }

    @Test func differencesNameChangedAddedAndDroppedKeys() throws {
        let base = try YAMLReader(file: "base").read("depth: 20\nshortcut: A\nstages:\n  - {filters: 16, blocks: 3}\n  - {filters: 32, blocks: 3}\ntrain: {lr: 0.1}\n")
        let variant = try YAMLReader(file: "v").read("shortcut: B\nstages:\n  - {filters: 16, blocks: 5}\n  - {filters: 32, blocks: 3}\ntrain: {lr: 0.1, epochs: 3}\n")
        #expect(SpecDifferences.between(base: base, variant: variant) == ["shortcut=B", "stages[0].blocks=5", "train.epochs=3", "depth=(default)"])
        let longer = try YAMLReader(file: "v").read("depth: 20\nshortcut: A\nstages: [{filters: 16, blocks: 3}]\ntrain: {lr: 0.1}\n")
        #expect(SpecDifferences.between(base: base, variant: longer) == ["stages=[{filters: 16, blocks: 3}]"])
        #expect(SpecDifferences.between(base: base, variant: base).isEmpty)
        let renamed = try YAMLReader(file: "v").read("name: other\ndepth: 20\nshortcut: A\nstages:\n  - {filters: 16, blocks: 3}\n  - {filters: 32, blocks: 3}\ntrain: {lr: 0.1}\n")
        #expect(SpecDifferences.between(base: base, variant: renamed).isEmpty)
    }
}
