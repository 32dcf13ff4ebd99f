/// One problem found in a user's input, located at the offending key or value, with an optional
/// hint that says how to fix it.
public struct Diagnostic: Hashable, Sendable, Error, CustomStringConvertible {
    /// How bad a diagnostic is; only errors make `resnetc check` fail.
    public enum Severity: String, Sendable {
        case error, warning, note
    }

    public var severity: Severity
    public var location: SourceLocation?
    public var message: String
    public var hint: String?

    public init(_ severity: Severity = .error, at location: SourceLocation?, _ message: String, hint: String? = nil) {
        self.severity = severity
        self.location = location
        self.message = message
        self.hint = hint
    }

    public static func error(at location: SourceLocation?, _ message: String, hint: String? = nil) -> Diagnostic {
        Diagnostic(.error, at: location, message, hint: hint)
    }

    /// `file:line:col: error: message`, the first line of every rendering.
    public var description: String {
        let prefix = location.map { "\($0): " } ?? "resnetc: "
        return "\(prefix)\(severity.rawValue): \(message)"
    }
}

/// A failure made of one or more diagnostics, thrown where a stage cannot go on.
public struct DiagnosticError: Error, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
    public init(_ diagnostic: Diagnostic) { self.diagnostics = [diagnostic] }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
