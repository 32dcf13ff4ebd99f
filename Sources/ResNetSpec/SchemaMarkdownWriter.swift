/// Writes `SpecSchema` as the key-reference table of docs/SpecFormat.md; a test keeps the
/// document equal to this output, so the documentation cannot drift from the validator.
public enum SchemaMarkdownWriter {
    public static func write(_ root: SchemaType) -> String {
        var rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
        func walk(_ type: SchemaType, prefix: String) {
            switch type {
            case .object(let fields):
                for field in fields {
                    let path = prefix.isEmpty ? field.name : "\(prefix).\(field.name)"
                    let requirement = field.required ? "**required**" : (field.defaultText.map { "`\($0)`" } ?? "—")
                    rows.append("| `\(path)` | \(typeName(field.type)) | \(requirement) | \(field.doc) |")
                    walk(field.type, prefix: path)
                }
            case .list(let element, _, _): walk(element, prefix: prefix + "[i]")
            case .nullable(let inner): walk(inner, prefix: prefix)
            default: break
            }
        }
        walk(root, prefix: "")
        return rows.joined(separator: "\n") + "\n"
    }

    private static func typeName(_ type: SchemaType) -> String {
        switch type {
        case .object: return "mapping"
        case .list(let element, let minCount, let maxCount): return "list of \(typeName(element)) (\(minCount)–\(maxCount))"
        case .nullable(let inner): return typeName(inner) + " or null"
        case .enumeration(let words): return words.map { "`\($0)`" }.joined(separator: " \\| ")
        case .integer(let min, let max): return "integer \(min)–\(max)"
        case .number(let min, let max, let exclusive): return "number \(exclusive ? "(" : "[")\(min), \(max)]"
        case .boolean: return "boolean"
        case .string: return "string"
        }
    }
}
