import ResNetSpec

/// What a variant's spec changes relative to the base spec, as `key.path=value` texts in the
/// variant's key order: found by walking both resolved trees, so it says the same for a `--vary`
/// override and for a spec file edited by hand. A key the variant leaves out (so it takes its
/// default) reads `key=(default)`. The top-level `name` is not a difference: the variant column
/// names each run already, and spec files differ in it by nature.
public enum SpecDifferences {
    public static func between(base: YAMLNode, variant: YAMLNode) -> [String] {
        var found: [String] = []
        walk(base, variant, path: "", into: &found)
        return found.filter { !$0.hasPrefix("name=") }
    }

    private static func walk(_ base: YAMLNode?, _ variant: YAMLNode?, path: String, into found: inout [String]) {
        switch (base?.value, variant?.value) {
        case let (.mapping(basePairs)?, .mapping(variantPairs)?):
            let baseKeys = basePairs.compactMap { $0.key.scalarText }, variantKeys = variantPairs.compactMap { $0.key.scalarText }
            for key in variantKeys + baseKeys.filter({ !variantKeys.contains($0) }) {
                walk(base?[key], variant?[key], path: path.isEmpty ? key : "\(path).\(key)", into: &found)
            }
        case let (.sequence(baseItems)?, .sequence(variantItems)?) where baseItems.count == variantItems.count:
            for (i, (b, v)) in zip(baseItems, variantItems).enumerated() { walk(b, v, path: "\(path)[\(i)]", into: &found) }
        default:
            let was = base.map(flow), now = variant.map(flow)
            if was != now { found.append("\(path)=\(now ?? "(default)")") }
        }
    }

    /// A value on one line in YAML's flow style: `[16, 32]`, `{pad: 4, flip: true}`.
    static func flow(_ node: YAMLNode) -> String {
        switch node.value {
        case .scalar(let text, let quoted): return quoted ? "\"\(text)\"" : (node.isNull ? "null" : text)
        case .sequence(let items): return "[" + items.map(flow).joined(separator: ", ") + "]"
        case .mapping(let pairs): return "{" + pairs.map { "\(flow($0.key)): \(flow($0.value))" }.joined(separator: ", ") + "}"
        }
    }
}
