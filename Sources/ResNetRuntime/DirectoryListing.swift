import Foundation

/// A directory's entries, with an error that says whether it is missing, a file or unreadable.
enum DirectoryListing {
    static func names(in directory: String, what: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw RuntimeError("\(what): '\(directory)' does not exist")
        }
        guard isDirectory.boolValue else { throw RuntimeError("\(what): '\(directory)' is a file, not a directory") }
        do { return try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw RuntimeError("\(what): '\(directory)' cannot be listed (permission denied?)")
        }
    }
}
