import Foundation
import ResNetDiagnostics
@testable import ResNetSpec
import Testing
import TestSupport

/// YAMLWriter's text reads back as the same spec: every spec in specs/ (extends chains resolved),
/// and scalars that plain YAML would misread (indicators, `: `, ` #`, quotes, control codes).
@Suite struct YAMLWriterTests {
    static let specs = Fixtures.files(in: "specs", withExtension: "yaml")

    @Test(arguments: specs)
    func everySpecReadsBackTheSame(_ file: String) throws {
        let path = Fixtures.path("specs/\(file)")
        let resolved = SpecLoader().resolve(file: path)
        let tree = try #require(resolved.tree)
        let text = YAMLWriter.text(tree)
        let again = try YAMLReader(file: "written").read(text)
        #expect(YAMLWriter.text(again) == text)
        let original = SpecLoader().load(file: path).spec, written = SpecLoader().decode(again, defaultName: SpecLoader.stem(of: path)).spec
        #expect(original != nil && original == written, "\(file) written as:\n\(text)")
    }

    @Test(arguments: ["plain", "a: b", "x #y", "- item", "-", "[1]", "{a}", "'q'", "\"dq\"", "tab\there", "line\nbreak", "", "trailing ", " lead",
                      "ends:", "%x", "@at", "`b`", "-5", "1e-4", "\u{7}bell", "back\\slash", "ünïcode"])
    func scalarsSurviveQuoting(_ text: String) throws {
        for quoted in [false, true] {
            let node = YAMLNode(.mapping([(YAMLNode(.scalar("key", quoted: false), at: SourceLocation(file: "t", line: 1, column: 1)),
                                           YAMLNode(.scalar(text, quoted: quoted), at: SourceLocation(file: "t", line: 1, column: 6)))]),
                                at: SourceLocation(file: "t", line: 1, column: 1))
            let written = YAMLWriter.text(node)
            let read = try YAMLReader(file: "t").read(written)
            let value = try #require(read["key"])
            if text.isEmpty && !quoted {
                #expect(value.isNull, "\(written)")
            } else {
                #expect(value.scalarText == text, "\(text.debugDescription) written as \(written.debugDescription)")
            }
        }
    }
}
