import Foundation

/// A dataset laid out as torchvision's ImageFolder: `ROOT/train/<class>/…` and `ROOT/test/<class>/…`
/// (or `ROOT/val/`), each class folder holding `.png`, `.jpg` or `.jpeg` files (subfolders
/// included). Classes are the training split's folder names in sorted (code point) order, and both
/// splits must have the same ones. Hidden files are skipped; other files are counted and named in
/// a warning. Decoding runs on several threads, and the decoded split is cached (`DecodedImageCache`).
public struct ImageFolder: Sendable {
    public let root: String
    public let classNames: [String]
    /// The split folders' names under the root: `train` and `test` or `val`.
    public let trainName: String, testName: String

    /// One image file of a split.
    struct Entry: Sendable {
        /// The path below the root, `train/cat/001.png`.
        var relativePath: String
        var label: Int32
        var bytes: Int
        var modified: Int
    }

    /// Reads the folder's layout (not its images), refusing one whose splits do not match.
    public init(root: String) throws {
        let what = "--dataset folder:\(root)"
        let top = try DirectoryListing.names(in: root, what: what)
        guard top.contains("train") else {
            throw RuntimeError("\(what): '\(root)' has no train/ folder; an image folder holds train/<class>/*.png|jpg and test/<class>/… (or val/)")
        }
        guard let test = ["test", "val"].first(where: top.contains) else {
            throw RuntimeError("\(what): '\(root)' has train/ but no test/ or val/ folder to evaluate on")
        }
        let trainClasses = try Self.classFolders(in: "\(root)/train", what: what)
        let testClasses = try Self.classFolders(in: "\(root)/\(test)", what: what)
        guard !trainClasses.isEmpty else { throw RuntimeError("\(what): \(root)/train holds no class folders (train/<class>/*.png)") }
        if let missing = trainClasses.first(where: { !testClasses.contains($0) }) {
            throw RuntimeError("\(what): class '\(missing)' has a training folder (\(root)/train/\(missing)) but no \(root)/\(test)/\(missing)")
        }
        if let extra = testClasses.first(where: { !trainClasses.contains($0) }) {
            throw RuntimeError("\(what): \(root)/\(test)/\(extra) is a class the training split does not have (no \(root)/train/\(extra))")
        }
        self.root = root
        classNames = trainClasses
        trainName = "train"
        testName = test
    }

    /// The sorted names of the class folders in a split folder.
    static func classFolders(in directory: String, what: String) throws -> [String] {
        try DirectoryListing.names(in: directory, what: what).filter { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".") && FileManager.default.fileExists(atPath: "\(directory)/\(name)", isDirectory: &isDirectory)
                && isDirectory.boolValue
        }.sorted(by: Self.codePointOrder)
    }

    /// Python's string order (torchvision sorts class folders with `sorted`).
    static func codePointOrder(_ a: String, _ b: String) -> Bool { a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) }

    /// Every image file of a split, in class then path order, and the files that are not images.
    func entries(training: Bool) throws -> (images: [Entry], ignored: [String]) {
        let split = training ? trainName : testName
        var images: [Entry] = [], ignored: [String] = []
        for (label, name) in classNames.enumerated() {
            let folder = "\(split)/\(name)"
            var found: [Entry] = []
            guard let walker = FileManager.default.enumerator(atPath: "\(root)/\(folder)") else {
                throw RuntimeError("--dataset folder:\(root): \(root)/\(folder) cannot be listed")
            }
            while let relative = walker.nextObject() as? String {
                let path = "\(root)/\(folder)/\(relative)"
                if (relative as NSString).lastPathComponent.hasPrefix(".") {
                    if walker.fileAttributes?[.type] as? FileAttributeType == .typeDirectory { walker.skipDescendants() }
                    continue
                }
                var info = stat()
                guard stat(path, &info) == 0 else {
                    throw RuntimeError("--dataset folder:\(root): \(path) cannot be read (\(String(cString: strerror(errno))))")
                }
                guard info.st_mode & S_IFMT == S_IFREG else { continue }
                guard ImageFile.hasImageExtension(relative) else { ignored.append(path); continue }
                found.append(Entry(relativePath: "\(folder)/\(relative)", label: Int32(label), bytes: Int(info.st_size),
                                   modified: Int(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int(info.st_mtim.tv_nsec)))
            }
            guard !found.isEmpty else {
                throw RuntimeError("--dataset folder:\(root): the class folder \(root)/\(folder) holds no .png, .jpg or .jpeg images")
            }
            images += found.sorted { Self.codePointOrder($0.relativePath, $1.relativePath) }
        }
        return (images, ignored)
    }

    /// How a split is decoded: the input it must fit, the threads, and what to do with bad files.
    public struct LoadOptions: Sendable {
        public var channels: Int
        public var height: Int
        public var width: Int
        public var threads: Int
        /// Skip files that do not decode (counted in a warning) instead of stopping on the first.
        public var skipBad: Bool
        /// Where decoded splits are cached; nil decodes every time.
        public var cacheDirectory: String?

        public init(channels: Int, height: Int, width: Int, threads: Int, skipBad: Bool, cacheDirectory: String?) {
            (self.channels, self.height, self.width, self.threads, self.skipBad, self.cacheDirectory) =
                (channels, height, width, threads, skipBad, cacheDirectory)
        }
    }

    /// A split's images at the input's size, from the cache when the folder is unchanged.
    public func load(training: Bool, options: LoadOptions, warn: (String) -> Void) throws -> LabeledImages {
        let (entries, ignored) = try self.entries(training: training)
        if !ignored.isEmpty {
            warn("ignored \(ignored.count) file\(ignored.count == 1 ? "" : "s") in \(root) without a .png, .jpg or .jpeg extension, e.g. \(ignored[0])")
        }
        let cache = options.cacheDirectory.map { DecodedImageCache(directory: $0) }
        let key = DecodedImageCache.key(root: root, entries: entries, classNames: classNames, options: options)
        var decoded: DecodedImageCache.Split?
        if let cache {
            do { decoded = try cache.read(key: key) } catch { warn("\(error); decoding \(root) again") }
        }
        if decoded == nil {
            decoded = try decode(entries, options: options)
            if let cache {
                do { try cache.write(decoded!, key: key) } catch { warn("the decoded images of \(root) are not cached: \(error)") }
            }
        }
        let split = decoded!
        if let (path, reason) = split.skipped.first {
            guard options.skipBad else { throw RuntimeError("\(root)/\(path) is not a decodable image: \(reason) (--skip-bad skips such files)") }
            warn("skipped \(split.skipped.count) file\(split.skipped.count == 1 ? "" : "s") of \(root) that are not decodable images, e.g. \(root)/\(path): \(reason)")
        }
        return LabeledImages(channels: options.channels, height: options.height, width: options.width, classes: classNames.count,
                             pixels: split.pixels, labels: split.labels, classNames: classNames)
    }

    /// Decodes `entries` on `options.threads` threads. Every file is tried, so the first failure
    /// (in file order) and the count of failures are the same whatever the thread count.
    func decode(_ entries: [Entry], options: LoadOptions) throws -> DecodedImageCache.Split {
        let size = options.channels * options.height * options.width
        let results = DecodeResults(count: entries.count, imageSize: size)
        let workers = max(1, min(options.threads, entries.count))
        let root = self.root
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for index in stride(from: worker, to: entries.count, by: workers) {
                do {
                    let planes = try ImageFile.planes(path: "\(root)/\(entries[index].relativePath)", channels: options.channels,
                                                      height: options.height, width: options.width)
                    results.store(planes, at: index)
                } catch let error as ImageFile.Undecodable {
                    results.fail(index, error.reason)
                } catch {
                    results.fail(index, (error as? RuntimeError)?.message ?? "\(error)")
                }
            }
        }
        var split = DecodedImageCache.Split(pixels: [], labels: [], skipped: [])
        split.pixels.reserveCapacity(entries.count * size)
        for (index, entry) in entries.enumerated() {
            if let reason = results.failures[index] {
                split.skipped.append((entry.relativePath, reason))
            } else {
                split.pixels += results.pixels[(index * size)..<((index + 1) * size)]
                split.labels.append(entry.label)
            }
        }
        return split
    }

    /// The decoding threads' output, in buffers of its own: each index is written by one thread.
    private final class DecodeResults: @unchecked Sendable {
        let pixels: UnsafeMutableBufferPointer<UInt8>
        let failures: UnsafeMutableBufferPointer<String?>
        let imageSize: Int

        init(count: Int, imageSize: Int) {
            pixels = .allocate(capacity: count * imageSize)
            pixels.initialize(repeating: 0)
            failures = .allocate(capacity: count)
            failures.initialize(repeating: nil)
            self.imageSize = imageSize
        }

        deinit {
            pixels.deallocate()
            failures.deinitialize()
            failures.deallocate()
        }

        func store(_ planes: [UInt8], at index: Int) {
            _ = UnsafeMutableBufferPointer(rebasing: pixels[(index * imageSize)..<((index + 1) * imageSize)]).initialize(from: planes)
        }

        func fail(_ index: Int, _ reason: String) { failures[index] = reason }
    }
}
