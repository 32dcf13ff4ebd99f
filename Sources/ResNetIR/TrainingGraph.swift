/// A training step as one graph: the forward pass with batch norm on batch statistics, the
/// backward pass, and which node holds each parameter's gradient and each running statistic's
/// new value.
public struct TrainingGraph: Sendable {
    public init(graph: Graph, logits: NodeID, loss: NodeID, gradients: [(parameter: NodeID, gradient: NodeID)],
                runningStatistics: [(state: NodeID, update: NodeID)]) {
        self.graph = graph
        self.logits = logits
        self.loss = loss
        self.gradients = gradients
        self.runningStatistics = runningStatistics
    }

    public var graph: Graph
    public var logits: NodeID
    public var loss: NodeID
    /// Each trainable parameter and the node computing d loss / d parameter.
    public var gradients: [(parameter: NodeID, gradient: NodeID)]
    /// Each running mean or variance and the node computing its value after this batch.
    public var runningStatistics: [(state: NodeID, update: NodeID)]
}
