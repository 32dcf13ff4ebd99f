import Foundation
import ResNetDiagnostics

/// Decoded image-folder splits kept in `CACHE/images/KEY.bin`, so later epochs and runs do not
/// decode again. The key hashes everything the pixels depend on: the folder's absolute path,
/// each file's path, size, modification time and label, the class names and the input size; a
/// changed folder gets a new key and is decoded again. A file is one JSON header line and the
/// payload (labels as little-endian int32, then the pixels), whose SHA-256 the header records: a
/// truncated or altered cache file is reported and decoded again, never trusted.
struct DecodedImageCache {
    let directory: String

    init(directory: String) { self.directory = "\(directory)/images" }

    /// A decoded split: the images that decoded and the files that did not, with why.
    struct Split {
        var pixels: [UInt8]
        var labels: [Int32]
        /// Relative path and reason of each file that did not decode.
        var skipped: [(String, String)]
    }

    /// The header line of a cache file.
    private struct Header: Codable {
        static let format = "resnetc-decoded-images", version = 1
        var format = Header.format
        var version = Header.version
        var key: String
        var images: Int
        var imageBytes: Int
        var skipped: [[String]]
        var sha256: String
    }

    static func key(root: String, entries: [ImageFolder.Entry], classNames: [String], options: ImageFolder.LoadOptions) -> String {
        var hash = SHA256()
        let absolute = root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root
        hash.update("\(Header.format) \(Header.version)\n\((absolute as NSString).standardizingPath)\n")
        hash.update("\(options.channels)x\(options.height)x\(options.width)\n\(classNames.joined(separator: "\u{0}"))\n")
        for entry in entries { hash.update("\(entry.relativePath)\u{0}\(entry.bytes)\u{0}\(entry.modified)\u{0}\(entry.label)\n") }
        return hash.finalizeHex()
    }

    func path(for key: String) -> String { "\(directory)/\(key).bin" }

    /// The split cached under `key`, nil if there is none, or an error saying why the file is unusable.
    func read(key: String) throws -> Split? {
        let file = path(for: key)
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        let data = try FileBytes.read(file, what: "decoded-image cache")
        func corrupt(_ why: String) -> RuntimeError { RuntimeError("the decoded-image cache \(file) is unusable (\(why))") }
        guard let newline = data.firstIndex(of: UInt8(ascii: "\n")) else { throw corrupt("no header line") }
        guard let header = try? JSONDecoder().decode(Header.self, from: data[data.startIndex..<newline]),
              header.format == Header.format, header.version == Header.version, header.key == key,
              header.images >= 0, header.imageBytes > 0, header.skipped.allSatisfy({ $0.count == 2 }) else {
            throw corrupt("its header is not this resnetc's")
        }
        let payload = data[(newline + 1)...]
        let (labelBytes, overflowA) = header.images.multipliedReportingOverflow(by: 4)
        let (pixelBytes, overflowB) = header.images.multipliedReportingOverflow(by: header.imageBytes)
        guard !overflowA, !overflowB, payload.count == labelBytes + pixelBytes else {
            throw corrupt("it holds \(payload.count) payload bytes, its header promises \(header.images) images of \(header.imageBytes) bytes")
        }
        guard SHA256.hex(payload) == header.sha256 else { throw corrupt("its contents do not match the SHA-256 in its header") }
        var labels = [Int32](repeating: 0, count: header.images)
        _ = labels.withUnsafeMutableBytes { payload.prefix(labelBytes).copyBytes(to: $0) }
        labels = labels.map { Int32(littleEndian: $0) }
        return Split(pixels: [UInt8](payload.dropFirst(labelBytes)), labels: labels, skipped: header.skipped.map { ($0[0], $0[1]) })
    }

    /// Stores `split` under `key`, atomically, creating the cache directory if needed.
    func write(_ split: Split, key: String) throws {
        try AtomicFile.createDirectory(directory)
        var payload = Data(capacity: split.labels.count * 4 + split.pixels.count)
        for label in split.labels { withUnsafeBytes(of: label.littleEndian) { payload.append(contentsOf: $0) } }
        payload.append(contentsOf: split.pixels)
        let header = Header(key: key, images: split.labels.count, imageBytes: split.labels.isEmpty ? 1 : split.pixels.count / split.labels.count,
                            skipped: split.skipped.map { [$0.0, $0.1] }, sha256: SHA256.hex(payload))
        var file = try JSONEncoder().encode(header)
        file.append(UInt8(ascii: "\n"))
        file.append(payload)
        try AtomicFile.write(file, to: path(for: key))
    }
}
