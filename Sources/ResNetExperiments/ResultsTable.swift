import Foundation
import ResNetReports

/// results.csv and results.md: one row per run with what it changes, its size and cost, its
/// speed, its errors and its status. The CSV keeps full precision for scripts; the Markdown is
/// for reading and pasting into a paper's notes.
public enum ResultsTable {
    static let columns = ["variant", "differences", "status", "params", "multiply_adds", "training_arena_bytes", "images_per_s",
                          "final_test_error", "best_test_error", "final_train_error", "iterations", "wall_seconds", "directory", "message"]

    public static func csv(_ runs: [RunSummary]) -> String {
        var lines = [columns.joined(separator: ",")]
        for run in runs {
            var cells: [String] = [run.name, run.differences.joined(separator: "; "), run.status]
            cells.append(run.params.map(String.init) ?? "")
            cells.append(run.multiplyAdds.map(String.init) ?? "")
            cells.append(run.trainingArenaBytes.map(String.init) ?? "")
            cells += [run.imagesPerSecond, run.finalTestError, run.bestTestError, run.finalTrainError].map(number)
            cells.append(run.points.last.map { String($0.iteration) } ?? "")
            cells.append(String(format: "%.1f", run.wallSeconds))
            cells += [run.directory, run.message ?? ""]
            lines.append(cells.map(TextFormats.csvField).joined(separator: ","))
        }
        return lines.map { $0 + "\n" }.joined()
    }

    public static func markdown(_ runs: [RunSummary], title: String) -> String {
        var text = "# \(TextFormats.markdownCell(title))\n\n"
        text += "| variant | differs from the base | params | mult-adds | training arena | images/s | final test error | best test error | final train error | iterations | wall time | status |\n"
        text += "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n"
        for run in runs {
            var cells: [String] = [run.name, run.differences.isEmpty ? "—" : run.differences.map(TextFormats.codeSpan).joined(separator: " ")]
            cells.append(run.params.map { scaled(Double($0)) } ?? "—")
            cells.append(run.multiplyAdds.map { scaled(Double($0)) } ?? "—")
            cells.append(run.trainingArenaBytes.map { String(format: "%.0f MiB", Double($0) / 1_048_576) } ?? "—")
            cells.append(run.imagesPerSecond.map { String(format: "%.0f", $0) } ?? "—")
            cells += [run.finalTestError, run.bestTestError, run.finalTrainError].map(percent)
            cells.append(run.points.last.map { String($0.iteration) } ?? "—")
            cells.append(duration(run.wallSeconds))
            cells.append(run.status + (run.message.map { ": " + ($0.split(whereSeparator: \.isNewline).first.map(String.init) ?? "") } ?? ""))
            text += "| " + cells.map(TextFormats.markdownCell).joined(separator: " | ") + " |\n"
        }
        return text
    }

    static func number(_ value: Double?) -> String { value.map { String(format: "%.6g", $0) } ?? "" }

    static func percent(_ fraction: Double?) -> String { fraction.map { String(format: "%.2f%%", 100 * $0) } ?? "—" }

    /// 0.27M, 40.6M, 1.82G.
    static func scaled(_ value: Double) -> String {
        value >= 1e9 ? String(format: "%.2fG", value / 1e9) : value >= 1e6 ? String(format: "%.2fM", value / 1e6) : String(format: "%.0fk", value / 1e3)
    }

    /// 45 s, 12 min 3 s, 2 h 5 min.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 1e12 else { return "—" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600) h \(s % 3600 / 60) min" : s >= 60 ? "\(s / 60) min \(s % 60) s" : "\(s) s"
    }
}
