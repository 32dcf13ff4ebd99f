import Foundation
import ResNetDiagnostics

/// The IDX format of MNIST and Fashion-MNIST, gzipped or not: a big-endian header (magic
/// 0x00000803 for images, 0x00000801 for labels, then each dimension) and unsigned bytes.
/// The dimensions' product is checked before anything is allocated, and a gzipped file is
/// inflated only as far as its header promises.
public enum IDXFile {
    /// Reads an IDX file of unsigned bytes and returns its dimensions and data.
    public static func read(_ path: String, expectedDimensions: Int) throws -> (dims: [Int], bytes: [UInt8]) {
        try parse([UInt8](try FileBytes.read(path, what: "IDX file")), file: path, expectedDimensions: expectedDimensions)
    }

    /// The dimensions and data of an IDX file's bytes (gzipped or not); trailing bytes are ignored.
    public static func parse(_ bytes: [UInt8], file: String, expectedDimensions: Int) throws -> (dims: [Int], bytes: [UInt8]) {
        let headerSize = 4 + 4 * expectedDimensions
        let compressed = Gzip.isCompressed(bytes)
        let head = try compressed ? Gzip.inflate(bytes, file: file, limit: headerSize) : bytes
        guard head.count >= 4 else { throw RuntimeError("\(file): \(head.count) bytes is too short for an IDX header") }
        guard head[0] == 0, head[1] == 0, head[2] == 0x08 else {
            throw RuntimeError(String(format: "%@: bad IDX magic %02x %02x %02x %02x at byte 0 (expected 00 00 08 0%d: unsigned bytes)",
                                      file, head[0], head[1], head[2], head[3], expectedDimensions))
        }
        guard Int(head[3]) == expectedDimensions else {
            throw RuntimeError("\(file): byte 3 says \(head[3]) dimensions; expected \(expectedDimensions)")
        }
        guard head.count >= headerSize else { throw RuntimeError("\(file): the header is truncated at byte \(head.count) of \(headerSize)") }
        let dims = (0..<expectedDimensions).map { d in
            (0..<4).reduce(0) { $0 << 8 | Int(head[4 + 4 * d + $1]) }
        }
        let size = try CheckedSize.elements(dims, bytesEach: 1, file: file, field: "the header's shape")
        let end = try CheckedSize.sum(headerSize, size.bytes, file: file, field: "the end of the data")
        let content: [UInt8]
        if compressed {
            guard size.bytes <= FileBytes.defaultLimit else {
                throw RuntimeError("\(file): the header's dimensions \(dims) promise \(size.bytes) bytes, "
                                   + "more than the \(FileBytes.defaultLimit) resnetc inflates from one file")
            }
            content = try Gzip.inflate(bytes, file: file, limit: end)
        } else {
            content = bytes
        }
        guard content.count >= end else {
            let record = (content.count - headerSize) / (size.bytes / dims[0])
            throw RuntimeError("\(file): truncated: the header promises \(size.bytes) data bytes after byte \(headerSize), "
                               + "the file holds \(content.count - headerSize) (record \(record) is incomplete)")
        }
        return (dims, Array(content[headerSize..<end]))
    }

    /// An images file and its labels file as one split; labels must be below `classes`.
    public static func readSplit(images: String, labels: String, classes: Int) throws -> LabeledImages {
        let (imageDims, pixels) = try read(images, expectedDimensions: 3)
        let (labelDims, labelBytes) = try read(labels, expectedDimensions: 1)
        guard imageDims[0] == labelDims[0] else {
            throw RuntimeError("\(images) holds \(imageDims[0]) images but \(labels) holds \(labelDims[0]) labels")
        }
        if let bad = labelBytes.firstIndex(where: { Int($0) >= classes }) {
            throw RuntimeError("\(labels): label \(labelBytes[bad]) of record \(bad) (byte offset \(8 + bad)) is not below \(classes) classes")
        }
        return LabeledImages(channels: 1, height: imageDims[1], width: imageDims[2], classes: classes, pixels: pixels, labels: labelBytes.map(Int32.init))
    }
}
