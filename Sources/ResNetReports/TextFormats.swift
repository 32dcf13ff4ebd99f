import Foundation

/// Escaping for the text formats reports are written in (CSV, Markdown, SVG), so no name from
/// a spec, a dataset or a file system can break a table or a drawing.
public enum TextFormats {
    /// A CSV field, quoted when it holds a comma, a quote or a line break.
    public static func csvField(_ text: String) -> String {
        guard text.contains(where: { ",\"\n\r".contains($0) }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A Markdown table cell: pipes escaped and line breaks folded.
    public static func markdownCell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// Text in a Markdown code span, fenced by more backticks than it holds in a row.
    public static func codeSpan(_ text: String) -> String {
        var longest = 0, run = 0
        for character in text {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: longest + 1)
        return longest == 0 ? fence + text + fence : fence + " " + text + " " + fence
    }

    /// Text for SVG (XML) content and attribute values.
    public static func xml(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // Characters XML 1.0 forbids (control codes, U+FFFE, U+FFFF) become a replacement mark.
                let allowed = character.unicodeScalars.allSatisfy { ($0.value >= 0x20 || $0 == "\t") && $0.value != 0xFFFE && $0.value != 0xFFFF }
                out += allowed ? String(character) : "\u{FFFD}"
            }
        }
        return out
    }

    /// An SVG coordinate, to a tenth of a pixel.
    public static func coordinate(_ value: Double) -> String { String(format: "%.1f", value) }
}
