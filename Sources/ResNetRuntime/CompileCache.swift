import Foundation

/// The directory of compiled libraries and the rules that keep it trustworthy. An entry is
/// `KEY.so` and beside it `KEY.so.json`, a record of the library's size and SHA-256. A library
/// is used only while it matches its record, so a truncated or altered one (which dlopen would map
/// and then die on with SIGBUS) is deleted and rebuilt instead. Libraries are built in private
/// `build-KEY-PID-N` directories, flushed and renamed into place, and records are written
/// atomically; what a killed resnetc leaves behind (build directories, `.KEY.so….tmp-PID-N`
/// files) is removed by a later compile. Nothing else in the directory is ever touched.
struct CompileCache {
    let directory: String

    /// A build directory or temporary file is abandoned once its process is gone, or once it is
    /// this old (seconds) in case the process id has been reused.
    static let abandonedAfter: TimeInterval = 3600

    /// What an entry's record says about its library.
    private struct Record: Codable, Equatable {
        let bytes: Int
        let sha256: String
    }

    func libraryPath(for key: String) -> String { "\(directory)/\(key).so" }
    func recordPath(for key: String) -> String { "\(directory)/\(key).so.json" }

    /// The library cached under `key`, or nil if there is none. An entry whose library no longer
    /// matches its record, or has none (an older resnetc's cache), is deleted so it is rebuilt.
    /// A record without its library is left alone: a writer puts the record first and is about
    /// to rename the library in, and a rebuild overwrites it anyway.
    func library(for key: String) -> String? {
        let library = libraryPath(for: key), record = recordPath(for: key)
        guard FileManager.default.fileExists(atPath: library) else { return nil }
        if let recorded = FileManager.default.contents(atPath: record).flatMap({ try? JSONDecoder().decode(Record.self, from: $0) }),
           let contents = FileManager.default.contents(atPath: library),
           recorded == Record(bytes: contents.count, sha256: SHA256.hex(contents)) {
            return library
        }
        unlink(library)
        unlink(record)
        return nil
    }

    /// Creates the cache directory if needed and a fresh build directory in it for `key`,
    /// named so that a later compile can tell when its process is gone.
    func makeBuildDirectory(for key: String) throws -> String {
        do { try AtomicFile.createDirectory(directory) } catch { throw unusable("\(error)") }
        let path = "\(directory)/build-\(key)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(path, 0o700) == 0 else { throw unusable("cannot create \(path): \(AtomicFile.errnoText())") }
        return path
    }

    /// Makes `built` (a checked library whose bytes are `contents`) the entry for `key`: the
    /// library is flushed to disk, the record written atomically, then the library renamed over
    /// the entry's name and the directory flushed. The record goes first so that whoever finds
    /// the library also finds its record.
    func store(_ built: String, contents: Data, as key: String) throws -> String {
        let library = libraryPath(for: key)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try AtomicFile.synchronize(built)
        try AtomicFile.write(try encoder.encode(Record(bytes: contents.count, sha256: SHA256.hex(contents))), to: recordPath(for: key))
        guard rename(built, library) == 0 else {
            throw RuntimeError("cannot move the compiled library into the compile cache as \(library): \(AtomicFile.errnoText())")
        }
        try AtomicFile.synchronize(directory)
        return library
    }

    /// Removes the build directories and temporary files of compiles whose process is gone (or
    /// that are older than `abandonedAfter`). Only names resnetc gives its own temporaries are
    /// considered; failures are ignored, as the next compile tries again.
    func removeAbandonedFiles(now: Date = Date()) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names {
            guard let owner = Self.owner(ofTemporary: name) else { continue }
            let path = "\(directory)/\(name)"
            var status = stat()
            guard lstat(path, &status) == 0 else { continue }
            let age = now.timeIntervalSince1970 - TimeInterval(status.st_mtim.tv_sec)
            if !Self.isRunning(owner) || age > Self.abandonedAfter {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
    }

    /// The process that made `name`, if it is one of resnetc's temporaries: a build directory
    /// `build-KEY-PID-N` (or `build-KEY-PID`, as older versions named them) or a file being
    /// written, `.KEY.so.tmp-PID-N` or `.KEY.so.json.tmp-PID-N`. Nil for any other name.
    static func owner(ofTemporary name: String) -> pid_t? {
        if name.hasPrefix("build-") {
            let fields = name.dropFirst("build-".count).split(separator: "-", omittingEmptySubsequences: false)
            guard fields.count == 2 || fields.count == 3, isKey(fields[0]), fields.dropFirst().allSatisfy(isNumber) else { return nil }
            return pid_t(fields[1])
        }
        let afterDot = name.dropFirst()
        guard name.hasPrefix("."), let marker = afterDot.range(of: ".tmp-") else { return nil }
        let target = afterDot[..<marker.lowerBound]
        let fields = afterDot[marker.upperBound...].split(separator: "-", omittingEmptySubsequences: false)
        let suffix = target.dropFirst(64)
        guard isKey(target.prefix(64)), suffix == ".so" || suffix == ".so.json",
              fields.count == 2, fields.allSatisfy(isNumber) else { return nil }
        return pid_t(fields[0])
    }

    /// A cache key: 64 lowercase hex digits.
    private static func isKey(_ text: Substring) -> Bool {
        text.count == 64 && text.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }

    private static func isNumber(_ text: Substring) -> Bool {
        !text.isEmpty && text.allSatisfy { ("0"..."9").contains($0) }
    }

    /// Whether process `pid` exists (a process of another user counts: kill then says EPERM).
    private static func isRunning(_ pid: pid_t) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }

    private func unusable(_ reason: String) -> RuntimeError {
        RuntimeError("cannot use the compile cache \(directory): \(reason)\n  hint: set RESNETC_CACHE to a writable directory")
    }
}
