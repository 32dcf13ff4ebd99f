/// Which arena bytes are taken at which steps of the schedule, so that `PlanMemory` finds the
/// lowest offset free throughout a live range without looking at every buffer placed before.
/// (Looking at each one made planning quadratic in depth: a training step keeps most forward
/// activations alive at once, so most buffers overlap most others in time.)
///
/// A segment tree over the steps. A buffer's bytes are recorded `throughout` the tree nodes that
/// tile its live range (at most two per level) and `somewhere` in those nodes and every node
/// above them, which lie on the paths from the range's two ends to the root. The buffers alive
/// at some step of a query range are then exactly those `somewhere` in the nodes tiling it and
/// `throughout` a node on its two paths, so a query reads O(log steps) byte sets. Each set keeps
/// its ranges merged and sorted, and the search jumps from a taken range to its end.
struct ArenaOccupancy {
    /// Leaves of the tree: the steps, rounded up to a power of two.
    private let leaves: Int
    /// Per tree node (1 is the root, node n has children 2n and 2n + 1): bytes taken at every
    /// step of the node's span, and bytes taken at some step of it.
    private var throughout: [ByteRanges]
    private var somewhere: [ByteRanges]

    init(steps: Int) {
        var leaves = 1
        while leaves < steps { leaves *= 2 }
        self.leaves = leaves
        let empty = Array(repeating: ByteRanges(), count: 2 * leaves)
        throughout = empty
        somewhere = empty
    }

    /// The lowest offset at which `size` bytes are free at every step in `steps`.
    func lowestFreeOffset(size: Int, during steps: ClosedRange<Int>) -> Int {
        let taken = (tiling(steps).map { somewhere[$0] } + paths(steps).map { throughout[$0] }).filter { !$0.isEmpty }
        var offset = 0
        var moved = true
        while moved {
            moved = false
            for ranges in taken {
                if let end = ranges.end(ofRangeOverlapping: offset..<offset + size) {
                    offset = end
                    moved = true
                }
            }
        }
        return offset
    }

    mutating func occupy(_ bytes: Range<Int>, during steps: ClosedRange<Int>) {
        guard !bytes.isEmpty else { return }
        for node in tiling(steps) {
            throughout[node].insert(bytes)
            somewhere[node].insert(bytes)
        }
        for node in paths(steps) { somewhere[node].insert(bytes) }
    }

    /// The tree nodes whose spans tile `steps` exactly.
    private func tiling(_ steps: ClosedRange<Int>) -> [Int] {
        var nodes: [Int] = []
        var low = steps.lowerBound + leaves, high = steps.upperBound + leaves + 1
        while low < high {
            if low & 1 == 1 {
                nodes.append(low)
                low += 1
            }
            if high & 1 == 1 {
                high -= 1
                nodes.append(high)
            }
            low >>= 1
            high >>= 1
        }
        return nodes
    }

    /// The nodes on the paths from the leaves of the first and the last step up to the root.
    private func paths(_ steps: ClosedRange<Int>) -> [Int] {
        var nodes: [Int] = []
        var first = steps.lowerBound + leaves, last = steps.upperBound + leaves
        while first != last {
            nodes += [first, last]
            first >>= 1
            last >>= 1
        }
        while first >= 1 {
            nodes.append(first)
            first >>= 1
        }
        return nodes
    }
}

/// Disjoint byte ranges, sorted, with ranges that touch merged into one.
struct ByteRanges {
    private var ranges: [Range<Int>] = []

    var isEmpty: Bool { ranges.isEmpty }

    mutating func insert(_ range: Range<Int>) {
        // Ranges first..<last touch or overlap the new one: they end at or after its start and
        // start at or before its end.
        let first = boundary { ranges[$0].upperBound >= range.lowerBound }
        let last = boundary { ranges[$0].lowerBound > range.upperBound }
        var merged = range
        if first < last {
            merged = min(range.lowerBound, ranges[first].lowerBound)..<max(range.upperBound, ranges[last - 1].upperBound)
        }
        ranges.replaceSubrange(first..<last, with: [merged])
    }

    /// The end of the range that overlaps `bytes`, or nil when they are free.
    func end(ofRangeOverlapping bytes: Range<Int>) -> Int? {
        let next = boundary { ranges[$0].upperBound > bytes.lowerBound }
        return next < ranges.count && ranges[next].lowerBound < bytes.upperBound ? ranges[next].upperBound : nil
    }

    /// The first index at which `isPast` holds, for a predicate that is false and then true
    /// along the sorted ranges.
    private func boundary(_ isPast: (Int) -> Bool) -> Int {
        var low = 0, high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if isPast(middle) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
