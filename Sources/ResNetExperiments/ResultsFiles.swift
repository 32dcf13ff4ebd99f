import Foundation
import ResNetRuntime

/// Writes results.md, results.csv and curves.svg into a directory, each atomically, and never
/// over a file of those names that resnetc did not write (a user's own results.md survives).
public enum ResultsFiles {
    public static let markdownName = "results.md", csvName = "results.csv", curvesName = "curves.svg"
    /// The first line of results.md and a comment in curves.svg, by which resnetc knows its own files.
    static let marker = "<!-- written by resnetc report -->"

    /// Refuses a directory holding a results file of these names that resnetc did not write.
    public static func requireWritable(in directory: String) throws {
        for name in [markdownName, csvName, curvesName] {
            let path = directory + "/" + name
            if FileManager.default.fileExists(atPath: path), !isOwn(path, name: name) {
                throw RuntimeError("'\(path)' exists and resnetc did not write it; move it away or give another --out")
            }
        }
    }

    public static func write(_ runs: [RunSummary], to directory: String, title: String) throws {
        let files: [(String, String)] = [
            (markdownName, marker + "\n" + ResultsTable.markdown(runs, title: title)),
            (csvName, ResultsTable.csv(runs)),
            (curvesName, CurvesPlot.svg(runs, title: title).replacingOccurrences(of: "<svg ", with: marker + "\n<svg ")),
        ]
        try AtomicFile.createDirectory(directory)
        try requireWritable(in: directory)
        for (name, text) in files { try AtomicFile.write(Data(text.utf8), to: directory + "/" + name) }
    }

    private static func isOwn(_ path: String, name: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = String(decoding: (try? handle.read(upToCount: 4096)) ?? Data(), as: UTF8.self)
        switch name {
        case csvName: return head.hasPrefix(ResultsTable.columns.joined(separator: ",") + "\n")
        case markdownName: return head.hasPrefix(marker + "\n")
        default: return head.contains(marker)
        }
    }
}
