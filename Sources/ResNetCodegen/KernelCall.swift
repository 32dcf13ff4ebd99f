import ResNetIR

/// One statement of a generated pass: the C function that computes one IR node and its arguments
/// (the batch size, arena buffers, packed weights, sizes), with `result` receiving its value when it
/// returns one. The inference forward pass and the training step are both lists of these, printed
/// by `statement(in:)` after a comment naming the node they compute.
struct KernelCall {
    let node: NodeID
    let function: String
    let arguments: [String]
    var result: String? = nil
    /// Run by one thread of the step's parallel region (`omp single`, which ends at a barrier):
    /// the small serial kernels (the loss, gradients of biases).
    var serial = false
    /// With `serial`, the other threads go on without waiting (`omp single nowait`): for results
    /// nothing later in the step reads, such as the running statistics, whose update then
    /// overlaps the next kernel; the region's closing barrier still ends it before the step returns.
    var unawaited = false

    /// `/* %24 = conv2d_bias_add_relu(%16, …) "layer1.0.conv2": … */` and the call, indented.
    func statement(in graph: Graph) -> String {
        let call = "\(function)(\(arguments.joined(separator: ", ")));"
        return "    /* \(CText.comment(CodeGenerator.describe(node, in: graph))) */\n\(serial ? "#pragma omp single\(unawaited ? " nowait" : "")\n" : "")    \(result.map { "\($0) = " } ?? "")\(call)"
    }
}
