/// The element types tensors in the graph hold.
public enum ElementType: String, Sendable, Equatable {
    case float32 = "f32", int32 = "i32"

    public var byteCount: Int { 4 }
}

/// A tensor's static type. Batched tensors (activations, labels) carry per-image dimensions and
/// gain a leading batch dimension N at run time; parameters and the loss are not batched.
public struct TensorType: Sendable, Equatable, CustomStringConvertible {
    /// Per-image dimensions for batched tensors (C, H, W for feature maps), full dimensions otherwise.
    public var dims: [Int]
    public var batched: Bool
    public var element: ElementType

    public init(_ dims: [Int], batched: Bool, element: ElementType = .float32) {
        self.dims = dims
        self.batched = batched
        self.element = element
    }

    public static func activation(_ dims: [Int]) -> TensorType { TensorType(dims, batched: true) }
    public static func parameter(_ dims: [Int]) -> TensorType { TensorType(dims, batched: false) }

    /// Elements per image (batched) or in all (unbatched); `Int.max` if that overflows, which
    /// shape inference never lets a graph hold.
    public var elementCount: Int { SizeLimits.product(dims) }
    /// Bytes per image (batched) or in all (unbatched).
    public var byteCount: Int { SizeLimits.product([elementCount, element.byteCount]) }

    /// `N×16×32×32 f32`, the notation of IR dumps and generated-C comments.
    public var description: String {
        let shape = ((batched ? ["N"] : []) + dims.map(String.init)).joined(separator: "×")
        return (shape.isEmpty ? "scalar" : shape) + " " + element.rawValue
    }
}
