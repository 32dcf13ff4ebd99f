import Foundation
import ResNetRuntime

/// The variants of an ablation: the cross product of `--vary KEY=V1,V2,…` lists over one base
/// spec, or one variant per spec file. Each variant is a spec file and the overrides that make
/// it, named by what it changes, with a directory name safe on any file system.
public struct AblationGrid: Sendable {
    /// One point of the grid.
    public struct Variant: Sendable, Equatable {
        /// What it changes: `depth=56,shortcut=B`, or the spec file's name.
        public var name: String
        public var specFile: String
        /// `--set` texts of this variant (the shared `--set` overrides are not among them).
        public var overrides: [String]
        public var directoryName: String
    }

    public let variants: [Variant]

    /// The cross product of `vary` (each `KEY=V1,V2,…`) over `spec`, the last key varying fastest.
    public init(spec: String, vary: [String]) throws {
        var axes: [(key: String, values: [String])] = []
        for text in vary {
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                throw RuntimeError("--vary \(text): expected KEY=V1,V2,… (for example --vary shortcut=A,B)")
            }
            let key = String(text[..<equals])
            let values = Self.splitValues(String(text[text.index(after: equals)...]))
            guard !values.isEmpty, !values.contains(where: \.isEmpty) else {
                throw RuntimeError("--vary \(text): give the values of '\(key)' separated by commas, none empty")
            }
            if axes.contains(where: { $0.key == key }) { throw RuntimeError("--vary names '\(key)' twice: give all its values in one list") }
            if Set(values).count != values.count { throw RuntimeError("--vary \(text): a value of '\(key)' is listed twice") }
            axes.append((key, values))
        }
        var points: [[String]] = [[]]
        for axis in axes { points = points.flatMap { point in axis.values.map { point + ["\(axis.key)=\($0)"] } } }
        variants = Self.named(points.map { overrides in
            Variant(name: overrides.isEmpty ? "base" : overrides.joined(separator: ","), specFile: spec, overrides: overrides, directoryName: "")
        })
    }

    /// One variant per spec file, named by the file.
    public init(specFiles: [String]) {
        variants = Self.named(specFiles.map {
            Variant(name: URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent, specFile: $0, overrides: [], directoryName: "")
        })
    }

    /// Splits `V1,V2` at the commas outside brackets, braces and quotes, so a value may be a
    /// YAML list or mapping (`--vary 'stages[0].blocks=3,5'`, `--vary 'data.mean=[0.1],[0.2]'`).
    static func splitValues(_ text: String) -> [String] {
        var values: [String] = [], current = "", depth = 0
        var quote: Character?
        for character in text {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"", current.allSatisfy(\.isWhitespace) { // quotes open a value only at its start
                quote = character
            } else if "[{".contains(character) {
                depth += 1
            } else if "]}".contains(character) {
                depth -= 1
            } else if character == ",", depth == 0 {
                values.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
                continue
            }
            current.append(character)
        }
        values.append(current.trimmingCharacters(in: .whitespaces))
        return values
    }

    /// Whether `name` is one `named` could give: not empty, of the safe characters, not hidden.
    static func isDirectoryName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".") && name.count <= 130 && name.allSatisfy(isSafe)
    }

    static func isSafe(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || ".,=-_".contains(character))
    }

    /// Gives each variant a directory name made of letters, digits and `.,=-_` only, unique in
    /// the grid, ignoring case, (a number is appended where two would clash).
    private static func named(_ variants: [Variant]) -> [Variant] {
        var used: Set<String> = []
        return variants.map { variant in
            var safe = String(variant.name.map { isSafe($0) ? $0 : "_" }.prefix(120))
            if safe.isEmpty || safe.hasPrefix(".") { safe = "variant" + safe }
            var name = safe, n = 2
            while used.contains(name.lowercased()) { name = "\(safe)-\(n)"; n += 1 }
            used.insert(name.lowercased()) // distinct on case-insensitive file systems too
            var named = variant
            named.directoryName = name
            return named
        }
    }
}
