/// Writes a YAML tree back as block-style text that YAMLReader reads to the same tree: how
/// `resnetc ablate` saves each variant as a spec of its own, with its overrides applied and its
/// `extends:` chain resolved, so it re-runs alone with `resnetc run`.
public enum YAMLWriter {
    /// The document for `node`, ending in a newline.
    public static func text(_ node: YAMLNode) -> String {
        var lines: [String] = []
        switch node.value {
        case .mapping(let pairs) where !pairs.isEmpty: write(pairs: pairs, indent: "", into: &lines)
        case .sequence(let items) where !items.isEmpty: write(items: items, indent: "", into: &lines)
        default: lines.append(inline(node))
        }
        return lines.map { $0 + "\n" }.joined()
    }

    private static func write(pairs: [(key: YAMLNode, value: YAMLNode)], indent: String, into lines: inout [String]) {
        for (key, value) in pairs {
            let head = indent + inline(key) + ":"
            switch value.value {
            case .mapping(let children) where !children.isEmpty:
                lines.append(head)
                write(pairs: children, indent: indent + "  ", into: &lines)
            case .sequence(let items) where !items.isEmpty:
                lines.append(head)
                write(items: items, indent: indent + "  ", into: &lines)
            default:
                lines.append(head + " " + inline(value))
            }
        }
    }

    /// `- item` lines; a mapping item starts on the dash's line and continues under it.
    private static func write(items: [YAMLNode], indent: String, into lines: inout [String]) {
        for item in items {
            switch item.value {
            case .mapping(let pairs) where !pairs.isEmpty:
                var nested: [String] = []
                write(pairs: pairs, indent: indent + "  ", into: &nested)
                lines.append(indent + "- " + nested[0].dropFirst(indent.count + 2))
                lines += nested.dropFirst()
            case .sequence(let inner) where !inner.isEmpty:
                lines.append(indent + "-")
                write(items: inner, indent: indent + "  ", into: &lines)
            default:
                lines.append(indent + "- " + inline(item))
            }
        }
    }

    /// A scalar, or an empty mapping or list, on one line.
    private static func inline(_ node: YAMLNode) -> String {
        switch node.value {
        case .mapping: return "{}"
        case .sequence: return "[]"
        case .scalar(let text, let quoted): return quoted || !isPlainSafe(text) ? quote(text) : text
        }
    }

    /// Whether a plain scalar reads back as the same text: no indicator characters at the start,
    /// no `: ` or ` #` inside, no surrounding spaces, nothing that needs an escape. An empty plain scalar is null and stays plain.
    private static func isPlainSafe(_ text: String) -> Bool {
        let characters = Array(text)
        guard let first = characters.first else { return true }
        if ",[]{}#&*!|>'\"%@`".contains(first) { return false }
        if "-?:".contains(first), characters.count == 1 || characters[1] == " " { return false }
        if first == " " || characters.last == " " || text.contains(": ") || text.contains(" #") || text.hasSuffix(":") { return false }
        return !text.unicodeScalars.contains(where: needsEscape)
    }

    /// Characters YAML does not take raw, or reads as something else: C0 and C1 control codes
    /// (NEL reads as a space), DEL, the line and paragraph separators, the byte-order mark and
    /// the two non-characters.
    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || [0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF].contains(scalar.value)
    }

    /// A double-quoted scalar with YAML's escapes.
    private static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if needsEscape(scalar) {
                    out += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
