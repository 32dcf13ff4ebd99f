import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ResNetIR
import ResNetPasses
import ResNetReports
import ResNetSpec
import Testing
import TestSupport

/// The diagram against the compiler's own view of each spec: as many convolutions as the paper's
/// depth says, the shape the lowered graph pools, shortcuts of the kinds the options define, and
/// an SVG and a DOT file that parse.
@Suite struct NetworkDiagramTests {
    static let specs = Fixtures.files(in: "specs", withExtension: "yaml")

    func spec(_ path: String) throws -> (ModelSpec, Graph) {
        let front = Pipeline.frontEnd(file: path)
        return (try #require(front.spec), try #require(front.graph))
    }

    @Test(arguments: specs)
    func everySpecDrawsItsDepthAndItsShapes(_ path: String) throws {
        let (spec, graph) = try spec(Fixtures.path("specs/" + path))
        for unfold in [false, true] {
            let diagram = NetworkDiagram(spec: spec, unfold: unfold)
            #expect(diagram.convolutionLayers == spec.depth - 1, "\(path): conv layers plus the fc layer make the depth")
            let pooled = try #require(ModelSummary(graph: graph).layers.firstIndex { $0.op == "global_avg_pool" })
            let beforePool = ModelSummary(graph: graph).layers[pooled - 1].shape
            #expect(diagram.blocks[diagram.blocks.count - 2].output == beforePool, "\(path): the last block's output is what the graph pools")
        }
        let unfolded = NetworkDiagram(spec: spec, unfold: true)
        #expect(unfolded.blocks.count == 3 + spec.stages.reduce(0) { $0 + $1.blocks } && unfolded.blocks.allSatisfy { $0.repeats == 1 })
    }

    @Test func shortcutsAreDrawnAsTheOptionsDefineThem() throws {
        func kinds(_ name: String, unfold: Bool = true) throws -> [NetworkDiagram.Shortcut] {
            NetworkDiagram(spec: try spec(Fixtures.path("specs/\(name).yaml")).0, unfold: unfold).blocks.map(\.shortcut).filter { $0 != .none }
        }
        let a = try kinds("cifar-resnet20")
        #expect(a.count == 9 && a.filter { $0 == .zeroPadding }.count == 2 && a.filter { $0 == .identity }.count == 7)
        #expect(try kinds("resnet34-C").allSatisfy { $0 == .projection })
        // ResNet-50's first stage widens 64 → 256 channels, so every stage starts with a projection.
        #expect(try kinds("resnet50").filter { $0 == .projection }.count == 4)
        #expect(try kinds("cifar-plain20").isEmpty)
        let folded = NetworkDiagram(spec: try spec(Fixtures.path("specs/cifar-resnet1202.yaml")).0)
        #expect(folded.blocks.map(\.repeats) == [1, 1, 1, 199, 1, 199, 1, 199, 1])
    }

    /// Counts the SVG's shortcut arcs (paths with the arrow marker), dotted ones apart, and its texts.
    final class Shapes: NSObject, XMLParserDelegate {
        var arcs = 0, dotted = 0, texts: [String] = [], inText = false
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
            if name == "path", attributes["marker-end"] != nil {
                arcs += 1
                if attributes["stroke-dasharray"] != nil { dotted += 1 }
            }
            if name == "text" { inText = true; texts.append("") }
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { if name == "text" { inText = false } }
        func parser(_ parser: XMLParser, foundCharacters string: String) { if inText { texts[texts.count - 1] += string } }
    }

    @Test func theSVGAndTheDOTFileParseAndShowEveryShortcut() throws {
        var (resnet, _) = try spec(Fixtures.path("specs/resnet34.yaml"))
        resnet.name = "a <b> & \"c\""
        let diagram = NetworkDiagram(spec: resnet)
        let parser = XMLParser(data: Data(diagram.svg.utf8)), shapes = Shapes()
        parser.delegate = shapes
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        #expect(shapes.arcs == diagram.blocks.filter { $0.shortcut != .none }.count && shapes.dotted == 3, "ResNet-34 widens three times")
        #expect(shapes.texts.contains("× 2") && shapes.texts.contains("3×3 conv, 128, /2") && shapes.texts.contains("512×7×7"))
        #expect(shapes.texts.contains { $0.hasPrefix("a <b> & \"c\"") })
        let dot = diagram.dot
        #expect(dot.hasPrefix("digraph \"a <b> & \\\"c\\\"") && dot.hasSuffix("}\n"))
        #expect(dot.components(separatedBy: "style=dashed").count - 1 == 3 && dot.components(separatedBy: "style=solid").count - 1 == 5)
    }
}
