import CYAML
import ResNetDiagnostics

/// Reads one YAML document into a `YAMLNode` tree with libyaml's event parser. It never
/// recurses, bounds nesting and alias expansion, and turns every libyaml error into a located
/// diagnostic, so any byte string yields either a tree or an error, never a crash or a hang.
public struct YAMLReader {
    /// Deepest nesting of mappings and lists a spec may use.
    public static let maxDepth = 64
    /// Most nodes a document may hold once its aliases are expanded (an alias bomb stops here).
    public static let maxNodes = 100_000

    public let file: String

    public init(file: String) { self.file = file }

    /// Parses `text`; an empty document yields an empty mapping.
    public func read(_ text: String) throws(DiagnosticError) -> YAMLNode {
        try read(bytes: Array(text.utf8))
    }

    /// Parses raw file bytes, so that invalid UTF-8 is reported at its byte offset by libyaml.
    public func read(bytes: [UInt8]) throws(DiagnosticError) -> YAMLNode {
        var bytes = bytes
        if bytes.isEmpty { bytes = [0x0A] }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw DiagnosticError(.error(at: nil, "\(file): cannot initialise the YAML parser"))
        }
        defer { yaml_parser_delete(&parser) }
        return try bytes.withUnsafeBufferPointer { (buffer) throws(DiagnosticError) -> YAMLNode in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            return try build(&parser)
        }
    }

    /// A container being filled while its events arrive.
    private struct OpenNode {
        var isMapping: Bool
        var location: SourceLocation
        var anchor: String?
        var items: [YAMLNode] = []
        var size = 1
    }

    private func build(_ parser: inout yaml_parser_t) throws(DiagnosticError) -> YAMLNode {
        var stack: [OpenNode] = []
        var anchors: [String: (node: YAMLNode, size: Int)] = [:]
        var root: YAMLNode?
        var documents = 0
        var totalNodes = 0

        func finish(_ node: YAMLNode, size: Int, anchor: String?) throws(DiagnosticError) {
            totalNodes += size
            if totalNodes > Self.maxNodes {
                throw DiagnosticError(.error(at: node.location, "document expands to more than \(Self.maxNodes) nodes",
                                             hint: "an alias is probably expanded recursively (an 'alias bomb'); specs are small"))
            }
            if let anchor { anchors[anchor] = (node, size) }
            if stack.isEmpty {
                root = node
            } else {
                stack[stack.count - 1].items.append(node)
                stack[stack.count - 1].size += size
            }
        }

        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else {
                throw DiagnosticError(parserError(parser))
            }
            defer { yaml_event_delete(&event) }
            let location = SourceLocation(file: file, line: Int(event.start_mark.line) + 1,
                                          column: Int(event.start_mark.column) + 1)
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return root ?? YAMLNode(.mapping([]), at: SourceLocation(file: file, line: 1, column: 1))
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 {
                    throw DiagnosticError(.error(at: location, "a spec file holds one YAML document; found a second",
                                                 hint: "remove the '---' separator and everything after it, or split the file"))
                }
            case YAML_SCALAR_EVENT:
                let s = event.data.scalar
                let text = string(s.value, length: s.length)
                let quoted = s.style == YAML_SINGLE_QUOTED_SCALAR_STYLE || s.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE
                    || s.style == YAML_LITERAL_SCALAR_STYLE || s.style == YAML_FOLDED_SCALAR_STYLE
                try finish(YAMLNode(.scalar(text, quoted: quoted), at: location), size: 1, anchor: cString(s.anchor))
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                if stack.count >= Self.maxDepth {
                    throw DiagnosticError(.error(at: location, "nesting deeper than \(Self.maxDepth) levels",
                                                 hint: "a ResNet spec needs at most four levels of nesting"))
                }
                let isMapping = event.type == YAML_MAPPING_START_EVENT
                let anchor = isMapping ? cString(event.data.mapping_start.anchor) : cString(event.data.sequence_start.anchor)
                stack.append(OpenNode(isMapping: isMapping, location: location, anchor: anchor))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                let open = stack.removeLast()
                let node: YAMLNode
                if open.isMapping {
                    node = try mapping(from: open.items, at: open.location)
                } else {
                    node = YAMLNode(.sequence(open.items), at: open.location)
                }
                try finish(node, size: open.size, anchor: open.anchor)
            case YAML_ALIAS_EVENT:
                let name = cString(event.data.alias.anchor) ?? ""
                guard let target = anchors[name] else {
                    throw DiagnosticError(.error(at: location, "alias '*\(name)' names no anchor defined before it"))
                }
                var copy = target.node
                copy.location = location
                try finish(copy, size: target.size, anchor: nil)
            default:
                break
            }
        }
    }

    /// Pairs up a mapping's items as key/value and rejects duplicate and non-scalar keys.
    private func mapping(from items: [YAMLNode], at location: SourceLocation) throws(DiagnosticError) -> YAMLNode {
        var pairs: [(key: YAMLNode, value: YAMLNode)] = []
        var seen: [String: SourceLocation] = [:]
        var index = 0
        while index + 1 < items.count {
            let key = items[index], value = items[index + 1]
            index += 2
            guard let name = key.scalarText else {
                throw DiagnosticError(.error(at: key.location, "mapping keys must be plain names, found \(key.kindDescription)"))
            }
            if let first = seen[name] {
                throw DiagnosticError(.error(at: key.location, "duplicate key '\(name)'",
                                             hint: "it is first set at line \(first.line), column \(first.column)"))
            }
            seen[name] = key.location
            pairs.append((key, value))
        }
        return YAMLNode(.mapping(pairs), at: location)
    }

    private func parserError(_ parser: yaml_parser_t) -> Diagnostic {
        let problem = cString(parser.problem) ?? "malformed YAML"
        let mark = parser.problem_mark
        let location = SourceLocation(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
        var message = "invalid YAML: \(problem)"
        if parser.problem_value != -1, parser.error == YAML_READER_ERROR {
            message += " (byte 0x\(String(UInt8(truncatingIfNeeded: parser.problem_value), radix: 16)) at offset \(parser.problem_offset))"
        }
        let context = cString(parser.context)
        return .error(at: location, message, hint: context)
    }

    private func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, length: Int) -> String {
        guard let pointer else { return "" }
        let buffer = UnsafeBufferPointer(start: pointer, count: length)
        return String(decoding: buffer, as: UTF8.self)
    }

    private func cString(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    private func cString(_ pointer: UnsafePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }
}
