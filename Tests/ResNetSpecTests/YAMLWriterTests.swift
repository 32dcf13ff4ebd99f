import Foundation
import ResNetDiagnostics
@testable import ResNetSpec
import Testing
import TestSupport

/// A node on one line, for comparing trees.
enum TreeText {
    static func flow(_ node: YAMLNode) -> String {
        switch node.value {
        case .scalar(let text, let quoted): return quoted ? "\"\(text)\"" : text
        case .sequence(let items): return "[" + items.map(flow).joined(separator: ", ") + "]"
        case .mapping(let pairs): return "{" + pairs.map { "\(flow($0.key)): \(flow($0.value))" }.joined(separator: ", ") + "}"
        }
    }
}

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
                      "ends:", "%x", "@at", "`b`", "-5", "1e-4", "\u{7}bell", "back\\slash", "ünïcode",
                      "c1\u{85}nel", "\u{9B}csi", "ls\u{2028}  kept", "ps\u{2029}", "\u{FEFF}bom", "non\u{FFFE}char", "del\u{7F}"])
    func scalarsSurviveQuoting(_ text: String) throws {
        for quoted in [false, true] {
            // The same text as a key too: keys are written by the same rule.
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
                // A quoted scalar stays a string ("true" is not a boolean).
                if quoted, case let .scalar(_, readQuoted) = value.value { #expect(readQuoted) }
            }
            guard !text.isEmpty else { continue }
            let asKey = YAMLNode(.mapping([(YAMLNode(.scalar(text, quoted: quoted), at: SourceLocation(file: "t", line: 1, column: 1)),
                                            YAMLNode(.scalar("v", quoted: false), at: SourceLocation(file: "t", line: 1, column: 1)))]),
                                 at: SourceLocation(file: "t", line: 1, column: 1))
            let keyRead = try YAMLReader(file: "t").read(YAMLWriter.text(asKey))
            guard case let .mapping(pairs) = keyRead.value else { Issue.record("not a mapping"); continue }
            #expect(pairs.first?.key.scalarText == text, "key \(text.debugDescription) written as \(YAMLWriter.text(asKey).debugDescription)")
        }
    }

    @Test func nestingAndEmptyCollectionsReadBack() throws {
        let text = "a:\n  - [1, [2, 3]]\n  - {}\n  - []\n  - {b: {c: [x, {d: e}]}}\nf: {}\ng: []\n"
        let tree = try YAMLReader(file: "t").read(text)
        let written = YAMLWriter.text(tree)
        let again = try YAMLReader(file: "t").read(written)
        #expect(YAMLWriter.text(again) == written)
        #expect(TreeText.flow(again) == TreeText.flow(tree), "\(written)")
    }
}
