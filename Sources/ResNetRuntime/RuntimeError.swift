/// A failure the user can act on: a missing compiler, a malformed weight file, an array of the
/// wrong shape. The message names the file, tensor or command involved.
public struct RuntimeError: Error, CustomStringConvertible {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
