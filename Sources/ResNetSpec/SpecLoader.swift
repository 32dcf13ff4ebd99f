import Foundation
import ResNetDiagnostics

/// The front door of the spec language: reads a file, resolves `extends:` chains, applies
/// `--set` overrides, validates against the schema and decodes a `ModelSpec`, collecting every
/// diagnostic on the way.
public struct SpecLoader: Sendable {
    /// Longest `extends:` chain followed before assuming a mistake.
    public static let maxExtendsDepth = 16
    /// Largest spec file read; a spec is a page of YAML, so anything near this is a mistake.
    public static let maxSpecBytes = 16 << 20

    public var overrides: [SpecOverride]

    public init(overrides: [SpecOverride] = []) {
        self.overrides = overrides
    }

    /// What loading produced: the spec if there were no errors, every diagnostic, and the text
    /// of every file read (for quoting lines in diagnostics).
    public struct Result: Sendable {
        public var spec: ModelSpec?
        public var diagnostics: [Diagnostic]
        public var sources: [String: String]

        public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
    }

    public func load(file: String) -> Result {
        let resolved = resolve(file: file)
        guard let tree = resolved.tree else { return Result(spec: nil, diagnostics: resolved.diagnostics, sources: resolved.sources) }
        let result = decode(tree, defaultName: Self.stem(of: file))
        return Result(spec: resolved.diagnostics.isEmpty ? result.spec : nil, diagnostics: resolved.diagnostics + result.diagnostics,
                      sources: resolved.sources)
    }

    /// The file's tree with its `extends:` chain merged and the overrides applied, not yet
    /// validated (nil if the file could not be read), the errors of reading or of overrides that
    /// did not apply (the tree then holds the others), and the texts read.
    public func resolve(file: String) -> (tree: YAMLNode?, diagnostics: [Diagnostic], sources: [String: String]) {
        var sources: [String: String] = [:]
        for override in overrides { sources[override.sourceName] = override.sourceName }
        var tree: YAMLNode
        do {
            tree = try readResolvingExtends(file, chain: [], sources: &sources)
        } catch {
            return (nil, error.diagnostics, sources)
        }
        var overrideErrors: [Diagnostic] = []
        for override in overrides {
            do { try override.apply(to: &tree) } catch { overrideErrors += error.diagnostics }
        }
        return (tree, overrideErrors, sources)
    }

    /// Validates and decodes an already-read tree (tests and fuzzing use this directly).
    public func decode(_ tree: YAMLNode, defaultName: String) -> (spec: ModelSpec?, diagnostics: [Diagnostic]) {
        var validator = SchemaValidator()
        validator.validate(tree, as: SpecSchema.root)
        var decoder = SpecDecoder(validator: validator, defaultName: defaultName)
        let spec = decoder.decode()
        let diagnostics = (validator.diagnostics + decoder.diagnostics).sorted(by: Self.sourceOrder)
        return (diagnostics.contains { $0.severity == .error } ? nil : spec, diagnostics)
    }

    private func readResolvingExtends(_ file: String, chain: [String], sources: inout [String: String]) throws(DiagnosticError) -> YAMLNode {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try FileBytes.read(file, what: "spec", limit: Self.maxSpecBytes))
        } catch {
            throw DiagnosticError(.error(at: nil, "\(error)"))
        }
        sources[file] = String(decoding: bytes, as: UTF8.self)
        var tree = try YAMLReader(file: file).read(bytes: bytes)
        guard case var .mapping(pairs) = tree.value else {
            if tree.isNull { return YAMLNode(.mapping([]), at: tree.location) }
            throw DiagnosticError(.error(at: tree.location, "a spec must be a mapping of keys, found \(tree.kindDescription)",
                                         hint: "start with keys such as 'input:', 'stem:' and 'stages:'"))
        }
        guard let i = pairs.firstIndex(where: { $0.key.scalarText == "extends" }) else { return tree }
        let reference = pairs[i].value
        pairs.remove(at: i)
        tree.value = .mapping(pairs)
        guard let name = reference.scalarText, !reference.isNull else {
            throw DiagnosticError(.error(at: reference.location, "'extends' must be a file name, found \(reference.kindDescription)"))
        }
        let directory = (file as NSString).deletingLastPathComponent
        let basePath = name.hasPrefix("/") || directory.isEmpty ? name : (directory as NSString).appendingPathComponent(name)
        let canonical = URL(fileURLWithPath: basePath).standardizedFileURL.path
        if chain.contains(canonical) || canonical == URL(fileURLWithPath: file).standardizedFileURL.path {
            throw DiagnosticError(.error(at: reference.location, "'extends: \(name)' forms a cycle"))
        }
        if chain.count >= Self.maxExtendsDepth {
            throw DiagnosticError(.error(at: reference.location, "'extends' chain longer than \(Self.maxExtendsDepth) files"))
        }
        guard FileManager.default.fileExists(atPath: basePath) else {
            throw DiagnosticError(.error(at: reference.location, "'extends' names '\(name)', which does not exist",
                                         hint: "the path is relative to the directory of \(file)"))
        }
        let base = try readResolvingExtends(basePath, chain: chain + [URL(fileURLWithPath: file).standardizedFileURL.path], sources: &sources)
        return Self.merge(tree, over: base)
    }

    /// Overlays `top` on `base`: mappings merge key by key, a null removes the base's key (so a
    /// derived spec can drop `iterations` to give `epochs`), anything else replaces.
    /// Keys are unique per mapping (the reader rejects duplicates), so one index finds each.
    static func merge(_ top: YAMLNode, over base: YAMLNode) -> YAMLNode {
        guard case let .mapping(topPairs) = top.value, case let .mapping(basePairs) = base.value else { return top }
        var merged: [(key: YAMLNode, value: YAMLNode)?] = basePairs
        var position: [String?: Int] = [:]
        for (i, pair) in basePairs.enumerated() { position[pair.key.scalarText] = i }
        for (key, value) in topPairs {
            switch (position[key.scalarText], value.isNull) {
            case (let i?, true):
                merged[i] = nil
                position[key.scalarText] = nil
            case (let i?, false):
                merged[i] = (key, merge(value, over: merged[i]!.value))
            case (nil, _):
                position[key.scalarText] = merged.count
                merged.append((key, value))
            }
        }
        return YAMLNode(.mapping(merged.compactMap { $0 }), at: top.location)
    }

    static func stem(of file: String) -> String {
        URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
    }

    private static func sourceOrder(_ a: Diagnostic, _ b: Diagnostic) -> Bool {
        guard let la = a.location, let lb = b.location else { return a.location == nil && b.location != nil }
        if la.file != lb.file { return la.file < lb.file }
        return (la.line, la.column) < (lb.line, lb.column)
    }
}
