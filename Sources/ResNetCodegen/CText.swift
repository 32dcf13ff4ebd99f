/// Makes text from specs safe to put into C. Names come from users (a spec's `name:`), so they
/// never reach C as written: comments drop anything that could end them, string literals escape
/// every byte outside printable ASCII, and identifiers are built from ids and shapes only.
enum CText {
    /// Text for inside a `/* … */` comment: printable ASCII only, and no `*/` or `/*`.
    static func comment(_ text: String) -> String {
        var out = ""
        var previous: Character = " "
        let transliterated = text.replacing("×", with: "x").replacing("→", with: "->").replacing("−", with: "-")
        for scalar in transliterated.unicodeScalars {
            var c = Character(scalar)
            if !(scalar.isASCII && scalar.value >= 0x20 && scalar.value < 0x7F) { c = "?" }
            if (previous == "*" && c == "/") || (previous == "/" && c == "*") { out.append(" ") }
            out.append(c)
            previous = c
        }
        return out
    }

    /// A C string literal, quotes included; `?` is escaped too, so no trigraph can form.
    static func stringLiteral(_ text: String) -> String {
        var out = "\""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += "\\\""
            case UInt8(ascii: "\\"): out += "\\\\"
            case UInt8(ascii: "?"): out += "\\?"
            case 0x20..<0x7F: out.append(Character(UnicodeScalar(byte)))
            default: out += "\\" + String(byte, radix: 8).leftPadded(to: 3)
            }
        }
        return out + "\""
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
