import Foundation
import ResNetRuntime

/// Writes a report's files into a directory, each atomically, and never over a file of the
/// same name that resnetc did not write: each file kind has a signature its own files start with
/// (a header line or a comment), and a file without it is a user's.
public enum OwnedFiles {
    /// One file of a report: its name, its text and the signature that marks it as resnetc's.
    public struct File {
        public var name: String
        public var text: String
        public var signature: String

        public init(name: String, text: String, signature: String) {
            (self.name, self.text, self.signature) = (name, text, signature)
        }
    }

    /// The XML declaration every SVG resnetc writes starts with.
    public static let xmlDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

    /// An SVG drawing (starting with the XML declaration) with `marker` as the comment after it.
    public static func svg(name: String, _ drawing: String, marker: String) -> File {
        precondition(drawing.hasPrefix(xmlDeclaration))
        let signature = xmlDeclaration + marker + "\n"
        return File(name: name, text: signature + drawing.dropFirst(xmlDeclaration.count), signature: signature)
    }

    /// Refuses the directory if any of `files` exists there without its signature.
    public static func requireWritable(_ files: [File], in directory: String, hint: String) throws {
        for file in files {
            let path = directory + "/" + file.name
            if FileManager.default.fileExists(atPath: path), !isOwn(path, signature: file.signature) {
                throw RuntimeError("'\(path)' exists and resnetc did not write it; \(hint)")
            }
        }
    }

    public static func write(_ files: [File], to directory: String, hint: String) throws {
        precondition(files.allSatisfy { $0.text.hasPrefix($0.signature) }, "a report file must start with its signature")
        try AtomicFile.createDirectory(directory)
        try requireWritable(files, in: directory, hint: hint)
        for file in files { try AtomicFile.write(Data(file.text.utf8), to: directory + "/" + file.name) }
    }

    static func isOwn(_ path: String, signature: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: signature.utf8.count)) ?? Data()
        return head == Data(signature.utf8)
    }
}
