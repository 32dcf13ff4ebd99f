import Foundation

/// The safetensors format (an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then raw little-endian data), as PyTorch users save
/// state dicts with `safetensors.torch.save_file`. Reads F32, F64, F16 and BF16 into Float.
public enum SafeTensors {
    /// One tensor read from a file.
    public struct Entry: Sendable, Equatable {
        public var shape: [Int]
        public var values: [Float]
    }

    public static func read(_ path: String) throws -> [String: Entry] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuntimeError("cannot read weights '\(path)': no such file or not readable")
        }
        return try parse(data, file: path)
    }

    public static func parse(_ data: Data, file: String) throws -> [String: Entry] {
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw RuntimeError("\(file): \(bytes.count) bytes is too short for a safetensors file (the header length alone is 8 bytes)") }
        let headerLength = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw RuntimeError("\(file): the header claims \(headerLength) bytes but only \(bytes.count - 8) follow byte 8; the file is truncated or not safetensors")
        }
        let headerEnd = 8 + Int(headerLength)
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])) } catch {
            throw RuntimeError("\(file): the JSON header (bytes 8..<\(headerEnd)) is malformed: \(error.localizedDescription)")
        }
        guard let header = json as? [String: Any] else { throw RuntimeError("\(file): the header is not a JSON object") }
        let dataLength = bytes.count - headerEnd
        var entries: [String: Entry] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = (info["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  let offsets = (info["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }), offsets.count == 2 else {
                throw RuntimeError("\(file): tensor '\(name)' has a malformed header entry")
            }
            let widths = ["F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
                          "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1]
            guard let width = widths[dtype] else {
                throw RuntimeError("\(file): tensor '\(name)' has dtype \(dtype), which resnetc cannot read")
            }
            let count = shape.reduce(1, *)
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataLength,
                  offsets[1] - offsets[0] == count * width else {
                throw RuntimeError("\(file): tensor '\(name)' (\(dtype) \(shape)) claims bytes \(offsets[0])..<\(offsets[1]) of \(dataLength) data bytes; the file is truncated or corrupt")
            }
            let start = headerEnd + offsets[0]
            let values: [Float] = (0..<count).map { i in
                let p = start + i * width
                func le(_ n: Int) -> UInt64 { (0..<n).reduce(UInt64(0)) { $0 | UInt64(bytes[p + $1]) << (8 * UInt64($1)) } }
                switch dtype {
                case "F32": return Float(bitPattern: UInt32(le(4)))
                case "F64": return Float(Double(bitPattern: le(8)))
                case "F16": return Float(Float16(bitPattern: UInt16(le(2))))
                case "BF16": return Float(bitPattern: UInt32(le(2)) << 16)
                case "I64": return Float(Int64(bitPattern: le(8)))
                case "I32": return Float(Int32(truncatingIfNeeded: le(4)))
                case "I16": return Float(Int16(truncatingIfNeeded: le(2)))
                case "I8": return Float(Int8(truncatingIfNeeded: le(1)))
                default: return Float(le(width))
                }
            }
            entries[name] = Entry(shape: shape, values: values)
        }
        return entries
    }

    /// The `__metadata__` string map of a safetensors file (empty when it has none).
    public static func metadata(_ data: Data, file: String) throws -> [String: String] {
        let bytes = [UInt8](data.prefix(8))
        guard bytes.count == 8 else { throw RuntimeError("\(file) is too short for a safetensors file") }
        let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        guard length <= UInt64(data.count - 8),
              let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + Int(length)))) as? [String: Any] else {
            throw RuntimeError("\(file): the safetensors header is truncated or malformed")
        }
        return header["__metadata__"] as? [String: String] ?? [:]
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
}
