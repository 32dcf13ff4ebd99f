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

/// Small networks written for tests, loaded through the real spec front end.
public enum TestSpecs {
    /// Overrides of `small()` covering every block type, shortcut option and stem kind: the
    /// variants differential and gradient tests run over, as (description, YAML) pairs.
    public static let variants: [(String, String)] = [
        ("basic A", "shortcut: A"),
        ("basic B", "shortcut: B"),
        ("basic C", "shortcut: C"),
        ("plain", "residual: false"),
        ("bottleneck B, stride on 3x3", "block: bottleneck\nexpansion: 2\nstride_at: middle\nshortcut: B"),
        ("bottleneck C, stride on 1x1", "block: bottleneck\nstride_at: first\nshortcut: C"),
        ("bottleneck A", "block: bottleneck\nexpansion: 2\nshortcut: A"),
        ("ImageNet stem with max pool", "stem:\n  conv: {filters: 8, kernel: 7, stride: 2, padding: 3}\n  pool: {kernel: 3, stride: 2, padding: 1}"),
    ]

    /// A small default network (two stages, 8 and 16 filters, five classes).
    public static func small(input: String = "{channels: 3, height: 12, width: 12}") -> String {
        """
        input: \(input)
        classes: 5
        stem:
          conv: {filters: 8, kernel: 3, stride: 1, padding: 1}
        stages:
          - {filters: 8, blocks: 1, stride: 1}
          - {filters: 16, blocks: 2, stride: 2}
        """
    }

    /// Writes `text` to a temporary file and returns its path. Keys in `overriding` replace the
    /// base's through `extends:`, exactly as a user's derived spec would.
    public static func file(_ text: String, overriding: String = "", name: String = "net") throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("resnetc-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try text.write(toFile: directory.appendingPathComponent("base.yaml").path, atomically: true, encoding: .utf8)
        let path = directory.appendingPathComponent("\(name).yaml").path
        try ("extends: base.yaml\n" + overriding + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
