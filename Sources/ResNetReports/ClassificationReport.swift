import Foundation

/// What `resnetc eval --report DIR` writes about a model on a labelled split: the confusion
/// matrix (CSV and an SVG heat map), per-class precision, recall, F1 and support (CSV and
/// Markdown), top-1 and top-5 accuracy, and the most confused pairs of classes.
public struct ClassificationReport: Sendable {
    public let title: String
    /// One name per row and column of the confusion matrix.
    public let classNames: [String]
    /// confusion[true][predicted] image counts.
    public let confusion: [[Int]]
    public let top1: Double
    public let top5: Double
    public let loss: Double

    /// One class's scores; precision is nil when nothing was predicted as the class, recall
    /// when the split has none of it, F1 when either is nil.
    public struct ClassScores: Sendable, Equatable {
        public var name: String
        public var precision: Double?
        public var recall: Double?
        public var f1: Double?
        public var support: Int
    }

    /// A pair of distinct classes and how many images of the first were taken for the second.
    public struct Confusion: Sendable, Equatable {
        public var trueClass: String
        public var predicted: String
        public var count: Int
        /// count as a fraction of the true class's images.
        public var share: Double
    }

    public static let confusionName = "confusion.csv", plotName = "confusion.svg", scoresName = "per_class.csv", markdownName = "report.md"
    static let marker = "<!-- written by resnetc eval, its report option -->"

    public init(title: String, classNames: [String], confusion: [[Int]], top1: Double, top5: Double, loss: Double) {
        precondition(confusion.count == classNames.count && confusion.allSatisfy { $0.count == classNames.count })
        (self.title, self.classNames, self.confusion, self.top1, self.top5, self.loss) = (title, classNames, confusion, top1, top5, loss)
    }

    public var images: Int { confusion.reduce(0) { $0 + $1.reduce(0, +) } }

    public var scores: [ClassScores] {
        classNames.indices.map { c in
            let support = confusion[c].reduce(0, +)
            let predicted = confusion.reduce(0) { $0 + $1[c] }
            let hits = confusion[c][c]
            let precision = predicted > 0 ? Double(hits) / Double(predicted) : nil
            let recall = support > 0 ? Double(hits) / Double(support) : nil
            var f1: Double?
            if let precision, let recall { f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0 }
            return ClassScores(name: classNames[c], precision: precision, recall: recall, f1: f1, support: support)
        }
    }

    /// The largest off-diagonal counts, largest first (ties in class order), at most `limit`.
    public func mostConfused(limit: Int = 10) -> [Confusion] {
        var pairs: [(Int, Int, Int)] = []
        for (t, row) in confusion.enumerated() { for (p, count) in row.enumerated() where p != t && count > 0 { pairs.append((t, p, count)) } }
        return pairs.sorted { ($0.2, $1.0, $1.1) > ($1.2, $0.0, $0.1) }.prefix(limit)
            .map { Confusion(trueClass: classNames[$0.0], predicted: classNames[$0.1], count: $0.2,
                             share: Double($0.2) / Double(confusion[$0.0].reduce(0, +))) }
    }

    /// Macro averages (every class with images counts once) of precision, recall and F1.
    var macroAverages: (precision: Double?, recall: Double?, f1: Double?) {
        let present = scores.filter { $0.support > 0 }
        func mean(_ values: [Double?]) -> Double? {
            present.isEmpty ? nil : values.map { $0 ?? 0 }.reduce(0, +) / Double(present.count)
        }
        return (mean(present.map(\.precision)), mean(present.map(\.recall)), mean(present.map(\.f1)))
    }

    /// confusion.csv: a header of predicted classes, then one row per true class.
    public var confusionCSV: String {
        var text = ([Self.confusionCorner] + classNames).map(TextFormats.csvField).joined(separator: ",") + "\n"
        for (name, row) in zip(classNames, confusion) {
            text += ([TextFormats.csvField(name)] + row.map(String.init)).joined(separator: ",") + "\n"
        }
        return text
    }

    static let confusionCorner = "true \\ predicted"
    static let scoreColumns = ["class", "precision", "recall", "f1", "support"]

    /// per_class.csv: one row per class; an undefined score is an empty field.
    public var scoresCSV: String {
        func number(_ value: Double?) -> String { value.map { String(format: "%.6f", $0) } ?? "" }
        return Self.scoreColumns.joined(separator: ",") + "\n" + scores.map { score in
            [TextFormats.csvField(score.name), number(score.precision), number(score.recall), number(score.f1), String(score.support)]
                .joined(separator: ",")
        }.joined(separator: "\n") + "\n"
    }

    /// report.md: accuracy, per-class scores and the most confused pairs.
    public var markdown: String {
        func percent(_ value: Double?) -> String { value.map { String(format: "%.2f%%", 100 * $0) } ?? "—" }
        func cell(_ text: String) -> String { TextFormats.markdownCell(text) }
        var text = "\(Self.marker)\n# \(cell(title))\n\n"
        text += String(format: "%d images: top-1 accuracy **%.2f%%** (error %.2f%%), top-5 %.2f%%, mean cross-entropy %.4f.\n\n",
                       images, 100 * top1, 100 * (1 - top1), 100 * top5, loss)
        text += "| class | precision | recall | F1 | support |\n|---|---:|---:|---:|---:|\n"
        for score in scores {
            text += "| \(cell(score.name)) | \(percent(score.precision)) | \(percent(score.recall)) | \(percent(score.f1)) | \(score.support) |\n"
        }
        let macro = macroAverages
        text += "| *macro average* | \(percent(macro.precision)) | \(percent(macro.recall)) | \(percent(macro.f1)) | \(images) |\n\n"
        let pairs = mostConfused()
        if pairs.isEmpty {
            text += "No image was taken for another class.\n"
        } else {
            text += "Most confused (true class → predicted class):\n\n| true | predicted | images | share of the true class |\n|---|---|---:|---:|\n"
            for pair in pairs {
                text += "| \(cell(pair.trueClass)) | \(cell(pair.predicted)) | \(pair.count) | \(percent(pair.share)) |\n"
            }
        }
        text += "\nFiles: `\(Self.confusionName)` and `\(Self.plotName)` (rows: true class, columns: predicted class), `\(Self.scoresName)`.\n"
        return text
    }

    /// The four files, each starting with its signature.
    var files: [OwnedFiles.File] {
        [OwnedFiles.File(name: Self.markdownName, text: markdown, signature: Self.marker + "\n"),
         OwnedFiles.File(name: Self.confusionName, text: confusionCSV, signature: TextFormats.csvField(Self.confusionCorner) + ","),
         OwnedFiles.File(name: Self.scoresName, text: scoresCSV, signature: Self.scoreColumns.joined(separator: ",") + "\n"),
         OwnedFiles.svg(name: Self.plotName, ConfusionMatrixPlot.svg(self), marker: Self.marker)]
    }

    static let hint = "move it away or give another --report directory"

    /// Refuses a directory holding a file of the report's names that resnetc did not write,
    /// before any work is done.
    public static func requireWritable(in directory: String) throws {
        let empty = ClassificationReport(title: "", classNames: [], confusion: [], top1: 0, top5: 0, loss: 0)
        try OwnedFiles.requireWritable(empty.files, in: directory, hint: hint)
    }

    /// Writes the four files into `directory` (never over a user's files of those names).
    public func write(to directory: String) throws {
        try OwnedFiles.write(files, to: directory, hint: Self.hint)
    }
}
