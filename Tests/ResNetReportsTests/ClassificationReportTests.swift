import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ResNetReports
import Testing

/// Per-class scores against hand-computed values, hostile class names in every format, and the
/// heat map parsed as XML: one cell per pair, every count and every name where a reader looks.
@Suite struct ClassificationReportTests {
    // 3 classes; rows are true classes. "b" is never predicted; "c" has no images.
    static let report = ClassificationReport(title: "t <&>", classNames: ["a,1", "b|x", "c\"q"],
                                             confusion: [[8, 0, 2], [3, 0, 1], [0, 0, 0]], top1: 8.0 / 14, top5: 1, loss: 0.5)

    @Test func scoresMatchTheirDefinitions() {
        let scores = Self.report.scores
        // a: precision 8/11, recall 8/10; b: precision undefined, recall 0; c: recall undefined, precision 0/3.
        #expect(abs(scores[0].precision! - 8.0 / 11) < 1e-12 && abs(scores[0].recall! - 0.8) < 1e-12)
        #expect(abs(scores[0].f1! - 2 * (8.0 / 11) * 0.8 / (8.0 / 11 + 0.8)) < 1e-12)
        #expect(scores[1].precision == nil && scores[1].recall == 0 && scores[1].f1 == nil && scores[1].support == 4)
        #expect(scores[2].recall == nil && scores[2].precision == 0 && scores[2].support == 0)
        let pairs = Self.report.mostConfused()
        #expect(pairs.map(\.count) == [3, 2, 1] && pairs[0].trueClass == "b|x" && pairs[0].predicted == "a,1" && abs(pairs[0].share - 0.75) < 1e-12)
    }

    @Test func namesCannotBreakTheCSVOrTheTables() {
        let csv = Self.report.confusionCSV.split(separator: "\n")
        #expect(csv[0] == "true \\ predicted,\"a,1\",b|x,\"c\"\"q\"")
        #expect(csv[1] == "\"a,1\",8,0,2" && csv.count == 4)
        let scores = Self.report.scoresCSV.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(scores[0] == "class,precision,recall,f1,support" && scores[2] == "b|x,,0.000000,,4")
        #expect(Self.report.markdown.contains("| b\\|x | — | 0.00% | — | 4 |"))
    }

    /// Collects the SVG's rectangles and texts.
    final class Shapes: NSObject, XMLParserDelegate {
        var rects = 0, texts: [String] = [], inText = false
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
            if name == "rect" { rects += 1 }
            if name == "text" { inText = true; texts.append("") }
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { if name == "text" { inText = false } }
        func parser(_ parser: XMLParser, foundCharacters string: String) { if inText { texts[texts.count - 1] += string } }
    }

    @Test func theHeatMapIsValidSVGWithEveryCountAndName() throws {
        let svg = ConfusionMatrixPlot.svg(Self.report)
        let parser = XMLParser(data: Data(svg.utf8)), shapes = Shapes()
        parser.delegate = shapes
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        // 9 cells, 3 diagonal outlines, the frame, the background and the colour scale (20 steps + frame).
        #expect(shapes.rects == 9 + 3 + 1 + 1 + 21)
        for count in ["8", "2", "3", "1"] { #expect(shapes.texts.contains(count), "count \(count) is drawn") }
        #expect(!shapes.texts.contains("0"), "empty cells stay empty")
        for name in ["a,1", "b|x", "c\"q"] { #expect(shapes.texts.filter { $0 == name }.count == 2, "\(name) labels a row and a column") }
        #expect(shapes.texts.contains("t <&>"))
    }

    @Test func reportsAreWrittenButNeverOverAUsersFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("resnetc-report-\(UUID().uuidString)").path
        try Self.report.write(to: directory)
        try Self.report.write(to: directory)
        for name in ["report.md", "per_class.csv", "confusion.csv", "confusion.svg"] {
            #expect(FileManager.default.fileExists(atPath: "\(directory)/\(name)"))
        }
        try "my notes".write(toFile: "\(directory)/report.md", atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try Self.report.write(to: directory) }
        #expect(try String(contentsOfFile: "\(directory)/report.md", encoding: .utf8) == "my notes")
    }
}
