import ResNetDiagnostics

/// One `--set key=value` from the command line: a key path into the spec (`stages[2].blocks`) and
/// a value read as YAML (`[0.49, 0.48, 0.45]`). Its diagnostics are located in the override's own
/// text, so an error names the `--set` it came from.
public struct SpecOverride: Sendable {
    /// One step of a key path.
    public enum PathComponent: Sendable, Equatable {
        case key(String)
        case index(Int)
    }

    /// The override as the user typed it, after `--set `.
    public let text: String
    public let path: [PathComponent]
    public let value: YAMLNode

    /// The pseudo file name diagnostics use: `--set stages[2].blocks=9`.
    public var sourceName: String { "--set \(text)" }

    /// Parses `key.path[2]=value`.
    public init(_ text: String) throws(DiagnosticError) {
        self.text = text
        let source = "--set \(text)"
        let prefix = "--set ".count
        func error(_ column: Int, _ message: String, hint: String? = nil) -> DiagnosticError {
            DiagnosticError(.error(at: SourceLocation(file: source, line: 1, column: prefix + column), message, hint: hint))
        }
        guard let equals = text.firstIndex(of: "=") else {
            throw error(1, "an override needs the form key=value", hint: "for example --set shortcut=B or --set stages[2].blocks=9")
        }
        let pathText = String(text[..<equals])
        path = try Self.parsePath(pathText) { column, message throws(DiagnosticError) in
            throw error(column, message, hint: "a key path looks like 'stem.conv.filters' or 'stages[2].blocks'")
        }
        if path.first == .key("extends") {
            throw error(1, "'extends' cannot be overridden with --set: it is resolved while the spec file is read",
                        hint: "write 'extends: FILE' in a spec of its own and pass that spec")
        }
        let valueColumn = pathText.count + 1
        let valueText = String(repeating: " ", count: prefix + valueColumn) + text[text.index(after: equals)...]
        value = try YAMLReader(file: source).read(valueText)
    }

    private static func parsePath(
        _ text: String, fail: (Int, String) throws(DiagnosticError) -> Never
    ) throws(DiagnosticError) -> [PathComponent] {
        var components: [PathComponent] = []
        let chars = Array(text)
        var i = 0
        func isKeyChar(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c == "-" }
        while i < chars.count {
            if chars[i] == "[" {
                let start = i
                i += 1
                var digits = ""
                while i < chars.count, chars[i].isASCII, chars[i].isNumber { digits.append(chars[i]); i += 1 }
                guard i < chars.count, chars[i] == "]", let index = Int(digits) else {
                    try fail(start + 1, "malformed index in key path '\(text)'")
                }
                components.append(.index(index))
                i += 1
            } else {
                if !components.isEmpty {
                    guard chars[i] == "." else { try fail(i + 1, "expected '.' or '[' in key path '\(text)'") }
                    i += 1
                }
                let start = i
                while i < chars.count, isKeyChar(chars[i]) { i += 1 }
                guard i > start else { try fail(start + 1, "expected a key name in key path '\(text)'") }
                components.append(.key(String(chars[start..<i])))
            }
        }
        guard !components.isEmpty else { try fail(1, "the key path is empty") }
        return components
    }

    /// Writes the value into `root`, creating mappings on the way when keys are missing, so the
    /// schema check can report an unknown key at the override itself. A null value removes the
    /// key, which restores its default (`--set train.warmup=null`).
    public func apply(to root: inout YAMLNode) throws(DiagnosticError) {
        try Self.apply(value, at: path[...], to: &root, walked: "", source: sourceName)
    }

    private static func apply(
        _ value: YAMLNode, at path: ArraySlice<PathComponent>, to node: inout YAMLNode, walked: String, source: String
    ) throws(DiagnosticError) {
        guard let first = path.first else {
            node = value
            return
        }
        let rest = path.dropFirst()
        let here = SourceLocation(file: source, line: 1, column: "--set ".count + 1)
        switch first {
        case .key(let key):
            let childPath = walked.isEmpty ? key : "\(walked).\(key)"
            if node.isNull { node.value = .mapping([]) }
            guard case var .mapping(pairs) = node.value else {
                throw DiagnosticError(.error(at: here, "cannot set '\(childPath)': '\(walked)' is \(node.kindDescription), not a mapping"))
            }
            if let i = pairs.firstIndex(where: { $0.key.scalarText == key }) {
                if rest.isEmpty, value.isNull {
                    pairs.remove(at: i)
                } else {
                    try apply(value, at: rest, to: &pairs[i].value, walked: childPath, source: source)
                }
            } else if rest.isEmpty, value.isNull {
                return
            } else {
                var child = YAMLNode(.mapping([]), at: value.location)
                try apply(value, at: rest, to: &child, walked: childPath, source: source)
                pairs.append((YAMLNode(.scalar(key, quoted: false), at: here), child))
            }
            node.value = .mapping(pairs)
        case .index(let index):
            let childPath = "\(walked)[\(index)]"
            guard case var .sequence(items) = node.value else {
                throw DiagnosticError(.error(at: here, "cannot set '\(childPath)': '\(walked)' is \(node.kindDescription), not a list"))
            }
            if index < items.count {
                try apply(value, at: rest, to: &items[index], walked: childPath, source: source)
            } else if index == items.count {
                var child = YAMLNode(.mapping([]), at: value.location)
                try apply(value, at: rest, to: &child, walked: childPath, source: source)
                items.append(child)
            } else {
                throw DiagnosticError(.error(at: here, "cannot set '\(childPath)': '\(walked)' has \(items.count) entries",
                                             hint: "indices start at 0; index \(items.count) appends an entry"))
            }
            node.value = .sequence(items)
        }
    }
}
