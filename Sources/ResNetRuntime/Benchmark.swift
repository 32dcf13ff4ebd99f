import Foundation

/// What `resnetc bench` measures: the median time of one call (a forward pass over a batch, or
/// a training step), the rates that follow from it, and the fraction of the machine's measured
/// FMA peak they reach. `--json` prints it as one line with these keys.
public struct BenchmarkReport: Codable, Sendable {
    public var medianMilliseconds: Double
    public var imagesPerSecond: Double
    public var gflops: Double
    public var peakFraction: Double
    public var peakGflops: Double
    public var vectorLanes: Int
    public var arenaBytes: Int
    public var peakRSSBytes: Int
    public var runs: Int

    enum CodingKeys: String, CodingKey {
        case medianMilliseconds = "median_ms", imagesPerSecond = "images_per_s", gflops, peakFraction = "peak_fraction"
        case peakGflops = "peak_gflops", vectorLanes = "vector_lanes", arenaBytes = "arena_bytes", peakRSSBytes = "peak_rss_bytes", runs
    }

    /// The report for calls of `seconds` (median) over `batch` images doing `flops` each.
    public init(seconds: Double, runs: Int, batch: Int, flops: Double, peak: (gflops: Double, lanes: Int), arenaBytes: Int) {
        medianMilliseconds = seconds * 1000
        imagesPerSecond = Double(batch) / seconds
        gflops = flops / seconds / 1e9
        peakGflops = peak.gflops
        peakFraction = gflops / peak.gflops
        vectorLanes = peak.lanes
        self.arenaBytes = arenaBytes
        peakRSSBytes = Benchmark.peakResidentBytes()
        self.runs = runs
    }
}

/// Timing by repetition: warm-up calls first, then calls until both a minimum count and a
/// minimum time are reached; the median resists the noise of shared machines.
public enum Benchmark {
    /// The median seconds of `body` and how many timed calls it took.
    public static func median(warmups: Int = 2, minimumRuns: Int = 5, minimumSeconds: Double, _ body: () throws -> Void) rethrows
        -> (seconds: Double, runs: Int) {
        for _ in 0..<warmups { try body() }
        var samples: [Double] = []
        let start = Date()
        while samples.count < minimumRuns || (Date().timeIntervalSince(start) < minimumSeconds && samples.count < 10_000) {
            let call = Date()
            try body()
            samples.append(Date().timeIntervalSince(call))
        }
        samples.sort()
        let middle = samples.count / 2
        return (samples.count % 2 == 1 ? samples[middle] : (samples[middle - 1] + samples[middle]) / 2, samples.count)
    }

    /// The most memory this process has held resident, in bytes.
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss * 1024
    }
}
