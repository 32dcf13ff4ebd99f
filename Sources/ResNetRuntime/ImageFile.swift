import Foundation
import ImageCodecs
import ResNetDiagnostics

/// One PNG or JPEG file as a network input: decoded by libpng or libjpeg-turbo, converted to the
/// input's channels, resized and centre-cropped to its size (the C in ImageCodecs, whose header
/// gives the exact conventions: Pillow's grey and bilinear resize, torchvision's Resize and
/// CenterCrop).
public enum ImageFile {
    /// The file extensions image folders and `predict --image` read, compared without case.
    public static let extensions: Set<String> = ["png", "jpg", "jpeg"]
    /// A file that libpng or libjpeg-turbo could not decode, and the library's reason.
    public struct Undecodable: Error, CustomStringConvertible {
        public let path: String, reason: String
        public var description: String { "\(path) is not a decodable image: \(reason)" }
    }

    /// The largest image file read (a 16k × 16k RGB PNG compresses to far less).
    static let byteLimit = 256 << 20

    /// Whether `name` has one of the image extensions.
    public static func hasImageExtension(_ name: String) -> Bool {
        extensions.contains((name as NSString).pathExtension.lowercased())
    }

    /// The image at `path` as channels × height × width bytes.
    public static func planes(path: String, channels: Int, height: Int, width: Int) throws -> [UInt8] {
        let data: Data
        do { data = try FileBytes.read(path, what: "image", limit: byteLimit) } catch let error as FileBytes.ReadError {
            throw RuntimeError("\(path): \(error.reason)")
        }
        return try planes(data, path: path, channels: channels, height: height, width: width)
    }

    /// The image whose file bytes are `data` as channels × height × width bytes; errors name `path`.
    public static func planes(_ data: Data, path: String, channels: Int, height: Int, width: Int) throws -> [UInt8] {
        precondition(channels == 1 || channels == 3, "image inputs are grey or RGB")
        precondition(height > 0 && width > 0)
        var message = [CChar](repeating: 0, count: 256)
        var image = rc_image()
        let decoded = data.withUnsafeBytes { bytes in
            rc_image_decode(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &image, &message, message.count)
        }
        guard decoded == 0 else { throw Undecodable(path: path, reason: text(message)) }
        defer { rc_image_free(&image) }
        var planes = [UInt8](repeating: 0, count: channels * height * width)
        let converted = planes.withUnsafeMutableBufferPointer { out in
            rc_image_to_planes(&image, Int32(channels), Int32(height), Int32(width), out.baseAddress, &message, message.count)
        }
        guard converted == 0 else { throw RuntimeError("\(path): \(text(message))") }
        return planes
    }

    /// A NUL-terminated C message as text.
    static func text(_ message: [CChar]) -> String {
        String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
