import Foundation

/// Checks JSON read from a file for what Foundation's parsers let through: a key that appears
/// twice in one object (the parser silently keeps one, so two readers of the same file could see
/// different tensors) and nesting deep enough to exhaust the stack. Syntax is left to the parser.
public enum StrictJSON {
    /// Deeper than any header resnetc reads (safetensors needs 3 levels) and far from the stack's limit.
    public static let maximumDepth = 64

    /// The first problem as a phrase ("key 'a' appears twice in one object"), or nil.
    public static func problem(in json: some Collection<UInt8>) -> String? {
        let bytes = Array(json)
        // The keys of each open object, nil for an open array; a string after `{` or `,` in an object is a key.
        var containers: [Set<String>?] = []
        var expectingKey = false
        var i = 0
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                containers.append(bytes[i] == UInt8(ascii: "{") ? [] : nil)
                expectingKey = bytes[i] == UInt8(ascii: "{")
                if containers.count > maximumDepth { return "it nests deeper than \(maximumDepth) levels" }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard !containers.isEmpty else { return nil }
                containers.removeLast()
                expectingKey = false
            case UInt8(ascii: ","):
                expectingKey = containers.last.map { $0 != nil } ?? false
            case UInt8(ascii: "\""):
                var end = i + 1
                while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1 }
                guard end < bytes.count else { return nil }
                if expectingKey {
                    let key = text(of: bytes[i...end])
                    if containers[containers.count - 1]?.insert(key).inserted == false { return "key '\(key)' appears twice in one object" }
                    expectingKey = false
                }
                i = end
            default:
                break
            }
            i += 1
        }
        return nil
    }

    /// The string a quoted JSON literal stands for (escapes decoded), or its raw text if malformed.
    private static func text(of literal: ArraySlice<UInt8>) -> String {
        let inner = literal.dropFirst().dropLast()
        guard inner.contains(UInt8(ascii: "\\")) else { return String(decoding: inner, as: UTF8.self) }
        return (try? JSONDecoder().decode(String.self, from: Data(literal))) ?? String(decoding: inner, as: UTF8.self)
    }
}
