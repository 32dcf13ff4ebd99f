/// A dense float32 array in row-major order (NCHW for feature maps, batch first when batched):
/// the reference interpreter's value type and the layout users' arrays come in.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not hold \(data.count) elements")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: Array(repeating: 0, count: shape.reduce(1, *)))
    }

    public var count: Int { data.count }
}
