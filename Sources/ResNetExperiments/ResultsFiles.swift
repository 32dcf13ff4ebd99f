import Foundation
import ResNetReports
import ResNetRuntime

/// Writes results.md, results.csv and curves.svg into a directory through OwnedFiles: atomically,
/// and never over a file of those names that resnetc did not write (a user's own results.md survives).
public enum ResultsFiles {
    public static let markdownName = "results.md", csvName = "results.csv", curvesName = "curves.svg"
    /// The first line of results.md and a comment in curves.svg, by which resnetc knows its own files.
    static let marker = "<!-- written by resnetc report -->"

    /// The three files for `runs`, each starting with its signature.
    static func files(_ runs: [RunSummary], title: String) -> [OwnedFiles.File] {
        [OwnedFiles.File(name: markdownName, text: marker + "\n" + ResultsTable.markdown(runs, title: title), signature: marker + "\n"),
         OwnedFiles.File(name: csvName, text: ResultsTable.csv(runs), signature: ResultsTable.columns.joined(separator: ",") + "\n"),
         OwnedFiles.svg(name: curvesName, CurvesPlot.svg(runs, title: title), marker: marker)]
    }

    static let hint = "move it away or give another --out"

    /// Refuses a directory holding a results file of these names that resnetc did not write.
    public static func requireWritable(in directory: String) throws {
        try OwnedFiles.requireWritable(files([], title: ""), in: directory, hint: hint)
    }

    public static func write(_ runs: [RunSummary], to directory: String, title: String) throws {
        try OwnedFiles.write(files(runs, title: title), to: directory, hint: hint)
    }
}
