import Foundation

/// What tests of user errors share: a fresh scratch directory per test, and the text of the
/// error a piece of code throws.
public enum Scratch {
    /// A new, empty directory under the system's temporary directory.
    public static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("resnetc-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The description of the error `body` throws, or "" if it throws none.
    public static func errorText(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }
}
