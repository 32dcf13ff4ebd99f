/// How the spec reader turns plain YAML scalars into numbers and booleans. Stricter than
/// YAML 1.1 (no `yes`/`no`, no octal or sexagesimal) but it does accept `1e-4`, which YAML 1.1
/// would leave as a string and every spec author writes.
enum ScalarParsing {
    /// A decimal integer such as `64`, `-3` or `+7`; nil if the text is not one or overflows.
    static func integer(_ text: String) -> Int? {
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        var value = 0
        for digit in digits {
            let (scaled, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = scaled.addingReportingOverflow(Int(digit.asciiValue! - 48))
            if o1 || o2 { return nil }
            value = next
        }
        return negative ? -value : value
    }

    /// True when `text` looks like an integer whose magnitude does not fit 64 bits.
    static func isOverflowingInteger(_ text: String) -> Bool {
        let digits = text.drop { $0 == "-" || $0 == "+" }
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber } && integer(text) == nil
    }

    /// A finite decimal number (`0.1`, `1e-4`, `.5`, `3`); nil for anything else, infinities and NaN included.
    static func number(_ text: String) -> Double? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }),
              text.contains(where: { $0.isNumber }), let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// `true` or `false` in any of YAML's capitalisations.
    static func boolean(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }
}
