import Foundation

/// The IDX format of MNIST and Fashion-MNIST, gzipped or not: a big-endian header (magic
/// 0x00000803 for images, 0x00000801 for labels, then each dimension) and unsigned bytes.
public enum IDXFile {
    /// Reads an IDX file of unsigned bytes and returns its dimensions and data.
    public static func read(_ path: String, expectedDimensions: Int) throws -> (dims: [Int], bytes: [UInt8]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuntimeError("cannot read '\(path)': no such file or not readable")
        }
        var bytes = [UInt8](data)
        if Gzip.isCompressed(bytes) { bytes = try Gzip.inflate(bytes, file: path) }
        guard bytes.count >= 4 else { throw RuntimeError("\(path): \(bytes.count) bytes is too short for an IDX header") }
        guard bytes[0] == 0, bytes[1] == 0, bytes[2] == 0x08 else {
            throw RuntimeError(String(format: "%@: bad IDX magic %02x %02x %02x %02x at byte 0 (expected 00 00 08 0%d: unsigned bytes)",
                                      path, bytes[0], bytes[1], bytes[2], bytes[3], expectedDimensions))
        }
        guard Int(bytes[3]) == expectedDimensions else {
            throw RuntimeError("\(path): byte 3 says \(bytes[3]) dimensions; expected \(expectedDimensions)")
        }
        let headerSize = 4 + 4 * expectedDimensions
        guard bytes.count >= headerSize else { throw RuntimeError("\(path): the header is truncated at byte \(bytes.count) of \(headerSize)") }
        let dims = (0..<expectedDimensions).map { d in
            (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * d + $1]) }
        }
        let expected = dims.reduce(1, *)
        guard bytes.count - headerSize >= expected else {
            let record = (bytes.count - headerSize) / max(1, expected / max(1, dims[0]))
            throw RuntimeError("\(path): truncated: the header promises \(expected) data bytes after byte \(headerSize), "
                               + "the file holds \(bytes.count - headerSize) (record \(record) is incomplete)")
        }
        return (dims, Array(bytes[headerSize..<(headerSize + expected)]))
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
        return LabeledImages(channels: 1, height: imageDims[1], width: imageDims[2], classes: classes, pixels: pixels, labels: labelBytes)
    }
}
