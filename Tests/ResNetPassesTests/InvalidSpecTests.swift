import Foundation
import ResNetPasses
import Testing
import TestSupport

/// Every broken spec in specs/invalid produces exactly the diagnostics in its `.expected` file.
@Suite struct InvalidSpecTests {
    static let specs = Fixtures.files(in: "specs/invalid", withExtension: "yaml")

    @Test func corpusIsNotEmpty() {
        #expect(Self.specs.count >= 15)
    }

    @Test(arguments: specs)
    func producesExpectedDiagnostics(_ name: String) {
        let result = Pipeline.frontEnd(file: Fixtures.path("specs/invalid/\(name)"))
        #expect(result.hasErrors, "\(name) should be rejected")
        #expect(result.diagnostics.allSatisfy { $0.location != nil }, "every diagnostic should be located")
        let golden = "specs/invalid/" + name.replacingOccurrences(of: ".yaml", with: ".expected")
        let mismatch = Golden.mismatch(Fixtures.rendered(result.diagnostics), goldenPath: golden)
        #expect(mismatch == nil, "\(mismatch ?? "")")
    }

    @Test(arguments: Fixtures.files(in: "specs", withExtension: "yaml"))
    func paperSpecsAreValid(_ name: String) {
        let result = Pipeline.frontEnd(file: Fixtures.path("specs/\(name)"))
        #expect(result.diagnostics.isEmpty, "\(Fixtures.rendered(result.diagnostics))")
        #expect(result.graph != nil)
    }
}
