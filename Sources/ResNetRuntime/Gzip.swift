import CZlib
import Foundation

/// Inflates gzip (or zlib) data with the system's zlib, reporting corrupt or truncated input
/// with the compressed byte offset where it went wrong. It inflates no more than the caller's
/// limit, so a small file that expands to gigabytes (a decompression bomb) costs only what the
/// reader asked for.
public enum Gzip {
    /// True when data starts with the gzip magic bytes 1f 8b.
    public static func isCompressed(_ data: [UInt8]) -> Bool {
        data.count >= 2 && data[0] == 0x1F && data[1] == 0x8B
    }

    /// The first `limit` inflated bytes, or all of them when the stream ends sooner.
    public static func inflate(_ input: [UInt8], file: String, limit: Int) throws -> [UInt8] {
        var stream = z_stream()
        // 15 + 32: largest window, and detect gzip or zlib headers automatically.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw RuntimeError("\(file): cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var status: Int32 = Z_OK
        try input.withUnsafeBufferPointer { source in
            var handedOver = 0
            while status != Z_STREAM_END && output.count < limit {
                // zlib counts input in 32 bits: hand it over a piece at a time.
                if stream.avail_in == 0 && handedOver < source.count {
                    let piece = min(source.count - handedOver, Int(UInt32.max))
                    stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress! + handedOver)
                    stream.avail_in = uInt(piece)
                    handedOver += piece
                }
                let room = min(chunk.count, limit - output.count)
                let produced: Int = chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(room)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return room - Int(stream.avail_out)
                }
                output.append(contentsOf: chunk[0..<produced])
                if status == Z_DATA_ERROR || status == Z_NEED_DICT || status == Z_MEM_ERROR {
                    let reason = stream.msg.map { String(cString: $0) } ?? "invalid data"
                    throw RuntimeError("\(file): corrupt gzip data near compressed byte \(Int(stream.total_in)): \(reason)")
                }
                let exhausted = stream.avail_in == 0 && handedOver == source.count
                if status == Z_BUF_ERROR || (status == Z_OK && exhausted && produced == 0) {
                    throw RuntimeError("\(file): truncated gzip data: the stream ends at compressed byte \(Int(stream.total_in)) of \(source.count)")
                }
            }
        }
        return output
    }
}
