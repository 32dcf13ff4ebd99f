import Foundation
import ResNetDiagnostics

/// The safetensors format (an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then raw little-endian data), as PyTorch users save
/// state dicts with `safetensors.torch.save_file`. Reads F32, F64, F16, BF16 and the integer
/// dtypes into Float. The whole header is checked before a byte of data is read, with the rules
/// of the reference reader: known dtypes, sizes that fit, and byte ranges that tile the data
/// exactly (inside the file, no overlap, no gap).
public enum SafeTensors {
    /// One tensor read from a file.
    public struct Entry: Sendable, Equatable {
        public var shape: [Int]
        public var values: [Float]
    }

    /// Bytes per element of each dtype resnetc reads.
    static let elementBytes = ["F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
                               "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1]

    public static func read(_ path: String) throws -> [String: Entry] {
        try parse(try FileBytes.read(path, what: "weights"), file: path)
    }

    public static func parse(_ data: Data, file: String) throws -> [String: Entry] {
        let bytes = [UInt8](data)
        let layout = try Layout(bytes, file: file)
        var entries: [String: Entry] = [:]
        for tensor in layout.tensors {
            let range = (layout.dataStart + tensor.range.lowerBound)..<(layout.dataStart + tensor.range.upperBound)
            entries[tensor.name] = Entry(shape: tensor.shape, values: values(bytes[range], dtype: tensor.dtype))
        }
        return entries
    }

    /// The `__metadata__` string map of a safetensors file (empty when it has none), after the
    /// whole header has been checked.
    public static func metadata(_ data: Data, file: String) throws -> [String: String] {
        try Layout([UInt8](data), file: file).metadata
    }

    /// Serialises float32 tensors (header padded to 8 bytes with spaces, as the reference writer does).
    public static func serialize(_ tensors: [(name: String, shape: [Int], values: [Float])], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        for tensor in tensors {
            header[tensor.name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + tensor.values.count * 4]]
            offset += tensor.values.count * 4
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data()
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(json)
        for tensor in tensors {
            tensor.values.withUnsafeBufferPointer { data.append(UnsafeRawBufferPointer($0).bindMemory(to: UInt8.self)) }
        }
        return data
    }

    /// The little-endian elements of `dtype` in `bytes` as Floats; `Layout` checked the size against the shape.
    private static func values(_ bytes: ArraySlice<UInt8>, dtype: String) -> [Float] {
        let width = elementBytes[dtype]!
        if dtype == "F32" {
            // Little-endian data on a little-endian host: the bytes are the floats.
            var values = [Float](repeating: 0, count: bytes.count / 4)
            values.withUnsafeMutableBytes { $0.copyBytes(from: bytes) }
            return values
        }
        return stride(from: bytes.startIndex, to: bytes.endIndex, by: width).map { p in
            let bits = (0..<width).reduce(UInt64(0)) { $0 | UInt64(bytes[p + $1]) << (8 * UInt64($1)) }
            switch dtype {
            case "F64": return Float(Double(bitPattern: bits))
            case "F16": return Float(Float16(bitPattern: UInt16(bits)))
            case "BF16": return Float(bitPattern: UInt32(bits) << 16)
            case "I64": return Float(Int64(bitPattern: bits))
            case "I32": return Float(Int32(truncatingIfNeeded: bits))
            case "I16": return Float(Int16(truncatingIfNeeded: bits))
            case "I8": return Float(Int8(truncatingIfNeeded: bits))
            default: return Float(bits)
            }
        }
    }

    /// A header checked against its file: where the data starts, each tensor's dtype, shape and
    /// byte range within the data, and the metadata.
    private struct Layout {
        /// One tensor whose entry has been checked; `range` counts from the start of the data.
        struct Tensor {
            var name: String
            var dtype: String
            var shape: [Int]
            var range: Range<Int>
        }

        var dataStart: Int
        var tensors: [Tensor] = []
        var metadata: [String: String]

        init(_ bytes: [UInt8], file: String) throws {
            guard bytes.count >= 8 else {
                throw RuntimeError("\(file): \(bytes.count) bytes is too short for a safetensors file (the header length alone is 8 bytes)")
            }
            let headerLength = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
            guard headerLength <= UInt64(bytes.count - 8) else {
                throw RuntimeError("\(file): the header claims \(headerLength) bytes but only \(bytes.count - 8) follow byte 8; "
                                   + "the file is truncated or not safetensors")
            }
            let dataStart = 8 + Int(headerLength)
            self.dataStart = dataStart
            let json = bytes[8..<dataStart]
            if let problem = StrictJSON.problem(in: json) {
                throw RuntimeError("\(file): the JSON header (bytes 8..<\(dataStart)) is malformed: \(problem)")
            }
            let header: Header
            do { header = try JSONDecoder().decode(Header.self, from: Data(json)) } catch let problem as HeaderProblem {
                throw RuntimeError("\(file): \(problem.message)")
            } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
                throw RuntimeError("\(file): the JSON header (bytes 8..<\(dataStart)) is not an object of tensors")
            } catch {
                throw RuntimeError("\(file): the JSON header (bytes 8..<\(dataStart)) is malformed: \(HeaderProblem.reason(error))")
            }
            metadata = header.metadata
            let dataLength = bytes.count - dataStart
            for (name, entry) in header.tensors.sorted(by: { $0.key < $1.key }) {
                guard let width = SafeTensors.elementBytes[entry.dtype] else {
                    throw RuntimeError("\(file): tensor '\(name)' has dtype \(entry.dtype), which resnetc cannot read")
                }
                let size = try CheckedSize.elements(entry.shape, bytesEach: width, file: file, field: "tensor '\(name)' with shape")
                let offsets = entry.dataOffsets
                guard offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1] else {
                    throw RuntimeError("\(file): tensor '\(name)' has data_offsets \(offsets); expected [begin, end] with 0 ≤ begin ≤ end")
                }
                guard offsets[1] <= dataLength else {
                    throw RuntimeError("\(file): tensor '\(name)' (\(entry.dtype) \(entry.shape)) claims bytes \(offsets[0])..<\(offsets[1]) "
                                       + "of \(dataLength) data bytes; the file is truncated or corrupt")
                }
                guard offsets[1] - offsets[0] == size.bytes else {
                    throw RuntimeError("\(file): tensor '\(name)' (\(entry.dtype) \(entry.shape)) needs \(size.bytes) bytes "
                                       + "but its data_offsets \(offsets[0])..<\(offsets[1]) hold \(offsets[1] - offsets[0])")
                }
                tensors.append(Tensor(name: name, dtype: entry.dtype, shape: entry.shape, range: offsets[0]..<offsets[1]))
            }
            var covered = 0
            for tensor in tensors.sorted(by: { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }) {
                guard tensor.range.lowerBound >= covered else {
                    throw RuntimeError("\(file): tensor '\(tensor.name)' (bytes \(tensor.range)) overlaps the tensor before it, which ends at byte \(covered)")
                }
                guard tensor.range.lowerBound == covered else {
                    throw RuntimeError("\(file): data bytes \(covered)..<\(tensor.range.lowerBound) belong to no tensor; the header is corrupt")
                }
                covered = tensor.range.upperBound
            }
            guard covered == dataLength else {
                throw RuntimeError("\(file): data bytes \(covered)..<\(dataLength) belong to no tensor; the header is corrupt")
            }
        }
    }

    /// The JSON header as written: tensor entries by name and the optional `__metadata__` map.
    private struct Header: Decodable {
        var tensors: [String: TensorEntry] = [:]
        var metadata: [String: String] = [:]

        /// Any key of the header object: tensor names are the file's own.
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            for key in container.allKeys {
                if key.stringValue == "__metadata__" {
                    do { metadata = try container.decode([String: String].self, forKey: key) } catch {
                        throw HeaderProblem(message: "the header's __metadata__ is not a map of strings to strings (\(HeaderProblem.reason(error)))")
                    }
                } else {
                    do { tensors[key.stringValue] = try container.decode(TensorEntry.self, forKey: key) } catch {
                        throw HeaderProblem(message: "tensor '\(key.stringValue)' has a malformed header entry (\(HeaderProblem.reason(error))); "
                                            + "expected {\"dtype\": string, \"shape\": [integers], \"data_offsets\": [begin, end]}")
                    }
                }
            }
        }
    }

    /// One tensor's header entry, unchecked.
    private struct TensorEntry: Decodable {
        var dtype: String
        var shape: [Int]
        var dataOffsets: [Int]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    /// A header entry of the wrong form, said in words.
    private struct HeaderProblem: Error {
        var message: String

        /// A decoding error as a short phrase ("'shape.Index 0' is not Int", "no 'dtype'").
        static func reason(_ error: Error) -> String {
            func path(_ context: DecodingError.Context) -> String { context.codingPath.dropFirst().map(\.stringValue).joined(separator: ".") }
            switch error {
            case DecodingError.keyNotFound(let key, _): return "no '\(key.stringValue)'"
            case DecodingError.typeMismatch(let type, let context): return "'\(path(context))' is not \(type)"
            case DecodingError.valueNotFound(let type, let context): return "'\(path(context))' is null, not \(type)"
            case DecodingError.dataCorrupted(let context):
                let underlying = context.underlyingError.map { " (\($0.localizedDescription))" } ?? ""
                return context.debugDescription + underlying
            default: return "\(error)"
            }
        }
    }
}
