/// Writes `SpecSchema` as a JSON Schema (draft 2020-12) document, so editors can complete and
/// check specs; it is generated from the same table the validator reads.
public enum JSONSchemaWriter {
    public static func write(_ root: SchemaType) -> String {
        var header: [(String, String)] = [
            ("$schema", quote("https://json-schema.org/draft/2020-12/schema")),
            ("title", quote("resnetc model spec")),
        ]
        header += members(root, indent: 1)
        return object(header, indent: 0)
    }

    private static func members(_ type: SchemaType, indent: Int) -> [(String, String)] {
        switch type {
        case .integer(let min, let max):
            return [("type", quote("integer")), ("minimum", String(min))] + (max == Int.max ? [] : [("maximum", String(max))])
        case .number(let min, let max, let exclusive):
            return [("type", quote("number")), (exclusive ? "exclusiveMinimum" : "minimum", number(min)), ("maximum", number(max))]
        case .boolean:
            return [("type", quote("boolean"))]
        case .string:
            return [("type", quote("string"))]
        case .enumeration(let words):
            return [("enum", "[" + words.map(quote).joined(separator: ", ") + "]")]
        case .list(let element, let minCount, let maxCount):
            return [("type", quote("array")), ("minItems", String(minCount)), ("maxItems", String(maxCount)),
                    ("items", object(members(element, indent: indent + 1), indent: indent))]
        case .object(let fields):
            let properties = fields.map { field -> (String, String) in
                var m = [("description", quote(field.doc))]
                if let d = field.defaultText { m.append(("x-default", quote(d))) }
                return (field.name, object(m + members(field.type, indent: indent + 2), indent: indent + 1))
            }
            var out = [("type", quote("object")), ("additionalProperties", "false"), ("properties", object(properties, indent: indent))]
            let required = fields.filter(\.required).map { quote($0.name) }
            if !required.isEmpty { out.append(("required", "[" + required.joined(separator: ", ") + "]")) }
            return out
        case .nullable(let inner):
            return [("anyOf", "[" + object(members(inner, indent: indent + 1), indent: indent) + ", {\"type\": \"null\"}]")]
        }
    }

    private static func object(_ members: [(String, String)], indent: Int) -> String {
        let pad = String(repeating: "  ", count: indent + 1)
        let body = members.map { "\(pad)\(quote($0.0)): \($0.1)" }.joined(separator: ",\n")
        return "{\n\(body)\n\(String(repeating: "  ", count: indent))}"
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 { out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16) }
                else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}
