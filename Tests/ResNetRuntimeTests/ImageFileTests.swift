import Foundation
import ResNetRuntime
import Testing
import TestSupport

/// PNG decoding through libpng and the conversions to the input's planes, against pixels the
/// tests write themselves (PNGFiles). JPEG and the resize are checked against Pillow in
/// scripts/test_image_folders.sh.
@Suite struct ImageFileTests {
    func planes(_ data: Data, channels: Int, height: Int, width: Int) throws -> [UInt8] {
        try ImageFile.planes(data, path: "x.png", channels: channels, height: height, width: width)
    }

    @Test func rgbBecomesChannelPlanes() throws {
        // 2×2 RGB: pixel p has (10p+1, 10p+2, 10p+3).
        let pixels = (0..<4).flatMap { p in (1...3).map { UInt8(10 * p + $0) } }
        let out = try planes(PNGFiles.rgb(width: 2, height: 2, pixels), channels: 3, height: 2, width: 2)
        #expect(out == [1, 11, 21, 31, 2, 12, 22, 32, 3, 13, 23, 33])
    }

    @Test func greyAndColourConvertAsPillowDoes() throws {
        // Pillow's convert("L"): (R·19595 + G·38470 + B·7471 + 2^15) >> 16.
        let pixels: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 200, 100, 50]
        let grey = try planes(PNGFiles.rgb(width: 2, height: 2, pixels), channels: 1, height: 2, width: 2)
        let luma: Int = (200 * 19595 + 100 * 38470 + 50 * 7471 + 32768) >> 16
        #expect(grey == [76, 150, 29, UInt8(luma)])
        let colour = try planes(PNGFiles.grey(width: 1, height: 2, [7, 200]), channels: 3, height: 2, width: 1)
        #expect(colour == [7, 200, 7, 200, 7, 200])
    }

    @Test func everyPNGColourTypeAndDepth() throws {
        // Palette: indices into red, green.
        let palette = try planes(PNGFiles.png(width: 2, height: 1, colour: .palette, rows: [[1, 0]], palette: [255, 0, 0, 0, 255, 0]),
                                 channels: 3, height: 1, width: 2)
        #expect(palette == [0, 255, 255, 0, 0, 0])
        // 16-bit grey keeps the high byte; alpha is dropped; 1-bit grey scales to 0 and 255.
        let deep = try planes(PNGFiles.png(width: 2, height: 1, depth: 16, colour: .grey, rows: [[0x12, 0x34, 0xAB, 0xCD]]), channels: 1, height: 1, width: 2)
        #expect(deep == [0x12, 0xAB])
        let alpha = try planes(PNGFiles.png(width: 2, height: 1, colour: .greyAlpha, rows: [[9, 0, 250, 255]]), channels: 1, height: 1, width: 2)
        #expect(alpha == [9, 250])
        let rgba = try planes(PNGFiles.png(width: 1, height: 1, colour: .rgba, rows: [[1, 2, 3, 0]]), channels: 3, height: 1, width: 1)
        #expect(rgba == [1, 2, 3])
        let bits = try planes(PNGFiles.png(width: 3, height: 1, depth: 1, colour: .grey, rows: [[0b1010_0000]]), channels: 1, height: 1, width: 3)
        #expect(bits == [255, 0, 255])
    }

    @Test func tallAndWideImagesAreCroppedToTheCentre() throws {
        // A 2×5 image into a 2×2 input: the width fits, so no resize, and 3 rows too many leave
        // an offset of 2 (1.5 rounded half to even, as torchvision's CenterCrop).
        let tall = (0..<5).flatMap { [UInt8($0 * 10), UInt8($0 * 10 + 1)] }
        let out = try planes(PNGFiles.grey(width: 2, height: 5, tall), channels: 1, height: 2, width: 2)
        #expect(out == [20, 21, 30, 31])
        // 5×2 wide image into 2×2: columns 2, 3 kept (excess 3 → 2).
        let wide: [UInt8] = [0, 1, 2, 3, 4, 10, 11, 12, 13, 14]
        #expect(try planes(PNGFiles.grey(width: 5, height: 2, wide), channels: 1, height: 2, width: 2) == [2, 3, 12, 13])
    }

    @Test func resizingKeepsAFlatImageFlatAndAveragesWhenShrinking() throws {
        let flat = try planes(PNGFiles.grey(width: 6, height: 9, [UInt8](repeating: 77, count: 54)), channels: 1, height: 4, width: 4)
        #expect(flat == [UInt8](repeating: 77, count: 16))
        // Halving 0, 70, 140, 210: Pillow's triangle filter widened to 2 pixels weighs the three
        // nearest samples 3:3:1 (first output) and 1:3:3 (second): 50 and 160.
        let ramp: [UInt8] = [0, 70, 140, 210, 0, 70, 140, 210]
        #expect(try planes(PNGFiles.grey(width: 4, height: 2, ramp), channels: 1, height: 1, width: 2) == [50, 160])
    }

    @Test func brokenFilesAreNamedWithTheReason() throws {
        let good = PNGFiles.rgb(width: 4, height: 4, [UInt8](repeating: 9, count: 48))
        for (data, reason) in [(good.prefix(good.count - 20), "truncated"), (Data(), "empty"), (Data("GIF89a".utf8), "neither PNG nor JPEG"),
                               (Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 16]), "JPEG")] {
            let text = Scratch.errorText { _ = try planes(Data(data), channels: 3, height: 4, width: 4) }
            #expect(text.contains("x.png is not a decodable image") && text.contains(reason), "\(text)")
        }
        // A header promising 2^30 × 2^30 pixels is refused before anything is allocated.
        var huge = [UInt8](PNGFiles.grey(width: 1, height: 1, [0]))
        huge.replaceSubrange(16..<24, with: PNGFiles.bigEndian(1 << 30) + PNGFiles.bigEndian(1 << 30))
        let text = Scratch.errorText { _ = try planes(Data(huge), channels: 1, height: 1, width: 1) }
        #expect(text.contains("not a decodable image"), "\(text)")
    }
}
