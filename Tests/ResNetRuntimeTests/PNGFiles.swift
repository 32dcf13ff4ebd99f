import CZlib
import Foundation

/// PNG files written byte by byte (zlib for the image data and the checksums), so tests can
/// make every colour type and bit depth libpng must read: the writer is the test's truth.
enum PNGFiles {
    /// Colour types of the PNG header.
    enum ColourType: UInt8 {
        case grey = 0, rgb = 2, palette = 3, greyAlpha = 4, rgba = 6
    }

    /// A PNG of `rows` (each row's bytes as stored, without the filter byte) of the given type and depth.
    static func png(width: Int, height: Int, depth: UInt8 = 8, colour: ColourType, rows: [[UInt8]], palette: [UInt8]? = nil) -> Data {
        func chunk(_ kind: String, _ payload: [UInt8]) -> [UInt8] {
            let body = Array(kind.utf8) + payload
            let crc = body.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
            return bigEndian(UInt32(payload.count)) + body + bigEndian(crc)
        }
        let raw: [UInt8] = rows.flatMap { [0] + $0 }
        var compressedSize = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedSize))
        let status = compressed.withUnsafeMutableBufferPointer { out in
            raw.withUnsafeBufferPointer { compress(out.baseAddress, &compressedSize, $0.baseAddress, uLong($0.count)) }
        }
        precondition(status == Z_OK)
        let header = bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [depth, colour.rawValue, 0, 0, 0]
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header)
        if let palette { bytes += chunk("PLTE", palette) }
        bytes += chunk("IDAT", Array(compressed.prefix(Int(compressedSize)))) + chunk("IEND", [])
        return Data(bytes)
    }

    /// An 8-bit RGB PNG of interleaved pixels.
    static func rgb(width: Int, height: Int, _ pixels: [UInt8]) -> Data {
        png(width: width, height: height, colour: .rgb, rows: (0..<height).map { Array(pixels[($0 * width * 3)..<(($0 + 1) * width * 3)]) })
    }

    /// An 8-bit grey PNG.
    static func grey(width: Int, height: Int, _ pixels: [UInt8]) -> Data {
        png(width: width, height: height, colour: .grey, rows: (0..<height).map { Array(pixels[($0 * width)..<(($0 + 1) * width)]) })
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 255), UInt8(value >> 8 & 255), UInt8(value & 255)] }
}
