import Foundation

/// Protocol Buffers' wire format, the part an ONNX model needs: each field is a key (field number
/// and wire type) followed by a varint, a little-endian 32-bit float, or a length and that many
/// bytes (strings, bytes, nested messages). Fields are appended in the order written; a repeated
/// field is written once per element (unpacked, as proto2 declares ONNX's repeated integers).
public struct ProtobufWriter {
    public private(set) var data = Data()

    public init() {}

    /// How the value after a key is encoded.
    private enum WireType: UInt64 {
        case varint = 0, lengthDelimited = 2, fixed32 = 5
    }

    /// An int32, int64 or enum field; a negative value takes ten bytes, as protobuf encodes it.
    public mutating func int(_ field: Int, _ value: Int) {
        key(field, .varint)
        varint(UInt64(bitPattern: Int64(value)))
    }

    public mutating func float(_ field: Int, _ value: Float) {
        key(field, .fixed32)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
    }

    public mutating func string(_ field: Int, _ value: String) {
        bytes(field, Data(value.utf8))
    }

    public mutating func bytes(_ field: Int, _ value: Data) {
        key(field, .lengthDelimited)
        varint(UInt64(value.count))
        data.append(value)
    }

    /// A nested message: `fill` writes its fields into a writer of its own, so that its length,
    /// which comes first, is known.
    public mutating func message(_ field: Int, _ fill: (inout ProtobufWriter) throws -> Void) rethrows {
        var nested = ProtobufWriter()
        try fill(&nested)
        bytes(field, nested.data)
    }

    private mutating func key(_ field: Int, _ type: WireType) {
        varint(UInt64(field) << 3 | type.rawValue)
    }

    /// Seven bits a byte, least significant first; the high bit says another byte follows.
    private mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            data.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        data.append(UInt8(rest))
    }
}
