/// How generated code stores tensors. Feature maps are NCHWc: channels in blocks of eight, each
/// pixel's block contiguous, so one 256-bit vector holds one pixel of eight channels; channel
/// counts are padded up to a whole block with zeros. Everything else is stored densely.
public enum TensorLayout {
    /// Channels per block: one AVX2 vector of float32.
    public static let channelBlock = 8
    /// Alignment of every buffer in the arena and the weights, in bytes.
    public static let alignment = 64

    public static func paddedChannels(_ channels: Int) -> Int {
        SizeLimits.product([SizeLimits.divideRoundingUp(channels, by: channelBlock), channelBlock])
    }

    /// True for N×C×H×W tensors, which are stored blocked.
    public static func isFeatureMap(_ type: TensorType) -> Bool {
        type.batched && type.dims.count == 3
    }

    /// Stored elements per image (batched) or in all, padding included; `Int.max` on overflow.
    public static func storedElementCount(_ type: TensorType) -> Int {
        guard isFeatureMap(type) else { return type.elementCount }
        return SizeLimits.product([paddedChannels(type.dims[0]), type.dims[1], type.dims[2]])
    }

    /// Stored bytes rounded up to the alignment.
    public static func storedBytes(_ type: TensorType) -> Int {
        aligned(SizeLimits.product([storedElementCount(type), type.element.byteCount]))
    }

    public static func aligned(_ bytes: Int) -> Int {
        SizeLimits.product([SizeLimits.divideRoundingUp(bytes, by: alignment), alignment])
    }
}
