import Foundation
import ResNetDiagnostics

/// Class-name files: one name per line, in label order (CIFAR's `batches.meta.txt`, a user's
/// `--classes FILE`). Surrounding spaces and blank lines are dropped; names must be distinct.
public enum ClassNames {
    public static func read(_ path: String, classes: Int? = nil) throws -> [String] {
        let data = try FileBytes.read(path, what: "class names file", limit: 16 << 20)
        guard let text = String(data: data, encoding: .utf8) else { throw RuntimeError("\(path): the class names are not UTF-8 text") }
        let names = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if let classes, names.count != classes {
            throw RuntimeError("\(path) names \(names.count) classes, one per line; the data has \(classes)")
        }
        guard !names.isEmpty else { throw RuntimeError("\(path) names no classes; write one name per line, in label order") }
        var seen: [String: Int] = [:]
        for (line, name) in names.enumerated() {
            if let first = seen[name] { throw RuntimeError("\(path): class '\(name)' is named twice (names \(first + 1) and \(line + 1))") }
            seen[name] = line
        }
        return names
    }
}
