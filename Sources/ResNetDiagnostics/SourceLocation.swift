/// Where a value came from: a file (or a `--set` override) and a 1-based line and column,
/// so every error can point at the byte the user has to change.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    /// The file path as the user gave it, or the text of a `--set` override such as `--set shortcut=B`.
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}
