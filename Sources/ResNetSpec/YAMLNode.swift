import ResNetDiagnostics

/// A YAML value as the spec reader sees it: scalars stay text until a key asks for a type, and
/// every node remembers where it was written so diagnostics can point at it.
public struct YAMLNode: Sendable {
    /// The three kinds of YAML node; mappings keep their keys in written order.
    public indirect enum Value: Sendable {
        case scalar(String, quoted: Bool)
        case mapping([(key: YAMLNode, value: YAMLNode)])
        case sequence([YAMLNode])
    }

    public var value: Value
    public var location: SourceLocation

    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }

    /// The scalar's text, or nil for mappings and sequences.
    public var scalarText: String? {
        if case let .scalar(text, _) = value { return text }
        return nil
    }

    /// True for `~`, `null`, `Null`, `NULL` and the empty plain scalar.
    public var isNull: Bool {
        if case let .scalar(text, quoted) = value, !quoted {
            return ["", "~", "null", "Null", "NULL"].contains(text)
        }
        return false
    }

    /// A short name for the node's kind, used in "expected X, found Y" messages.
    public var kindDescription: String {
        switch value {
        case .scalar(let text, let quoted):
            if isNull { return "null" }
            return quoted ? "string \"\(text)\"" : "'\(text)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }

    /// The value under `key` in a mapping node.
    public subscript(key: String) -> YAMLNode? {
        guard case let .mapping(pairs) = value else { return nil }
        return pairs.first { $0.key.scalarText == key }?.value
    }
}
