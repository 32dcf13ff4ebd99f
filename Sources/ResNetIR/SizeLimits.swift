/// The largest sizes resnetc compiles, and arithmetic on sizes that cannot trap.
///
/// The generated C indexes the elements of one tensor of one image with 32-bit `int`, and
/// multiplies bytes per image by a batch of at most 65536 (`train.batch_size`, `--batch`) in
/// `size_t`. Shape inference keeps every tensor within `tensorElements`, and the front end
/// rejects a spec whose network passes one of the totals here, naming the key to change; so
/// every later stage may do plain `Int` arithmetic on sizes, with room for a batch.
public enum SizeLimits {
    /// Stored elements of one tensor (per image for batched tensors, padding channels included):
    /// the largest count a C `int` indexes.
    public static let tensorElements = Int(Int32.max)
    /// Bytes of every activation of one forward pass over a training batch, the batch's stored
    /// input included (1 TiB). The training arena holds at most a few times this.
    public static let batchActivationBytes = 1 << 40
    /// Parameters and batch-norm running statistics in all (256 GiB of float32).
    public static let parameters = 1 << 36
    /// Multiply-adds per image: about a thousand ResNet-152s, so that counts × batch × 2
    /// (FLOPs of a batch) still fit in 64 bits.
    public static let multiplyAdds = 1 << 44

    /// The product of non-negative sizes, or `Int.max` when it overflows (every limit rejects that).
    public static func product(_ factors: some Sequence<Int>) -> Int {
        var result = 1
        for factor in factors {
            let (product, overflow) = result.multipliedReportingOverflow(by: factor)
            if overflow { return .max }
            result = product
        }
        return result
    }

    /// The sum of non-negative sizes, or `Int.max` when it overflows.
    public static func sum(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }

    /// ⌈a / b⌉ for a ≥ 0 and b ≥ 1, without forming a + b − 1.
    public static func divideRoundingUp(_ a: Int, by b: Int) -> Int {
        a / b + (a % b == 0 ? 0 : 1)
    }
}
