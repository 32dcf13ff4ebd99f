import Foundation
import ResNetDiagnostics

/// Paths into the repository for tests that read its specs and golden files.
public enum Fixtures {
    /// The package root, found from this file's location.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    public static func files(in directory: String, withExtension ext: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path(directory))) ?? []
        return names.filter { $0.hasSuffix("." + ext) }.sorted()
    }

    /// Diagnostics as `resnetc check` prints them, without source quotes and with paths relative to the root.
    public static func rendered(_ diagnostics: [Diagnostic]) -> String {
        diagnostics.map { d in
            var text = d.description.replacingOccurrences(of: root.path + "/", with: "")
            if let hint = d.hint { text += "\n  hint: " + hint.replacingOccurrences(of: root.path + "/", with: "") }
            return text
        }.joined(separator: "\n") + "\n"
    }
}

/// Compares text with a golden file in the repository; with RECORD_GOLDEN=1 in the environment
/// it rewrites the file instead, for review with `git diff`.
public enum Golden {
    /// Returns nil when `actual` matches (or was recorded), else a message with both texts.
    public static func mismatch(_ actual: String, goldenPath relative: String) -> String? {
        let path = Fixtures.path(relative)
        if ProcessInfo.processInfo.environment["RECORD_GOLDEN"] == "1" {
            try? actual.write(toFile: path, atomically: true, encoding: .utf8)
            return nil
        }
        guard let expected = try? String(contentsOfFile: path, encoding: .utf8) else {
            return "missing golden file \(relative); run with RECORD_GOLDEN=1 to create it"
        }
        return expected == actual ? nil : "\(relative) differs.\n--- expected\n\(expected)--- actual\n\(actual)"
    }
}
