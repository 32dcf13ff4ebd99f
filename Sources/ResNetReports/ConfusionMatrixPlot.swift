import Foundation

/// confusion.svg: the confusion matrix as a heat map. Rows are true classes, columns predicted
/// classes, both labelled with the class names; each cell shows its count and is shaded by the
/// share of its row (so a rare class's errors show as clearly as a common one's); the diagonal
/// is outlined. Plain SVG with generic fonts, so any viewer and `rsvg-convert` render it.
public enum ConfusionMatrixPlot {
    /// Names longer than this many characters are shortened with an ellipsis on the axes.
    static let nameLimit = 24

    public static func svg(_ report: ClassificationReport) -> String {
        let n = report.classNames.count
        let cell = min(44, max(14, 640 / Double(max(n, 1))))
        let names = report.classNames.map { $0.count > nameLimit ? String($0.prefix(nameLimit - 1)) + "…" : $0 }
        let labelFont = min(12, max(7, cell * 0.55))
        let labelSpace = Double(names.map(\.count).max() ?? 1) * labelFont * 0.6 + 12
        let left = 40 + labelSpace, top = 56.0
        let grid = cell * Double(n)
        let bottom = top + grid + labelSpace * 0.85 + 40
        let width = left + grid + 110, height = bottom + 10
        let countFont = min(12, cell * 0.36)
        func c(_ value: Double) -> String { TextFormats.coordinate(value) }

        var svg = OwnedFiles.xmlDeclaration + """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" \
            font-family="sans-serif" font-size="\(c(labelFont))">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(c(left + grid / 2))" y="22" text-anchor="middle" font-size="15">\(TextFormats.xml(report.title))</text>
            <text x="\(c(left + grid / 2))" y="40" text-anchor="middle" font-size="12" fill="#444">\(String(format: "top-1 %.2f%%, top-5 %.2f%%, %d images", 100 * report.top1, 100 * report.top5, report.images))</text>

            """
        for (t, row) in report.confusion.enumerated() {
            let total = max(row.reduce(0, +), 1)
            let y = top + Double(t) * cell
            for (p, count) in row.enumerated() {
                let x = left + Double(p) * cell, share = Double(count) / Double(total)
                svg += "<rect x=\"\(c(x))\" y=\"\(c(y))\" width=\"\(c(cell))\" height=\"\(c(cell))\" fill=\"\(shade(share))\"/>\n"
                if count > 0 {
                    svg += "<text x=\"\(c(x + cell / 2))\" y=\"\(c(y + cell / 2 + countFont * 0.35))\" text-anchor=\"middle\" font-size=\"\(c(countFont))\" "
                        + "fill=\"\(share > 0.36 ? "white" : "#111")\">\(count)</text>\n"
                }
            }
            svg += "<rect x=\"\(c(left + Double(t) * cell))\" y=\"\(c(y))\" width=\"\(c(cell))\" height=\"\(c(cell))\" fill=\"none\" stroke=\"#d95f02\" stroke-width=\"1.5\"/>\n"
            svg += "<text x=\"\(c(left - 6))\" y=\"\(c(y + cell / 2 + labelFont * 0.35))\" text-anchor=\"end\">\(TextFormats.xml(names[t]))</text>\n"
        }
        for (p, name) in names.enumerated() {
            let x = left + (Double(p) + 0.5) * cell + labelFont * 0.35, y = top + grid + 8
            svg += "<text transform=\"translate(\(c(x)) \(c(y))) rotate(-55)\" text-anchor=\"end\">\(TextFormats.xml(name))</text>\n"
        }
        svg += "<rect x=\"\(c(left))\" y=\"\(c(top))\" width=\"\(c(grid))\" height=\"\(c(grid))\" fill=\"none\" stroke=\"#444\"/>\n"
        svg += "<text x=\"\(c(left + grid / 2))\" y=\"\(c(bottom - 8))\" text-anchor=\"middle\" font-size=\"13\">predicted class</text>\n"
        svg += "<text transform=\"translate(16 \(c(top + grid / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">true class</text>\n"
        // The colour scale: share of the true class's images, 0 to 100%.
        let barX = left + grid + 30, barHeight = min(grid, 200)
        for step in 0..<20 {
            let share = 1 - Double(step) / 19
            svg += "<rect x=\"\(c(barX))\" y=\"\(c(top + Double(step) * barHeight / 20))\" width=\"14\" height=\"\(c(barHeight / 20 + 0.5))\" fill=\"\(shade(share))\"/>\n"
        }
        svg += "<rect x=\"\(c(barX))\" y=\"\(c(top))\" width=\"14\" height=\"\(c(barHeight))\" fill=\"none\" stroke=\"#444\"/>\n"
        svg += "<text x=\"\(c(barX + 20))\" y=\"\(c(top + 9))\" font-size=\"10\">100%</text>\n"
        svg += "<text x=\"\(c(barX + 20))\" y=\"\(c(top + barHeight))\" font-size=\"10\">0%</text>\n"
        svg += "<text transform=\"translate(\(c(barX + 7)) \(c(top + barHeight + 14)))\" text-anchor=\"middle\" font-size=\"10\">of row</text>\n"
        return svg + "</svg>\n"
    }

    /// White (0) to dark blue (1).
    static func shade(_ share: Double) -> String {
        let light = (247.0, 251.0, 255.0), dark = (8.0, 48.0, 107.0)
        let t = min(max(share, 0), 1).squareRoot()
        func mix(_ a: Double, _ b: Double) -> Int { Int((a + (b - a) * t).rounded()) }
        return String(format: "#%02x%02x%02x", mix(light.0, dark.0), mix(light.1, dark.1), mix(light.2, dark.2))
    }
}
