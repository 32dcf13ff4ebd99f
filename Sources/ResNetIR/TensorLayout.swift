/// How generated code stores tensors. Feature maps are NCHWc: channels in blocks of
/// `channelBlock` (the target's vector width in floats), each pixel's block contiguous, so one
/// vector register holds one pixel of one block; channel counts are padded up to a whole block
/// with zeros. Everything else is stored densely.
public struct TensorLayout: Sendable, Equatable {
    /// Channels per block: 16 for AVX-512, 8 for AVX2, 4 for the generic target.
    public let channelBlock: Int

    public init(channelBlock: Int) { self.channelBlock = channelBlock }

    /// The widest block any target uses: size limits are checked against it, so a spec that
    /// passes them fits every target.
    public static let widest = TensorLayout(channelBlock: 16)

    /// Alignment of every buffer in the arena and the weights, in bytes.
    public static let alignment = 64

    public func paddedChannels(_ channels: Int) -> Int {
        SizeLimits.product([SizeLimits.divideRoundingUp(channels, by: channelBlock), channelBlock])
    }

    /// Channel blocks holding `channels`.
    public func blocks(_ channels: Int) -> Int { SizeLimits.divideRoundingUp(channels, by: channelBlock) }

    /// True for N×C×H×W tensors, which are stored blocked.
    public static func isFeatureMap(_ type: TensorType) -> Bool {
        type.batched && type.dims.count == 3
    }

    /// Stored elements per image (batched) or in all, padding included; `Int.max` on overflow.
    public func storedElementCount(_ type: TensorType) -> Int {
        guard Self.isFeatureMap(type) else { return type.elementCount }
        return SizeLimits.product([paddedChannels(type.dims[0]), type.dims[1], type.dims[2]])
    }

    /// Stored bytes rounded up to the alignment.
    public func storedBytes(_ type: TensorType) -> Int {
        Self.aligned(SizeLimits.product([storedElementCount(type), type.element.byteCount]))
    }

    public static func aligned(_ bytes: Int) -> Int {
        SizeLimits.product([SizeLimits.divideRoundingUp(bytes, by: alignment), alignment])
    }
}
