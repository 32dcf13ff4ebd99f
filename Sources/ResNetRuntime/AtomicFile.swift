import Foundation

/// Writes files and directories so that a reader sees the old version or the new one, never
/// half of one, even across a crash: data goes to a temporary name in the same directory, is
/// flushed to disk, then renamed over the target (directories are exchanged in one step).
public enum AtomicFile {
    /// Replaces `path` with `data` in one step: written to a temporary name beside it, flushed,
    /// renamed over it, and the directory flushed. On any failure the old file is untouched and
    /// the temporary one removed.
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        removeAbandonedTemporaries(of: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(uniqueSuffix())").path
        do {
            try writeNew(data, to: temporary, reportingAs: path)
            guard rename(temporary, path) == 0 else { throw RuntimeError("cannot write \(path): \(errnoText())") }
            try synchronize(url.deletingLastPathComponent().path)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Creates `path` (which must not exist), writes `data` and flushes it to disk; errors name
    /// `reportingAs` (the file the user knows about) and the system's reason.
    public static func writeNew(_ data: Data, to path: String, reportingAs shownPath: String? = nil) throws {
        let shown = shownPath ?? path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw RuntimeError("cannot write \(shown): \(errnoText())") }
        var failure: String?
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var done = 0
            while done < bytes.count {
                let n = Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { failure = errnoText(); return }
                done += n
            }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = errnoText() }
        if close(descriptor) != 0, failure == nil { failure = errnoText() }
        if let failure {
            unlink(path)
            throw RuntimeError("cannot write \(shown): \(failure)")
        }
    }

    /// Fills a fresh temporary directory next to `path`, then puts it in place. An existing path
    /// is replaced only if `refusal` finds no reason against it (it is a previous version of
    /// the same kind of directory, holding only what resnetc wrote); anything else (a project
    /// folder, a file) is refused with that reason, never deleted.
    public static func writeDirectory(at path: String, refusal: (String) -> String? = { _ in "it exists" },
                                      _ fill: (String) throws -> Void) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let exists = FileManager.default.fileExists(atPath: url.path)
        if exists, let reason = refusal(url.path) {
            throw RuntimeError("refusing to replace '\(path)': \(reason); choose another output directory")
        }
        let parent = url.deletingLastPathComponent()
        try createDirectory(parent.path)
        removeAbandonedTemporaries(of: url.path)
        let staging = parent.appendingPathComponent(".\(url.lastPathComponent).tmp-\(uniqueSuffix())")
        try createDirectory(staging.path, intermediate: false)
        do {
            try fill(staging.path)
            for name in try FileManager.default.contentsOfDirectory(atPath: staging.path) {
                try synchronize(staging.appendingPathComponent(name).path)
            }
            try synchronize(staging.path)
            if exists {
                try exchange(staging.path, url.path)
                // The new version is in place; the old one (now at the staging name) is removed
                // if it can be, else the next write's clean-up takes it.
                try? FileManager.default.removeItem(at: staging)
            } else if rename(staging.path, url.path) != 0 {
                throw RuntimeError("cannot write \(path): \(errnoText())")
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
        guard rename(b, retired) == 0 else { throw RuntimeError("cannot replace \(b): \(errnoText())") }
        guard rename(a, b) == 0 else {
            let reason = errnoText()
            _ = rename(retired, b)
            throw RuntimeError("cannot replace \(b): \(reason)")
        }
        // The caller removes `a`; put the retired version there so it is cleaned up the same way.
        _ = rename(retired, a)
    }

    /// Creates a directory (and, with `intermediate`, its missing parents) or says in a sentence
    /// why not; an existing directory is fine, an existing file in the way is not.
    public static func createDirectory(_ path: String, intermediate: Bool = true) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw RuntimeError("cannot create directory '\(path)': a file of that name is in the way") }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if intermediate, !parent.isEmpty, parent != path { try createDirectory(parent) }
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw RuntimeError("cannot create directory '\(path)': \(errnoText())")
        }
    }

    /// The system's reason for the last failed call, as `strerror` words it ("Permission denied").
    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// Flushes a file's or directory's contents to disk.
    static func synchronize(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw RuntimeError("cannot open \(path) to flush it: \(errnoText())") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw RuntimeError("cannot flush \(path) to disk: \(errnoText())") }
    }

    /// Removes what a killed writer of `path` left beside it (`.NAME.tmp-PID-…` files or staging
    /// directories) once its process is gone and it is ten minutes old (a writer in another PID
    /// namespace sharing the directory is not mistaken for a dead one). Only names of that
    /// exact pattern are touched.
    static func removeAbandonedTemporaries(of path: String) {
        let url = URL(fileURLWithPath: path)
        let parent = url.deletingLastPathComponent().path
        let prefix = ".\(url.lastPathComponent).tmp-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where name.hasPrefix(prefix) {
            var info = stat()
            guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }), pid > 0, kill(pid, 0) != 0, errno == ESRCH,
                  lstat(parent + "/" + name, &info) == 0, time(nil) - info.st_mtim.tv_sec > 600 else { continue }
            try? FileManager.default.removeItem(atPath: parent + "/" + name)
        }
    }

    private static func uniqueSuffix() -> String {
        "\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
    }
}
