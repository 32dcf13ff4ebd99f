import Foundation

/// NumPy's `.npy` format for float32 arrays: a magic string, a version, a Python-literal header
/// (`{'descr': '<f4', 'fortran_order': False, 'shape': (8, 3, 32, 32), }`) and C-order data.
public struct NumPyArray: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }

    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    public static func read(_ path: String) throws -> NumPyArray {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuntimeError("cannot read array '\(path)': no such file or not readable")
        }
        let bytes = [UInt8](data)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw RuntimeError("\(path) is not a .npy file (it does not start with \\x93NUMPY)")
        }
        let major = bytes[6]
        let lengthBytes = major == 1 ? 2 : 4
        guard [1, 2, 3].contains(major), bytes.count >= 8 + lengthBytes else {
            throw RuntimeError("\(path): unsupported .npy version \(major).\(bytes[7])")
        }
        let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        let dataStart = 8 + lengthBytes + headerLength
        guard dataStart <= bytes.count else { throw RuntimeError("\(path): the header runs past the end of the file") }
        let header = String(decoding: bytes[(8 + lengthBytes)..<dataStart], as: UTF8.self)
        let descr = field("descr", in: header)?.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        let fortran = field("fortran_order", in: header)?.trimmingCharacters(in: .whitespaces)
        guard let shapeText = field("shape", in: header) else { throw RuntimeError("\(path): the header has no shape") }
        let shape = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() ")).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.compactMap { Int($0) }
        guard descr == "<f4" else {
            throw RuntimeError("\(path) holds '\(descr ?? "?")' data; expected little-endian float32 ('<f4') — convert with array.astype(numpy.float32)")
        }
        guard fortran == "False" else { throw RuntimeError("\(path) is in Fortran order; expected C order (numpy.ascontiguousarray)") }
        let count = shape.reduce(1, *)
        guard bytes.count - dataStart == count * 4 else {
            throw RuntimeError("\(path): shape \(shape) needs \(count * 4) data bytes, the file has \(bytes.count - dataStart) after byte \(dataStart)")
        }
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBytes { $0.copyBytes(from: bytes[dataStart...]) }
        return NumPyArray(shape: shape, values: values)
    }

    /// Reads a batch of images and checks it is float32 (N, C, H, W) with the model's C, H, W.
    public static func readImages(_ path: String, imageDims: [Int]) throws -> NumPyArray {
        let array = try read(path)
        guard array.shape.count == 4, Array(array.shape.dropFirst()) == imageDims, array.shape[0] >= 1 else {
            throw RuntimeError("\(path) has shape \(array.shape); the model takes float32 (N, \(imageDims.map(String.init).joined(separator: ", ")))")
        }
        return array
    }

    /// The file's bytes: version 1.0, header padded with spaces to 64 bytes.
    public func serialized() -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        while (10 + header.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data(Self.magic + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(Data(header.utf8))
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        return data
    }

    /// The text after `'key':` up to the next top-level comma (tuples kept whole).
    private static func field(_ key: String, in header: String) -> String? {
        guard let range = header.range(of: "'\(key)':") ?? header.range(of: "\"\(key)\":") else { return nil }
        var depth = 0
        var out = ""
        for c in header[range.upperBound...] {
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1 }
            if (c == "," && depth == 0) || c == "}" { break }
            out.append(c)
        }
        return out.trimmingCharacters(in: .whitespaces)
    }
}
