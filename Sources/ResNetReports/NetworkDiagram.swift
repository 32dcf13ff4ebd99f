import Foundation
import ResNetSpec

/// `resnetc diagram`: a spec drawn as the paper's Figure 3 draws its networks. A column of layer
/// boxes from the image to the classifier, one colour per stage, each block's output shape on
/// its left, and each block's shortcut as an arc on its right: solid for an identity, dotted
/// for a projection or option A's zero-padding (labelled), none for a plain net. Long nets stay
/// readable: a stage's second and later blocks are identical, so they are drawn once with
/// "× n" unless unfolded. Also as Graphviz DOT.
public struct NetworkDiagram {
    /// How a block's input reaches its output.
    public enum Shortcut: Equatable {
        case none, identity, projection, zeroPadding
    }

    /// One drawn block: its layers' labels, shortcut, output shape and how many blocks it stands for.
    public struct Block: Equatable {
        public var layers: [String]
        public var shortcut: Shortcut
        /// Channels, height, width.
        public var output: [Int]
        public var repeats: Int
        /// 0 for the stem and head, stage number from 1 otherwise.
        public var stage: Int
    }

    public let title: String
    public let blocks: [Block]

    public init(spec: ModelSpec, unfold: Bool = false) {
        title = "\(spec.name): \(spec.depth) layers, \(spec.residual ? "shortcuts option \(spec.shortcut.rawValue)" : "plain (no shortcuts)")"
        var shape = [spec.input.channels, spec.input.height, spec.input.width]
        func shrink(_ size: Int, kernel: Int, stride: Int, padding: Int) -> Int { (size + 2 * padding - kernel) / stride + 1 }
        var drawn: [Block] = [Block(layers: ["image"], shortcut: .none, output: shape, repeats: 1, stage: 0)]
        let stem = spec.stem.conv
        shape = [stem.filters] + shape.dropFirst().map { shrink($0, kernel: stem.kernel, stride: stem.stride, padding: stem.padding) }
        var stemLayers = ["\(stem.kernel)×\(stem.kernel) conv, \(stem.filters)\(stem.stride > 1 ? ", /\(stem.stride)" : "")"]
        if let pool = spec.stem.pool {
            shape = [shape[0]] + shape.dropFirst().map { shrink($0, kernel: pool.kernel, stride: pool.stride, padding: pool.padding) }
            stemLayers.append("\(pool.kernel)×\(pool.kernel) max pool\(pool.stride > 1 ? ", /\(pool.stride)" : "")")
        }
        drawn.append(Block(layers: stemLayers, shortcut: .none, output: shape, repeats: 1, stage: 0))
        for (number, stage) in spec.stages.enumerated() {
            let channels = spec.block.outputChannels(filters: stage.filters)
            for index in 0..<stage.blocks {
                let stride = index == 0 ? stage.stride : 1
                let changes = stride != 1 || channels != shape[0]
                let shortcut: Shortcut = !spec.residual ? .none
                    : changes ? (spec.shortcut == .A ? .zeroPadding : .projection) : (spec.shortcut == .C ? .projection : .identity)
                shape = [channels] + shape.dropFirst().map { ($0 - 1) / stride + 1 }
                let block = Block(layers: Self.layers(spec.block, filters: stage.filters, stride: stride), shortcut: shortcut, output: shape,
                                  repeats: 1, stage: number + 1)
                if !unfold, index >= 2, var last = drawn.popLast() {
                    last.repeats += 1
                    drawn.append(last)
                } else {
                    drawn.append(block)
                }
            }
        }
        drawn.append(Block(layers: ["global average pool", "fc \(spec.classes)"], shortcut: .none, output: [spec.classes], repeats: 1, stage: 0))
        blocks = drawn
    }

    /// A block's convolutions as Figure 3 labels them: "3×3 conv, 128, /2".
    static func layers(_ kind: BlockKind, filters: Int, stride: Int) -> [String] {
        let down = stride > 1 ? ", /\(stride)" : ""
        switch kind {
        case .basic: return ["3×3 conv, \(filters)\(down)", "3×3 conv, \(filters)"]
        case .bottleneck(let expansion, let strideAt):
            return ["1×1 conv, \(filters)\(strideAt == .first ? down : "")", "3×3 conv, \(filters)\(strideAt == .middle ? down : "")",
                    "1×1 conv, \(filters * expansion)"]
        }
    }

    /// The convolution layers the diagram stands for, repeats counted (depth minus the fc layer).
    public var convolutionLayers: Int {
        blocks.reduce(0) { $0 + $1.repeats * $1.layers.filter { $0.contains("conv") }.count }
    }

    static func shapeText(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "×") }

    static let stageColours = ["#eeeeee", "#cfe3f5", "#d5ecd0", "#fbe3c8", "#e6d7f0", "#f6d3d8", "#d9f0ee"]

    // Layout of the SVG, in pixels.
    static let boxWidth = 190.0, boxHeight = 22.0, rowGap = 6.0, blockGap = 12.0, left = 120.0, top = 50.0

    public var svg: String {
        func c(_ value: Double) -> String { TextFormats.coordinate(value) }
        let right = Self.left + Self.boxWidth
        var rows = 0, gaps = 0
        for block in blocks { rows += block.layers.count; gaps += 1 }
        let height = Self.top + Double(rows) * (Self.boxHeight + Self.rowGap) + Double(gaps) * Self.blockGap + 70
        let width = right + 150
        var body = ""
        var y = Self.top
        for block in blocks {
            let start = y
            for label in block.layers {
                let fill = Self.stageColours[block.stage % Self.stageColours.count]
                body += "<rect x=\"\(c(Self.left))\" y=\"\(c(y))\" width=\"\(c(Self.boxWidth))\" height=\"\(c(Self.boxHeight))\" rx=\"4\" fill=\"\(fill)\" stroke=\"#555\"/>\n"
                body += "<text x=\"\(c(Self.left + Self.boxWidth / 2))\" y=\"\(c(y + 15))\" text-anchor=\"middle\">\(TextFormats.xml(label))</text>\n"
                y += Self.boxHeight + Self.rowGap
            }
            let end = y - Self.rowGap
            body += "<text x=\"\(c(Self.left - 10))\" y=\"\(c(end - 6))\" text-anchor=\"end\" font-size=\"11\" fill=\"#333\">\(Self.shapeText(block.output))</text>\n"
            if block.shortcut != .none {
                // From just above the block's first layer to just below its last, bulging right.
                let from = start - Self.blockGap / 2, to = end + Self.blockGap / 2, bulge = right + 34
                let dash = block.shortcut == .identity ? "" : " stroke-dasharray=\"4 3\""
                body += "<path d=\"M \(c(right)) \(c(from)) C \(c(bulge)) \(c(from)), \(c(bulge)) \(c(to)), \(c(right + 4)) \(c(to))\" fill=\"none\" stroke=\"#222\" stroke-width=\"1.4\"\(dash) marker-end=\"url(#arrow)\"/>\n"
                if block.shortcut != .identity {
                    body += "<text x=\"\(c(bulge + 2))\" y=\"\(c((from + to) / 2 + 4))\" font-size=\"10\" fill=\"#555\">\(block.shortcut == .projection ? "projection" : "zero-pad")</text>\n"
                }
            }
            if block.repeats > 1 {
                body += "<text x=\"\(c(right + 96))\" y=\"\(c((start + end) / 2 + 5))\" font-size=\"15\" font-weight=\"bold\">× \(block.repeats)</text>\n"
            }
            y += Self.blockGap
        }
        let legendY = y + 16
        var legend = "<text x=\"\(c(Self.left))\" y=\"\(c(legendY))\" font-size=\"11\" fill=\"#333\">left: block output (channels×height×width)</text>\n"
        legend += "<line x1=\"\(c(Self.left))\" y1=\"\(c(legendY + 16))\" x2=\"\(c(Self.left + 28))\" y2=\"\(c(legendY + 16))\" stroke=\"#222\" stroke-width=\"1.4\"/>"
        legend += "<text x=\"\(c(Self.left + 34))\" y=\"\(c(legendY + 20))\" font-size=\"11\">identity shortcut</text>\n"
        legend += "<line x1=\"\(c(Self.left + 140))\" y1=\"\(c(legendY + 16))\" x2=\"\(c(Self.left + 168))\" y2=\"\(c(legendY + 16))\" stroke=\"#222\" stroke-width=\"1.4\" stroke-dasharray=\"4 3\"/>"
        legend += "<text x=\"\(c(Self.left + 174))\" y=\"\(c(legendY + 20))\" font-size=\"11\">projection or zero-padding</text>\n"
        return OwnedFiles.xmlDeclaration + """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height + 20))" viewBox="0 0 \(Int(width)) \(Int(height + 20))" \
            font-family="sans-serif" font-size="12">
            <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">\
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#222"/></marker></defs>
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(c(Self.left + Self.boxWidth / 2))" y="24" text-anchor="middle" font-size="14">\(TextFormats.xml(title))</text>

            """ + body + legend + "</svg>\n"
    }

    /// The same drawing as a Graphviz digraph: one node per layer, shortcuts as extra edges.
    public var dot: String {
        func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n") + "\""
        }
        var text = "digraph \(quoted(title)) {\n  label=\(quoted(title)); labelloc=t; rankdir=TB;\n"
        text += "  node [shape=box, style=\"rounded,filled\", fontname=\"sans-serif\", fontsize=11];\n"
        var previous: String?, layer = 0
        for block in blocks {
            var first: String?
            let before = previous
            for (index, label) in block.layers.enumerated() {
                let name = "l\(layer)"
                layer += 1
                let suffix = index == block.layers.count - 1 ? "\n\(Self.shapeText(block.output))" : ""
                text += "  \(name) [label=\(quoted(label + suffix)), fillcolor=\(quoted(Self.stageColours[block.stage % Self.stageColours.count]))];\n"
                if let previous { text += "  \(previous) -> \(name);\n" }
                first = first ?? name
                previous = name
            }
            if block.shortcut != .none, let before, let last = previous, first != nil {
                let style = block.shortcut == .identity ? "solid" : "dashed"
                let label = block.repeats > 1 ? "× \(block.repeats)" : block.shortcut == .identity ? "" : (block.shortcut == .projection ? "projection" : "zero-pad")
                text += "  \(before) -> \(last) [style=\(style), constraint=false, label=\(quoted(label))];\n"
            } else if block.repeats > 1, let last = previous {
                text += "  \(last) [xlabel=\(quoted("× \(block.repeats)"))];\n"
            }
        }
        return text + "}\n"
    }
}
