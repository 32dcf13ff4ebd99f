/// Where every batched tensor lives in the one activation arena. Offsets and sizes are per
/// image: a batch of N images puts buffer b at `offset(b) × N`, which keeps buffers that are
/// disjoint per image disjoint at any batch size.
public struct MemoryPlan: Sendable, Equatable {
    /// One planned tensor.
    public struct Buffer: Sendable, Equatable {
        public var node: NodeID
        /// Byte offset per image.
        public var offset: Int
        /// Bytes per image, aligned.
        public var size: Int
        /// Schedule positions of the definition and the last use (inclusive).
        public var firstUse: Int
        public var lastUse: Int
        /// The operand whose storage this node overwrites in place, if any.
        public var inPlaceOf: NodeID?

        public init(node: NodeID, offset: Int, size: Int, firstUse: Int, lastUse: Int, inPlaceOf: NodeID?) {
            self.node = node
            self.offset = offset
            self.size = size
            self.firstUse = firstUse
            self.lastUse = lastUse
            self.inPlaceOf = inPlaceOf
        }
    }

    public var buffers: [NodeID: Buffer]
    /// Arena bytes per image.
    public var arenaBytesPerImage: Int
    /// What one buffer per tensor would take, per image.
    public var unplannedBytesPerImage: Int

    public init(buffers: [NodeID: Buffer], arenaBytesPerImage: Int, unplannedBytesPerImage: Int) {
        self.buffers = buffers
        self.arenaBytesPerImage = arenaBytesPerImage
        self.unplannedBytesPerImage = unplannedBytesPerImage
    }

    /// `arena: 1.20 MiB (unplanned 5.00 MiB) per image` (or `for a batch of N`): the line
    /// summary, dumps and the manifest report.
    public func report(batch: Int) -> String {
        func mib(_ bytes: Int) -> String {
            let value = Double(bytes) * Double(batch) / Double(1 << 20)
            if value < 10 { return String(Int((value * 100).rounded())).leftPaddedDecimal(2) }
            return value < 1e15 ? String(Int(value.rounded())) : String(value)
        }
        let scope = batch == 1 ? "per image" : "for a batch of \(batch)"
        return "arena: \(mib(arenaBytesPerImage)) MiB (unplanned \(mib(unplannedBytesPerImage)) MiB) \(scope)"
    }
}

extension String {
    /// "123" with 2 decimals → "1.23"; a Foundation-free fixed-point formatter.
    fileprivate func leftPaddedDecimal(_ decimals: Int) -> String {
        let digits = count <= decimals ? String(repeating: "0", count: decimals - count + 1) + self : self
        return digits.dropLast(decimals) + "." + digits.suffix(decimals)
    }
}
