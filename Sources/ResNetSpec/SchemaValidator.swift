import ResNetDiagnostics

/// Checks a YAML tree against `SpecSchema`: types, ranges, required and unknown keys (with the
/// nearest known name suggested). It reports every problem, never stops at the first, and
/// records where each valid value was written so that later checks can point at it.
struct SchemaValidator {
    private(set) var diagnostics: [Diagnostic] = []
    /// Location of every value, keyed by its path (`stages[1].stride`); the root is "".
    private(set) var locations: [String: SourceLocation] = [:]
    /// Values that passed validation, by path; the decoder reads only these.
    private(set) var validNodes: [String: YAMLNode] = [:]

    mutating func validate(_ node: YAMLNode, as type: SchemaType, path: String = "") {
        locations[path] = node.location
        if check(node, as: type, path: path) { validNodes[path] = node }
    }

    /// Returns whether the node itself is valid; children report their own problems.
    private mutating func check(_ node: YAMLNode, as type: SchemaType, path: String) -> Bool {
        let what = path.isEmpty ? "the spec" : "'\(path)'"
        switch type {
        case .nullable(let inner):
            if node.isNull { return true }
            return check(node, as: inner, path: path)

        case .integer(let min, let max):
            guard let text = plainScalar(node) else { return mismatch(node, path, type) }
            if ScalarParsing.isOverflowingInteger(text) {
                return fail(node, "\(what) is \(text), which does not fit in 64 bits", hint: "expected \(type.expectation)")
            }
            guard let value = ScalarParsing.integer(text) else { return mismatch(node, path, type) }
            guard (min...max).contains(value) else {
                return fail(node, "\(what) must be \(type.expectation), found \(value)")
            }
            return true

        case .number(let min, let max, let exclusiveMin):
            guard let text = plainScalar(node), let value = ScalarParsing.number(text) else { return mismatch(node, path, type) }
            if value < min || value > max || (exclusiveMin && value == min) {
                let lower = exclusiveMin ? "> \(formatted(min))" : "≥ \(formatted(min))"
                return fail(node, "\(what) must be \(lower) and ≤ \(formatted(max)), found \(text)")
            }
            return true

        case .boolean:
            guard let text = plainScalar(node), ScalarParsing.boolean(text) != nil else { return mismatch(node, path, type) }
            return true

        case .string:
            guard node.scalarText != nil, !node.isNull else { return mismatch(node, path, type) }
            return true

        case .enumeration(let words):
            guard let text = node.scalarText, !node.isNull else { return mismatch(node, path, type) }
            if words.contains(text) { return true }
            let suggestion = NearestName.suggestion(for: text, among: words)
            return fail(node, "\(what) cannot be '\(text)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""),
                        hint: "expected \(type.expectation)")

        case .list(let element, let minCount, let maxCount):
            guard case let .sequence(items) = node.value else { return mismatch(node, path, type) }
            if items.count < minCount {
                return fail(node, "\(what) needs at least \(minCount) entr\(minCount == 1 ? "y" : "ies"), found \(items.count)")
            }
            if items.count > maxCount {
                return fail(node, "\(what) has \(items.count) entries; at most \(maxCount) are allowed")
            }
            for (index, item) in items.enumerated() {
                validate(item, as: element, path: "\(path)[\(index)]")
            }
            return true

        case .object(let fields):
            guard case let .mapping(pairs) = node.value else { return mismatch(node, path, type) }
            let names = fields.map(\.name)
            var suggested = Set<String>()
            for (key, value) in pairs {
                let name = key.scalarText ?? ""
                let childPath = path.isEmpty ? name : "\(path).\(name)"
                guard let field = fields.first(where: { $0.name == name }) else {
                    let suggestion = NearestName.suggestion(for: name, among: names)
                    if let suggestion { suggested.insert(suggestion) }
                    let place = path.isEmpty ? "" : " in '\(path)'"
                    diagnostics.append(.error(
                        at: key.location,
                        "unknown key '\(name)'\(place)" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""),
                        hint: "known keys here: " + names.joined(separator: ", ")))
                    continue
                }
                validate(value, as: field.type, path: childPath)
            }
            let present = Set(pairs.compactMap { $0.key.scalarText })
            // A required key that a misspelt key was taken for is already reported by its typo.
            for field in fields where field.required && !present.contains(field.name) && !suggested.contains(field.name) {
                diagnostics.append(.error(at: node.location, "\(what) is missing the required key '\(field.name)'",
                                          hint: field.doc))
            }
            return true
        }
    }

    private func plainScalar(_ node: YAMLNode) -> String? {
        guard case let .scalar(text, quoted) = node.value, !quoted else { return nil }
        return text
    }

    private mutating func mismatch(_ node: YAMLNode, _ path: String, _ type: SchemaType) -> Bool {
        fail(node, "'\(path)' must be \(type.expectation), found \(node.kindDescription)")
    }

    private mutating func fail(_ node: YAMLNode, _ message: String, hint: String? = nil) -> Bool {
        diagnostics.append(.error(at: node.location, message, hint: hint))
        return false
    }

    private func formatted(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
