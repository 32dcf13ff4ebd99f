import Foundation
import ResNetReports

/// curves.svg: training error (dashed) and test error (bold) against iterations for every run,
/// as in the paper's Figure 6: a percent axis, an iterations axis, one colour per run shared by
/// its two lines, and the run's name written at the end of its test line (labels pushed apart so
/// they never overlap) besides a key to the two line styles. Plain SVG 1.1, no script or fonts
/// beyond the generic sans-serif, so any viewer and `rsvg-convert` render it.
public enum CurvesPlot {
    /// Ten colours that stay distinct for most readers (Tableau 10); more runs reuse them darker.
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]

    static let plotWidth = 560.0, height = 480.0
    static let left = 64.0, top = 58.0, bottom = 56.0
    /// Characters of a run's label beyond which it is cut short with an ellipsis.
    static let longestLabel = 48

    public static func svg(_ runs: [RunSummary], title: String) -> String {
        let plotted = runs.filter { !$0.points.isEmpty }
        let lastIteration = plotted.flatMap { $0.points.map(\.iteration) }.max() ?? 0
        let worst = plotted.flatMap { $0.points.flatMap { [$0.trainError, $0.testError].compactMap { $0 } } }.filter(\.isFinite).max() ?? 0
        let xTicks = ticks(upTo: Double(max(lastIteration, 1))), yTicks = ticks(upTo: min(100, max(100 * worst, 1)))
        let xMax = xTicks.last!, yMax = yTicks.last!
        // The right margin holds the labels: as wide as the longest (about 7 px a character).
        let names = plotted.map { $0.name.count > longestLabel ? String($0.name.prefix(longestLabel - 1)) + "…" : $0.name }
        let right = 24 + 7 * Double((names.map(\.count).max() ?? 0) + 7)
        let width = left + plotWidth + right, plotHeight = height - top - bottom
        func x(_ iteration: Int) -> Double { left + plotWidth * Double(iteration) / xMax }
        func y(_ fraction: Double) -> Double { top + plotHeight * (1 - min(max(100 * fraction, 0), yMax) / yMax) }

        var svg = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" \
            font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="22" font-size="15" font-weight="bold">\(TextFormats.xml(title))</text>

            """
        // Grid, ticks and axis titles.
        for tick in yTicks {
            let at = top + plotHeight * (1 - tick / yMax)
            svg += line(left, at, left + plotWidth, at, stroke: "#e4e4e4")
            svg += "<text x=\"\(TextFormats.coordinate(left - 6))\" y=\"\(TextFormats.coordinate(at + 4))\" text-anchor=\"end\">\(label(tick))</text>\n"
        }
        for tick in xTicks {
            let at = left + plotWidth * tick / xMax
            svg += line(at, top, at, top + plotHeight, stroke: "#e4e4e4")
            svg += "<text x=\"\(TextFormats.coordinate(at))\" y=\"\(TextFormats.coordinate(top + plotHeight + 18))\" text-anchor=\"middle\">\(label(tick))</text>\n"
        }
        svg += "<rect x=\"\(TextFormats.coordinate(left))\" y=\"\(TextFormats.coordinate(top))\" width=\"\(TextFormats.coordinate(plotWidth))\" height=\"\(TextFormats.coordinate(plotHeight))\" fill=\"none\" stroke=\"#444\"/>\n"
        svg += "<text x=\"\(TextFormats.coordinate(left + plotWidth / 2))\" y=\"\(TextFormats.coordinate(height - 14))\" text-anchor=\"middle\">iterations</text>\n"
        svg += "<text transform=\"translate(18 \(TextFormats.coordinate(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">error (%)</text>\n"
        // Key to the line styles, under the title.
        svg += line(left, 40, left + 28, 40, stroke: "#333", width: 2.5) + "<text x=\"\(TextFormats.coordinate(left + 34))\" y=\"44\">test error</text>\n"
        svg += line(left + 120, 40, left + 148, 40, stroke: "#333", width: 1.2, dash: true)
            + "<text x=\"\(TextFormats.coordinate(left + 154))\" y=\"44\">training error</text>\n"

        // The lines, then the labels at the test lines' ends.
        var labels: [(y: Double, text: String, colour: String)] = []
        for (index, run) in plotted.enumerated() {
            let colour = colourOf(index)
            let name = TextFormats.xml(run.name), shown = TextFormats.xml(names[index])
            for (kind, values) in [("train", run.points.map { ($0.iteration, $0.trainError) }), ("test", run.points.map { ($0.iteration, $0.testError) })] {
                let points = values.compactMap { iteration, error in error.flatMap { $0.isFinite ? (iteration, $0) : nil } }
                let coordinates = points.map { "\(TextFormats.coordinate(x($0.0))),\(TextFormats.coordinate(y($0.1)))" }.joined(separator: " ")
                let style = kind == "test" ? "stroke-width=\"2.5\"" : "stroke-width=\"1.2\" stroke-dasharray=\"5 3\""
                svg += "<polyline class=\"\(kind)\" data-variant=\"\(name)\" fill=\"none\" stroke=\"\(colour)\" \(style) points=\"\(coordinates)\"/>\n"
                if points.count == 1 { // a lone point draws no line: mark it
                    svg += "<circle cx=\"\(TextFormats.coordinate(x(points[0].0)))\" cy=\"\(TextFormats.coordinate(y(points[0].1)))\" r=\"2.5\" fill=\"\(colour)\"/>\n"
                }
                if kind == "test", let end = points.last {
                    labels.append((y(end.1), shown + String(format: " %.2f%%", 100 * end.1), colour))
                }
            }
        }
        for label in spread(labels) {
            svg += "<text x=\"\(TextFormats.coordinate(left + plotWidth + 8))\" y=\"\(TextFormats.coordinate(label.y + 4))\" fill=\"\(label.colour)\">\(label.text)</text>\n"
        }
        if plotted.isEmpty {
            svg += "<text x=\"\(TextFormats.coordinate(left + plotWidth / 2))\" y=\"\(TextFormats.coordinate(top + plotHeight / 2))\" text-anchor=\"middle\">no metrics yet</text>\n"
        }
        return svg + "</svg>\n"
    }

    static func colourOf(_ index: Int) -> String {
        let base = palette[index % palette.count]
        guard index >= palette.count else { return base }
        // A darker shade for the second and later rounds of the palette.
        let value = Int(base.dropFirst(), radix: 16)!, shade = 1.0 / Double(1 + index / palette.count)
        let rgb = [(value >> 16) & 255, (value >> 8) & 255, value & 255].map { Int(Double($0) * shade) }
        return String(format: "#%02x%02x%02x", rgb[0], rgb[1], rgb[2])
    }

    /// Moves labels apart vertically (keeping their order) so no two are closer than a line.
    static func spread(_ labels: [(y: Double, text: String, colour: String)]) -> [(y: Double, text: String, colour: String)] {
        var sorted = labels.sorted { $0.y < $1.y }
        let gap = 14.0
        for i in sorted.indices.dropFirst() where sorted[i].y < sorted[i - 1].y + gap { sorted[i].y = sorted[i - 1].y + gap }
        if let last = sorted.last, last.y > height - 8 { // pushed off the bottom: shift all up
            let shift = last.y - (height - 8)
            for i in sorted.indices { sorted[i].y -= shift }
        }
        return sorted
    }

    /// Round tick values from 0 to at least `maximum`: steps of 1, 2 or 5 times a power of ten.
    static func ticks(upTo maximum: Double) -> [Double] {
        let rough = maximum / 5, magnitude = pow(10, floor(log10(rough)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough }!
        let count = Int((maximum / step).rounded(.up))
        return (0...max(count, 1)).map { Double($0) * step }
    }

    static func label(_ value: Double) -> String {
        if value >= 1000, value.truncatingRemainder(dividingBy: 1000) == 0 { return "\(Int(value / 1000))k" }
        return value == value.rounded() ? "\(Int(value))" : String(format: "%g", value)
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double = 1, dash: Bool = false) -> String {
        "<line x1=\"\(TextFormats.coordinate(x1))\" y1=\"\(TextFormats.coordinate(y1))\" x2=\"\(TextFormats.coordinate(x2))\" y2=\"\(TextFormats.coordinate(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(width)\"\(dash ? " stroke-dasharray=\"5 3\"" : "")/>\n"
    }
}
