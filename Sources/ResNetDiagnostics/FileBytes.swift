import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole input file (a spec, weights, an array, a dataset batch) with read(2) until end
/// of file, so `/dev/stdin`, pipes, FIFOs and `/proc` files work as well as regular files, and
/// every failure is one sentence naming the file and the reason the system gave.
public enum FileBytes {
    /// Why a file could not be read: "cannot read weights 'w.safetensors': permission denied".
    public struct ReadError: Error, CustomStringConvertible {
        /// What the file is for, as the sentence names it: "weights", "array", "spec".
        public var what: String
        public var path: String
        /// The reason in words, usually the system's ("no such file or directory", "is a directory").
        public var reason: String

        public var description: String { "cannot read \(what) '\(path)': \(reason)" }
    }

    /// The most bytes one input may hold: a quarter of this machine's memory, so that `/dev/zero`
    /// or a sparse file ends in an error, not in the kernel killing the process.
    public static let defaultLimit = Int(clamping: ProcessInfo.processInfo.physicalMemory / 4)

    /// The bytes of the file at `path`, which is described as `what` in errors. Reading blocks
    /// like `cat` does: a FIFO with no writer waits for one.
    public static func read(_ path: String, what: String, limit: Int = defaultLimit) throws -> Data {
        let limit = min(limit, Int.max / 2)  // so the buffer arithmetic below cannot overflow
        func failure(_ code: Int32) -> ReadError { ReadError(what: what, path: path, reason: reason(code)) }
        guard !path.utf8.contains(0) else { throw ReadError(what: what, path: path, reason: "the name contains a NUL byte") }
        var descriptor: Int32
        repeat { descriptor = open(path, O_RDONLY | O_CLOEXEC) } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else { throw failure(errno) }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure(errno) }
        guard status.st_mode & S_IFMT != S_IFDIR else { throw failure(EISDIR) }
        let tooLarge = ReadError(what: what, path: path, reason: "it holds more than \(sizeText(limit)), the most resnetc reads from one file")
        // A regular file says its size; one byte more lets end of file arrive without a regrowth.
        // Streams and /proc files report 0 and grow the buffer as they deliver.
        let announced = status.st_mode & S_IFMT == S_IFREG ? Int(status.st_size) : 0
        guard announced <= limit else { throw tooLarge }
        var data = Data(count: max(announced + 1, 1 << 16))
        var filled = 0
        while true {
            if filled == data.count {
                guard filled <= limit else { throw tooLarge }
                data.count = filled + min(filled, limit - filled + 1)
            }
            let got = data.withUnsafeMutableBytes { buffer in
                systemRead(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
            }
            if got == 0 { break }
            if got < 0 {
                if errno == EINTR { continue }
                throw failure(errno)
            }
            filled += got
            guard filled <= limit else { throw tooLarge }
        }
        data.count = filled
        return data
    }

    /// The C library's message for `code`, starting lower-case to sit inside a sentence.
    static func reason(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }

    static func sizeText(_ bytes: Int) -> String {
        if bytes >= 1 << 30 { return String(format: "%.1f GiB", Double(bytes) / Double(1 << 30)) }
        if bytes >= 1 << 20 { return String(format: "%.1f MiB", Double(bytes) / Double(1 << 20)) }
        return "\(bytes) bytes"
    }
}

/// read(2), named apart from `FileBytes.read`.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.read(descriptor, buffer, count)
    #else
    Darwin.read(descriptor, buffer, count)
    #endif
}
