import Foundation

/// Writes files and directories so that a reader sees the old version or the new one, never
/// half of one: data goes to a temporary name in the same directory, then is renamed over.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try data.write(to: temporary)
            if rename(temporary.path, url.path) != 0 {
                throw RuntimeError("cannot rename \(temporary.path) to \(path): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            if error is RuntimeError { throw error }
            throw RuntimeError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// Fills a fresh temporary directory next to `path`, then swaps it into place.
    public static func writeDirectory(at path: String, _ fill: (String) throws -> Void) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let parent = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        let suffix = "\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        let staging = parent.appendingPathComponent(".\(url.lastPathComponent).tmp-\(suffix)")
        let retired = parent.appendingPathComponent(".\(url.lastPathComponent).old-\(suffix)")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
        do {
            try fill(staging.path)
            if FileManager.default.fileExists(atPath: url.path) {
                try FileManager.default.moveItem(at: url, to: retired)
            }
            try FileManager.default.moveItem(at: staging, to: url)
            try? FileManager.default.removeItem(at: retired)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            if FileManager.default.fileExists(atPath: retired.path), !FileManager.default.fileExists(atPath: url.path) {
                try? FileManager.default.moveItem(at: retired, to: url)
            }
            throw error
        }
    }
}
