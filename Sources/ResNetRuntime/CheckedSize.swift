/// Size arithmetic on numbers a file or a user supplied (dimensions, byte counts, offsets): every
/// product and sum is checked, and overflow is a `RuntimeError` naming the file and the field
/// instead of a trap, so a header claiming a dimension of 2^62 is a message, not a signal.
public enum CheckedSize {
    /// The element count of `shape` and its size at `elementBytes` each. Every dimension must be
    /// non-negative, and the product with each dimension counted as at least 1, times the element
    /// size, must fit in an Int: then no partial product a caller forms (a record size, a plane)
    /// can overflow either, even when a zero dimension makes the count itself 0.
    public static func elements(_ shape: [Int], bytesEach elementBytes: Int, file: String, field: String) throws -> (count: Int, bytes: Int) {
        precondition(elementBytes > 0, "an element has a size")
        if let negative = shape.firstIndex(where: { $0 < 0 }) {
            throw RuntimeError("\(file): \(field) \(shape) has a negative dimension (\(shape[negative]) at position \(negative))")
        }
        var bound = elementBytes
        for dimension in shape {
            let (product, overflow) = bound.multipliedReportingOverflow(by: max(dimension, 1))
            guard !overflow else {
                throw RuntimeError("\(file): \(field) \(shape) is too large: its size in bytes overflows a 64-bit integer")
            }
            bound = product
        }
        let count = shape.contains(0) ? 0 : bound / elementBytes
        return (count, count * elementBytes)
    }

    /// `a + b`, where `field` says what the sum is ("the end of the data").
    public static func sum(_ a: Int, _ b: Int, file: String, field: String) throws -> Int {
        let (result, overflow) = a.addingReportingOverflow(b)
        guard !overflow else { throw RuntimeError("\(file): \(field) is too large: \(a) + \(b) overflows a 64-bit integer") }
        return result
    }
}
