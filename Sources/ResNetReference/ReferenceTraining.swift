import Foundation
import ResNetIR

/// The definition of training: a forward pass with batch-statistics batch norm, then reverse-mode
/// gradients of the loss for every trainable parameter, and the running statistics PyTorch would
/// keep. Generated training code is tested against this; this is tested against finite differences.
public struct ReferenceTraining {
    public let graph: Graph

    /// What one training step computes before the optimiser runs.
    public struct Step {
        public var loss: Double
        public var logits: Tensor
        /// d loss / d parameter, for every trainable parameter, by name.
        public var gradients: [String: Tensor]
        /// Running mean and variance after this batch, by name (`bn1.running_mean`, …).
        public var runningStatistics: [String: Tensor]
    }

    /// Requires a graph lowered with its loss (outputs: logits, loss).
    public init(graph: Graph) {
        precondition(graph.outputs.count == 2, "training needs the loss: lower with withLoss: true")
        self.graph = graph
    }

    public func step(parameters: [String: Tensor], input: Tensor, labels: [Int32]) throws -> Step {
        let batch = input.shape[0]
        var values: [Tensor?] = Array(repeating: nil, count: graph.nodes.count)
        /// Per batch-norm node: normalised input and 1/σ per channel, kept for the backward pass.
        var normalized: [NodeID: (xhat: [Double], rstd: [Double])] = [:]
        var running: [String: Tensor] = [:]

        for id in graph.ids {
            let node = graph[id]
            switch node.op {
            case .input: values[id.index] = input
            case .labels: values[id.index] = Tensor(shape: [batch], data: labels.map(Float.init))
            case .parameter:
                guard let value = parameters[node.name] else { throw ReferenceInterpreter.Failure.missingValue(node.name) }
                values[id.index] = value
            case .batchNorm(let bn):
                let x = values[node.inputs[0].index]!
                let (y, xhat, rstd, mean, variance) = Self.batchNormTraining(x, gamma: values[node.inputs[1].index]!,
                                                                             beta: values[node.inputs[2].index]!, epsilon: bn.epsilon)
                values[id.index] = y
                normalized[id] = (xhat, rstd)
                // PyTorch: running = (1 − m)·running + m·batch statistic, the variance unbiased.
                let count = Double(x.count / x.shape[1])
                let m = Double(bn.momentum)
                let oldMean = values[node.inputs[3].index]!, oldVariance = values[node.inputs[4].index]!
                running[graph[node.inputs[3]].name] = Tensor(shape: oldMean.shape, data: zip(oldMean.data, mean).map {
                    Float((1 - m) * Double($0) + m * $1) })
                running[graph[node.inputs[4]].name] = Tensor(shape: oldVariance.shape, data: zip(oldVariance.data, variance).map {
                    Float((1 - m) * Double($0) + m * $1 * count / max(count - 1, 1)) })
            default:
                values[id.index] = try ReferenceInterpreter.evaluate(node, node.inputs.map { values[$0.index]! }, batch: batch)
            }
        }

        // Reverse sweep: gradients accumulate in Double, one array per node.
        var grads: [[Double]?] = Array(repeating: nil, count: graph.nodes.count)
        func accumulate(_ id: NodeID, _ g: [Double]) {
            if grads[id.index] == nil { grads[id.index] = g } else {
                for i in g.indices { grads[id.index]![i] += g[i] }
            }
        }
        let logitsID = graph.outputs[0], lossID = graph.outputs[1]
        accumulate(lossID, [1])
        for id in graph.ids.reversed() {
            guard let g = grads[id.index] else { continue }
            let node = graph[id]
            let x = node.inputs.map { values[$0.index]! }
            switch node.op {
            case .softmaxCrossEntropy:
                accumulate(node.inputs[0], Self.softmaxCrossEntropyBackward(x[0], labels: labels, scale: g[0]))
            case .linear:
                let (gx, gw, gb) = Self.linearBackward(x[0], weight: x[1], gy: g)
                accumulate(node.inputs[0], gx); accumulate(node.inputs[1], gw); accumulate(node.inputs[2], gb)
            case .globalAveragePool:
                let plane = x[0].shape[2] * x[0].shape[3]
                accumulate(node.inputs[0], (0..<x[0].count).map { g[$0 / plane] / Double(plane) })
            case .relu:
                accumulate(node.inputs[0], zip(g, values[id.index]!.data).map { $1 > 0 ? $0 : 0 })
            case .add:
                accumulate(node.inputs[0], g); accumulate(node.inputs[1], g)
            case .shortcutPad(let stride, let channels):
                accumulate(node.inputs[0], Self.shortcutPadBackward(x[0].shape, gy: g, stride: stride, channels: channels, outShape: values[id.index]!.shape))
            case .maxPool(let window):
                accumulate(node.inputs[0], Self.maxPoolBackward(x[0], gy: g, window: window, outShape: values[id.index]!.shape))
            case .batchNorm:
                let (gx, gGamma, gBeta) = Self.batchNormBackward(gy: g, gamma: x[1], saved: normalized[id]!, shape: x[0].shape)
                accumulate(node.inputs[0], gx); accumulate(node.inputs[1], gGamma); accumulate(node.inputs[2], gBeta)
            case .conv2d(let conv):
                var gz = g
                if conv.epilogue.relu { gz = zip(g, values[id.index]!.data).map { $1 > 0 ? $0 : 0 } }
                if conv.epilogue.residual { accumulate(node.inputs.last!, gz) }
                if conv.epilogue.bias { accumulate(node.inputs[2], Self.channelSums(gz, shape: values[id.index]!.shape)) }
                let (gx, gw) = Self.convolutionBackward(x[0], weight: x[1], gy: gz, conv: conv, outShape: values[id.index]!.shape)
                accumulate(node.inputs[0], gx); accumulate(node.inputs[1], gw)
            case .input, .labels, .parameter:
                break
            default:
                throw ReferenceInterpreter.Failure.unsupported("differentiating \(node.op.mnemonic): training starts from the lowered forward graph")
            }
        }
        var gradients: [String: Tensor] = [:]
        for id in graph.parameters {
            guard case .parameter(let kind) = graph[id].op, kind.isTrainable else { continue }
            let g = grads[id.index] ?? Array(repeating: 0, count: graph[id].type.elementCount)
            gradients[graph[id].name] = Tensor(shape: graph[id].type.dims, data: g.map(Float.init))
        }
        return Step(loss: Double(values[lossID.index]!.data[0]), logits: values[logitsID.index]!,
                    gradients: gradients, runningStatistics: running)
    }

    // MARK: Rules

    /// Batch norm with the batch's statistics: y = γ·(x − mean)/√(var + ε) + β, var biased.
    static func batchNormTraining(_ x: Tensor, gamma: Tensor, beta: Tensor, epsilon: Float)
        -> (Tensor, [Double], [Double], mean: [Double], variance: [Double]) {
        let (n, c, plane) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        let count = Double(n * plane)
        var mean = [Double](repeating: 0, count: c), variance = [Double](repeating: 0, count: c)
        for i in 0..<x.count { mean[(i / plane) % c] += Double(x.data[i]) }
        for ch in 0..<c { mean[ch] /= count }
        for i in 0..<x.count { let d = Double(x.data[i]) - mean[(i / plane) % c]; variance[(i / plane) % c] += d * d }
        for ch in 0..<c { variance[ch] /= count }
        let rstd = variance.map { 1 / ($0 + Double(epsilon)).squareRoot() }
        var xhat = [Double](repeating: 0, count: x.count)
        var y = x
        for i in 0..<x.count {
            let ch = (i / plane) % c
            xhat[i] = (Double(x.data[i]) - mean[ch]) * rstd[ch]
            y.data[i] = Float(xhat[i] * Double(gamma.data[ch]) + Double(beta.data[ch]))
        }
        return (y, xhat, rstd, mean, variance)
    }

    /// dx = γ·rstd/M · (M·dy − Σdy − x̂·Σ(dy·x̂)); dγ = Σ dy·x̂; dβ = Σ dy (sums over N, H, W).
    static func batchNormBackward(gy: [Double], gamma: Tensor, saved: (xhat: [Double], rstd: [Double]), shape: [Int])
        -> ([Double], [Double], [Double]) {
        let (c, plane) = (shape[1], shape[2] * shape[3])
        let count = Double(gy.count / c)
        var sumG = [Double](repeating: 0, count: c), sumGX = [Double](repeating: 0, count: c)
        for i in gy.indices { let ch = (i / plane) % c; sumG[ch] += gy[i]; sumGX[ch] += gy[i] * saved.xhat[i] }
        let gx = gy.indices.map { i -> Double in
            let ch = (i / plane) % c
            return Double(gamma.data[ch]) * saved.rstd[ch] / count * (count * gy[i] - sumG[ch] - saved.xhat[i] * sumGX[ch])
        }
        return (gx, sumGX, sumG)
    }

    static func convolutionBackward(_ x: Tensor, weight: Tensor, gy: [Double], conv: Convolution, outShape: [Int]) -> ([Double], [Double]) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, oh, ow, k) = (outShape[1], outShape[2], outShape[3], conv.kernel)
        var gx = [Double](repeating: 0, count: x.count), gw = [Double](repeating: 0, count: weight.count)
        for b in 0..<n {
            for oc in 0..<o {
                for y in 0..<oh {
                    for xw in 0..<ow {
                        let g = gy[((b * o + oc) * oh + y) * ow + xw]
                        guard g != 0 else { continue }
                        for ic in 0..<c {
                            for kh in 0..<k {
                                let iy = y * conv.stride - conv.padding + kh
                                guard iy >= 0, iy < h else { continue }
                                for kw in 0..<k {
                                    let ix = xw * conv.stride - conv.padding + kw
                                    guard ix >= 0, ix < w else { continue }
                                    let xi = ((b * c + ic) * h + iy) * w + ix, wi = ((oc * c + ic) * k + kh) * k + kw
                                    gx[xi] += g * Double(weight.data[wi])
                                    gw[wi] += g * Double(x.data[xi])
                                }
                            }
                        }
                    }
                }
            }
        }
        return (gx, gw)
    }

    static func channelSums(_ g: [Double], shape: [Int]) -> [Double] {
        let (c, plane) = (shape[1], shape[2] * shape[3])
        var sums = [Double](repeating: 0, count: c)
        for i in g.indices { sums[(i / plane) % c] += g[i] }
        return sums
    }

    static func linearBackward(_ x: Tensor, weight: Tensor, gy: [Double]) -> ([Double], [Double], [Double]) {
        let (n, f, o) = (x.shape[0], x.shape[1], weight.shape[0])
        var gx = [Double](repeating: 0, count: x.count), gw = [Double](repeating: 0, count: weight.count)
        var gb = [Double](repeating: 0, count: o)
        for b in 0..<n {
            for j in 0..<o {
                let g = gy[b * o + j]
                gb[j] += g
                for i in 0..<f {
                    gx[b * f + i] += g * Double(weight.data[j * f + i])
                    gw[j * f + i] += g * Double(x.data[b * f + i])
                }
            }
        }
        return (gx, gw, gb)
    }

    /// d(mean cross-entropy)/d logits = (softmax − one-hot) / N.
    static func softmaxCrossEntropyBackward(_ logits: Tensor, labels: [Int32], scale: Double) -> [Double] {
        let (n, classes) = (logits.shape[0], logits.shape[1])
        var g = [Double](repeating: 0, count: logits.count)
        for b in 0..<n {
            let row = (0..<classes).map { Double(logits.data[b * classes + $0]) }
            let top = row.max()!
            let exps = row.map { exp($0 - top) }
            let total = exps.reduce(0, +)
            for j in 0..<classes {
                g[b * classes + j] = scale * (exps[j] / total - (j == Int(labels[b]) ? 1 : 0)) / Double(n)
            }
        }
        return g
    }

    static func shortcutPadBackward(_ inShape: [Int], gy: [Double], stride: Int, channels: Int, outShape: [Int]) -> [Double] {
        let (n, c, h, w) = (inShape[0], inShape[1], inShape[2], inShape[3])
        let (oh, ow) = (outShape[2], outShape[3])
        var gx = [Double](repeating: 0, count: n * c * h * w)
        for b in 0..<n { for ch in 0..<c { for y in 0..<oh { for xw in 0..<ow {
            gx[((b * c + ch) * h + y * stride) * w + xw * stride] += gy[((b * channels + ch) * oh + y) * ow + xw]
        } } } }
        return gx
    }

    /// The gradient goes to the first maximum of each window, in window order (as PyTorch).
    static func maxPoolBackward(_ x: Tensor, gy: [Double], window: Window, outShape: [Int]) -> [Double] {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = (outShape[2], outShape[3])
        var gx = [Double](repeating: 0, count: x.count)
        for plane in 0..<(n * c) { for y in 0..<oh { for xw in 0..<ow {
            var best = -Float.infinity, at = -1
            for kh in 0..<window.kernel {
                let iy = y * window.stride - window.padding + kh
                guard iy >= 0, iy < h else { continue }
                for kw in 0..<window.kernel {
                    let ix = xw * window.stride - window.padding + kw
                    guard ix >= 0, ix < w else { continue }
                    let i = (plane * h + iy) * w + ix
                    if x.data[i] > best { best = x.data[i]; at = i }
                }
            }
            if at >= 0 { gx[at] += gy[(plane * oh + y) * ow + xw] }
        } } }
        return gx
    }
}
