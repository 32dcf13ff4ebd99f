import Foundation

/// Writes files and directories so that a reader sees the old version or the new one, never
/// half of one, even across a crash: data goes to a temporary name in the same directory, is
/// flushed to disk, then renamed over the target (directories are exchanged in one step).
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(uniqueSuffix())")
        do {
            try data.write(to: temporary)
            try synchronize(temporary.path)
            if rename(temporary.path, url.path) != 0 {
                throw RuntimeError("cannot rename \(temporary.path) to \(path): \(String(cString: strerror(errno)))")
            }
            try synchronize(url.deletingLastPathComponent().path)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            if error is RuntimeError { throw error }
            throw RuntimeError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// Fills a fresh temporary directory next to `path`, then puts it in place. An existing path
    /// is replaced only if `replaceable` says it is a previous version of the same kind of
    /// directory; anything else (a project folder, a file) is refused, never deleted.
    public static func writeDirectory(at path: String, replaceable: (String) -> Bool = { _ in false }, _ fill: (String) throws -> Void) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let exists = FileManager.default.fileExists(atPath: url.path)
        if exists, !replaceable(url.path) {
            throw RuntimeError("refusing to replace '\(path)': it exists and is not a resnetc artifact; choose another output directory")
        }
        let parent = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        let staging = parent.appendingPathComponent(".\(url.lastPathComponent).tmp-\(uniqueSuffix())")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
        do {
            try fill(staging.path)
            for name in try FileManager.default.contentsOfDirectory(atPath: staging.path) {
                try synchronize(staging.appendingPathComponent(name).path)
            }
            try synchronize(staging.path)
            if exists {
                try exchange(staging.path, url.path)
                try FileManager.default.removeItem(at: staging)
            } else if rename(staging.path, url.path) != 0 {
                throw RuntimeError("cannot rename \(staging.path) to \(url.path): \(String(cString: strerror(errno)))")
            }
            try synchronize(parent.path)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
    }

    /// Swaps two paths in one step (Linux renameat2 RENAME_EXCHANGE), so the target is never
    /// missing; where the kernel or file system lacks it, retires the old one just before the move.
    private static func exchange(_ a: String, _ b: String) throws {
        typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
        let atCurrentDirectory: Int32 = -100, renameExchange: UInt32 = 2
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") {
            let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
            if renameat2(atCurrentDirectory, a, atCurrentDirectory, b, renameExchange) == 0 { return }
        }
        let retired = b + ".old-\(uniqueSuffix())"
        guard rename(b, retired) == 0, rename(a, b) == 0 else {
            throw RuntimeError("cannot replace \(b): \(String(cString: strerror(errno)))")
        }
        // The caller removes `a`; put the retired version there so it is cleaned up the same way.
        _ = rename(retired, a)
    }

    /// Flushes a file's or directory's contents to disk.
    static func synchronize(_ path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw RuntimeError("cannot open \(path) to flush it: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw RuntimeError("cannot flush \(path) to disk: \(String(cString: strerror(errno)))") }
    }

    private static func uniqueSuffix() -> String {
        "\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
    }
}
