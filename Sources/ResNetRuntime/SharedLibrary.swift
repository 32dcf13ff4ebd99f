import Foundation

/// A generated library opened with dlopen, and its C functions by name. Libraries are never
/// unloaded (RTLD_NODELETE): they pull in libgomp, whose idle worker threads would crash if
/// dlclose unloaded it under them.
struct SharedLibrary {
    let path: String
    private let handle: UnsafeMutableRawPointer

    init(_ path: String) throws {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            throw RuntimeError("cannot load \(path): \(dlerror().map { String(cString: $0) } ?? "unknown error")")
        }
        self.path = path
        self.handle = handle
    }

    /// The function `name`, as the C type `type`.
    func function<T>(_ name: String, as type: T.Type) throws -> T {
        guard let pointer = dlsym(handle, name) else { throw RuntimeError("\(path) has no symbol \(name); is it a resnetc library?") }
        return unsafeBitCast(pointer, to: type)
    }
}
