/// The per-layer table of `resnetc summary` (Keras' `model.summary()`): every computing node
/// with its output shape, parameters, multiply-adds and activation bytes, plus totals (which
/// saturate rather than trap; the front end keeps them within `SizeLimits`).
public struct ModelSummary: Sendable, Codable, Equatable {
    /// One row of the table.
    public struct Layer: Sendable, Codable, Equatable {
        public var name: String
        public var op: String
        /// Per-image output dimensions (the batch dimension is left out).
        public var shape: [Int]
        public var params: Int
        /// Multiply-adds per image.
        public var macs: Int
        /// Bytes of the output per image.
        public var activationBytes: Int

        enum CodingKeys: String, CodingKey {
            case name, op, shape, params, macs
            case activationBytes = "activation_bytes"
        }
    }

    public var name: String
    /// Trainable parameters: conv and FC weights, FC bias, BN γ and β.
    public var params: Int
    /// Non-trainable state: BN running means and variances.
    public var buffers: Int
    /// Multiply-adds per image, convolutions and FC only.
    public var macs: Int
    /// Sum of every layer's output bytes per image (what an unplanned forward pass allocates).
    public var activationBytes: Int
    public var layers: [Layer]
    /// The inference memory plan's arena and what one buffer per tensor would take, per image.
    public var arenaBytesPerImage: Int?
    public var unplannedBytesPerImage: Int?
    /// The training step's arena (activations kept for backward and their gradients), per image.
    public var trainingArenaBytesPerImage: Int?

    enum CodingKeys: String, CodingKey {
        case name, params, buffers, macs, layers
        case activationBytes = "activation_bytes"
        case arenaBytesPerImage = "arena_bytes_per_image"
        case unplannedBytesPerImage = "unplanned_bytes_per_image"
        case trainingArenaBytesPerImage = "training_arena_bytes_per_image"
    }

    public init(graph: Graph, plan: MemoryPlan? = nil) {
        arenaBytesPerImage = plan?.arenaBytesPerImage
        unplannedBytesPerImage = plan?.unplannedBytesPerImage
        name = graph.name
        layers = graph.ids.filter { !graph[$0].op.isLeaf }.map { id in
            Layer(name: graph[id].name, op: graph[id].op.mnemonic, shape: graph[id].type.dims,
                  params: CostModel.parameterCount(id, in: graph), macs: CostModel.multiplyAdds(id, in: graph),
                  activationBytes: graph[id].type.byteCount)
        }
        params = layers.reduce(0) { SizeLimits.sum($0, $1.params) }
        buffers = graph.ids.reduce(0) { SizeLimits.sum($0, CostModel.bufferCount($1, in: graph)) }
        macs = layers.reduce(0) { SizeLimits.sum($0, $1.macs) }
        activationBytes = layers.reduce(0) { SizeLimits.sum($0, $1.activationBytes) }
    }
}
