import CZlib
import Foundation

/// Inflates gzip (or zlib) data with the system's zlib, reporting corrupt or truncated input
/// with the compressed byte offset where it went wrong.
public enum Gzip {
    /// True when data starts with the gzip magic bytes 1f 8b.
    public static func isCompressed(_ data: [UInt8]) -> Bool {
        data.count >= 2 && data[0] == 0x1F && data[1] == 0x8B
    }

    public static func inflate(_ input: [UInt8], file: String) throws -> [UInt8] {
        var stream = z_stream()
        // 15 + 32: largest window, and detect gzip or zlib headers automatically.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw RuntimeError("\(file): cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 4)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var status: Int32 = Z_OK
        var input = input
        try input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return target.count - Int(stream.avail_out)
                }
                output.append(contentsOf: chunk[0..<produced])
                if status == Z_DATA_ERROR || status == Z_NEED_DICT || status == Z_MEM_ERROR {
                    let reason = stream.msg.map { String(cString: $0) } ?? "invalid data"
                    throw RuntimeError("\(file): corrupt gzip data near compressed byte \(Int(stream.total_in)): \(reason)")
                }
                if status == Z_BUF_ERROR || (status == Z_OK && stream.avail_in == 0 && produced == 0) {
                    throw RuntimeError("\(file): truncated gzip data: the stream ends at compressed byte \(Int(stream.total_in)) of \(source.count)")
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}
