import ResNetDiagnostics
@testable import ResNetSpec
import Testing

/// The libyaml-backed reader: locations, limits, and its errors.
@Suite struct YAMLReaderTests {
    let reader = YAMLReader(file: "t.yaml")

    @Test func keepsLineAndColumnOfEveryValue() throws {
        let tree = try reader.read("a: 1\nstages:\n  - {filters: 16}\n")
        #expect(tree["a"]?.location == SourceLocation(file: "t.yaml", line: 1, column: 4))
        guard case let .sequence(items)? = tree["stages"]?.value else { Issue.record("stages is not a list"); return }
        #expect(items[0]["filters"]?.location == SourceLocation(file: "t.yaml", line: 3, column: 15))
    }

    @Test func distinguishesQuotedScalars() throws {
        let tree = try reader.read("a: '1'\nb: 1\nc:\n")
        guard case let .scalar(_, quoted)? = tree["a"]?.value else { Issue.record("a is not a scalar"); return }
        #expect(quoted)
        #expect(tree["c"]?.isNull == true)
        #expect(tree["b"]?.isNull == false)
    }

    @Test func rejectsDuplicateKeysAtTheSecond() {
        #expect(throws: DiagnosticError.self) { try reader.read("a: 1\na: 2\n") }
        do { _ = try reader.read("a: 1\na: 2\n") } catch {
            #expect(error.diagnostics.first?.location?.line == 2)
        }
    }

    @Test func rejectsSecondDocument() {
        #expect(throws: DiagnosticError.self) { try reader.read("a: 1\n---\nb: 2\n") }
    }

    @Test func reportsInvalidUTF8WithItsByteOffset() {
        do {
            _ = try reader.read(bytes: Array("a: 1\nb: ".utf8) + [0xFF, 0x0A])
            Issue.record("invalid UTF-8 was accepted")
        } catch {
            let message = error.diagnostics.first?.message ?? ""
            #expect(message.contains("0xff"), "\(message)")
            #expect(message.contains("offset 8"), "\(message)")
        }
    }

    @Test func boundsNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        do { _ = try reader.read(deep); Issue.record("deep nesting accepted") } catch {
            #expect(error.diagnostics.first?.message.contains("nesting deeper") == true)
        }
    }

    @Test func boundsAliasExpansion() {
        var text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for (name, previous) in zip(["b", "c", "d", "e", "f", "g"], ["a", "b", "c", "d", "e", "f"]) {
            text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]\n"
        }
        do { _ = try reader.read(text); Issue.record("alias bomb accepted") } catch {
            #expect(error.diagnostics.first?.message.contains("expands to more than") == true)
        }
    }

    @Test func expandsSmallAliases() throws {
        let tree = try reader.read("base: &s {filters: 16, blocks: 2}\nstages: [*s, *s]\n")
        guard case let .sequence(items)? = tree["stages"]?.value else { Issue.record("stages is not a list"); return }
        #expect(items.count == 2)
        #expect(items[1]["filters"]?.scalarText == "16")
    }
}
