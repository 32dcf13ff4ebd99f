import Foundation
import ResNetSpec

/// The learning rate at each iteration of a run, from the spec's `train` section: warm-up
/// (constant, the paper's ResNet-110 recipe, or linear), then constant, step milestones (the
/// paper's ÷10 at 32k and 48k iterations; epoch milestones change at epoch boundaries, as
/// PyTorch's MultiStepLR stepped per epoch) or cosine decay to zero at the end of the run.
public struct LearningRate: Sendable {
    public let settings: TrainSettings
    public let iterationsPerEpoch: Int

    public init(settings: TrainSettings, iterationsPerEpoch: Int) {
        self.settings = settings
        self.iterationsPerEpoch = max(1, iterationsPerEpoch)
    }

    /// Iterations in the whole run.
    public var totalIterations: Int {
        switch settings.length {
        case .iterations(let n): return n
        case .epochs(let n): return n * iterationsPerEpoch
        }
    }

    /// Iterations of warm-up (0 without one).
    public var warmupIterations: Int {
        guard let warmup = settings.warmup else { return 0 }
        return warmup.unit == .epoch ? warmup.length * iterationsPerEpoch : warmup.length
    }

    /// The rate for iteration `iteration` (0-based).
    public func rate(at iteration: Int) -> Double {
        let base = settings.learningRate
        let warm = warmupIterations
        if let warmup = settings.warmup, iteration < warm {
            switch warmup.shape {
            case .constant: return warmup.startLearningRate
            case .linear: return warmup.startLearningRate + (base - warmup.startLearningRate) * Double(iteration) / Double(warm)
            }
        }
        switch settings.schedule {
        case .constant:
            return base
        case .step(let milestones, let gamma, let unit):
            let position = unit == .epoch ? iteration / iterationsPerEpoch : iteration
            return base * pow(gamma, Double(milestones.filter { position >= $0 }.count))
        case .cosine:
            let span = max(1, totalIterations - warm)
            let progress = min(1, Double(iteration - warm) / Double(span))
            return base * 0.5 * (1 + cos(Double.pi * progress))
        }
    }
}
