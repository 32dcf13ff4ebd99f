import Foundation
import ResNetDiagnostics

/// NumPy's `.npy` format for float32 arrays: a magic string, a version, a Python-literal header
/// (`{'descr': '<f4', 'fortran_order': False, 'shape': (8, 3, 32, 32), }`) and C-order data.
/// The header is parsed as the dict literal it is, and the data must be exactly the size its
/// shape gives, before anything is copied.
public struct NumPyArray: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }

    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    public static func read(_ path: String) throws -> NumPyArray {
        try parse(try FileBytes.read(path, what: "array"), file: path)
    }

    public static func parse(_ data: Data, file: String) throws -> NumPyArray {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw RuntimeError("\(file) is not a .npy file (it does not start with \\x93NUMPY)")
        }
        let major = bytes[6]
        let lengthBytes = major == 1 ? 2 : 4
        guard [1, 2, 3].contains(major), bytes.count >= 8 + lengthBytes else {
            throw RuntimeError("\(file): unsupported .npy version \(major).\(bytes[7])")
        }
        let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        let dataStart = 8 + lengthBytes + headerLength
        guard dataStart <= bytes.count else {
            throw RuntimeError("\(file): the header claims \(headerLength) bytes, which runs past the end of the file at byte \(bytes.count); "
                               + "the file is truncated")
        }
        var header = Header(text: bytes[(8 + lengthBytes)..<dataStart])
        let fields = try header.dictionary(file: file)
        guard case .text(let descr)? = fields["descr"], descr == "<f4" else {
            throw RuntimeError("\(file) holds '\(fields["descr"]?.description ?? "?")' data; expected little-endian float32 ('<f4') "
                               + "— convert with array.astype(numpy.float32)")
        }
        guard case .flag(let fortran)? = fields["fortran_order"] else { throw RuntimeError("\(file): the header has no fortran_order of True or False") }
        guard !fortran else { throw RuntimeError("\(file) is in Fortran order; expected C order (numpy.ascontiguousarray)") }
        guard case .tuple(let shape)? = fields["shape"] else { throw RuntimeError("\(file): the header has no shape tuple") }
        if let unknown = fields.keys.sorted().first(where: { !["descr", "fortran_order", "shape"].contains($0) }) {
            throw RuntimeError("\(file): the header has key '\(unknown)'; a .npy header holds only descr, fortran_order and shape")
        }
        let size = try CheckedSize.elements(shape, bytesEach: 4, file: file, field: "shape")
        guard bytes.count - dataStart == size.bytes else {
            throw RuntimeError("\(file): shape \(shape) needs \(size.bytes) data bytes, the file has \(bytes.count - dataStart) after byte \(dataStart)")
        }
        var values = [Float](repeating: 0, count: size.count)
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

    /// The header's Python dict literal, read with the little of Python's grammar it uses:
    /// quoted strings, True and False, and tuples of integers.
    private struct Header {
        /// One value of the dict.
        enum Value: CustomStringConvertible {
            case text(String), flag(Bool), tuple([Int])

            var description: String {
                switch self {
                case .text(let text): return text
                case .flag(let flag): return flag ? "True" : "False"
                case .tuple(let values): return "(" + values.map(String.init).joined(separator: ", ") + ")"
                }
            }
        }

        /// The bytes that end a bare word (a number, True, False).
        static let delimiters = Set(" \t\r\n,:(){}'\"".utf8)

        var text: ArraySlice<UInt8>
        var position: Int

        init(text: ArraySlice<UInt8>) {
            self.text = text
            position = text.startIndex
        }

        /// Parses `{key: value, ...}` followed only by padding; a key given twice is an error.
        mutating func dictionary(file: String) throws -> [String: Value] {
            var fields: [String: Value] = [:]
            try expect("{", file: file)
            while skipSpace() != UInt8(ascii: "}") {
                let key = try string(file: file)
                try expect(":", file: file)
                let parsed = try value(file: file)
                guard fields.updateValue(parsed, forKey: key) == nil else {
                    throw RuntimeError("\(file): the header gives '\(key)' twice")
                }
                if skipSpace() == UInt8(ascii: ",") { position += 1 } else if skipSpace() != UInt8(ascii: "}") {
                    throw problem("',' or '}'", file: file)
                }
            }
            position += 1
            guard skipSpace() == nil else { throw problem("only padding after '}'", file: file) }
            return fields
        }

        private mutating func value(file: String) throws -> Value {
            let next = skipSpace()
            if next == UInt8(ascii: "'") || next == UInt8(ascii: "\"") { return .text(try string(file: file)) }
            if next == UInt8(ascii: "(") { return .tuple(try tuple(file: file)) }
            switch word() {
            case "True": return .flag(true)
            case "False": return .flag(false)
            default: throw problem("a string, True, False or a tuple", file: file)
            }
        }

        /// `(d0, d1, …)` with an optional trailing comma; every element must be an integer that fits in 64 bits.
        private mutating func tuple(file: String) throws -> [Int] {
            try expect("(", file: file)
            var values: [Int] = []
            while skipSpace() != UInt8(ascii: ")") {
                let word = self.word()
                guard let value = Int(word.hasSuffix("L") ? String(word.dropLast()) : word) else {
                    throw RuntimeError("\(file): the header's shape holds '\(word.prefix(40))', which is not an integer that fits in 64 bits")
                }
                values.append(value)
                if skipSpace() == UInt8(ascii: ",") { position += 1 } else if skipSpace() != UInt8(ascii: ")") {
                    throw problem("',' or ')' in the shape", file: file)
                }
            }
            position += 1
            return values
        }

        private mutating func string(file: String) throws -> String {
            guard let quote = skipSpace(), quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else {
                throw problem("a quoted key", file: file)
            }
            let start = position + 1
            guard let end = text[start...].firstIndex(of: quote) else { throw problem("a closing quote", file: file) }
            position = end + 1
            return String(decoding: text[start..<end], as: UTF8.self)
        }

        /// The run of characters up to the next delimiter, as text.
        private mutating func word() -> String {
            let start = position
            while position < text.endIndex, !Self.delimiters.contains(text[position]) { position += 1 }
            return String(decoding: text[start..<position], as: UTF8.self)
        }

        private mutating func expect(_ character: Character, file: String) throws {
            guard skipSpace() == character.asciiValue else { throw problem("'\(character)'", file: file) }
            position += 1
        }

        /// Moves past white space and returns the byte there, nil at the end.
        private mutating func skipSpace() -> UInt8? {
            while position < text.endIndex, [0x20, 0x09, 0x0A, 0x0D].contains(text[position]) { position += 1 }
            return position < text.endIndex ? text[position] : nil
        }

        private func problem(_ expected: String, file: String) -> RuntimeError {
            let offset = position - text.startIndex
            return RuntimeError("\(file): the header is not the dict literal .npy needs: expected \(expected) at header byte \(offset)")
        }
    }
}
