import Foundation
import ResNetIR

/// The definition of every op: a naive interpreter that runs a graph on dense NCHW tensors,
/// accumulating in Double. Generated C is tested against it; it favours being obviously right
/// over being fast.
public struct ReferenceInterpreter {
    /// Why the interpreter cannot run a graph.
    public enum Failure: Error, CustomStringConvertible {
        case missingValue(String)
        case unsupported(String)

        public var description: String {
            switch self {
            case .missingValue(let name): return "no value for '\(name)'"
            case .unsupported(let op): return "the interpreter has no rule for \(op)"
            }
        }
    }

    public let graph: Graph

    public init(graph: Graph) { self.graph = graph }

    /// Runs the forward graph: `parameters` by node name, `input` N×C×H×W, `labels` for the loss.
    /// Returns the outputs in `graph.outputs` order.
    public func run(parameters: [String: Tensor], input: Tensor, labels: [Int32] = []) throws -> [Tensor] {
        let batch = input.shape[0]
        var values: [Tensor?] = Array(repeating: nil, count: graph.nodes.count)
        for id in graph.ids {
            let node = graph[id]
            let operands = try node.inputs.map { input -> Tensor in
                guard let value = values[input.index] else { throw Failure.missingValue(graph[input].name) }
                return value
            }
            switch node.op {
            case .input:
                values[id.index] = input
            case .labels:
                values[id.index] = Tensor(shape: [batch], data: labels.map(Float.init))
            case .parameter:
                guard let value = parameters[node.name] else { throw Failure.missingValue(node.name) }
                values[id.index] = value
            default:
                values[id.index] = try Self.evaluate(node, operands, batch: batch)
            }
        }
        return try graph.outputs.map { id in
            guard let value = values[id.index] else { throw Failure.missingValue(graph[id].name) }
            return value
        }
    }

    static func evaluate(_ node: Node, _ x: [Tensor], batch: Int) throws -> Tensor {
        let outShape = node.type.batched ? [batch] + node.type.dims : node.type.dims
        switch node.op {
        case .conv2d(let conv):
            return convolution(x[0], weight: x[1], bias: conv.epilogue.bias ? x[2] : nil,
                               residual: conv.epilogue.residual ? x.last : nil, relu: conv.epilogue.relu,
                               conv: conv, outShape: outShape)
        case .batchNorm(let bn):
            return batchNormInference(x[0], gamma: x[1], beta: x[2], mean: x[3], variance: x[4], epsilon: bn.epsilon)
        case .relu:
            return Tensor(shape: x[0].shape, data: x[0].data.map { max($0, 0) })
        case .add:
            return Tensor(shape: x[0].shape, data: zip(x[0].data, x[1].data).map(+))
        case .shortcutPad(let stride, let channels):
            return shortcutPad(x[0], stride: stride, channels: channels, outShape: outShape)
        case .maxPool(let window):
            return maxPool(x[0], window: window, outShape: outShape)
        case .globalAveragePool:
            return globalAveragePool(x[0])
        case .linear:
            return linear(x[0], weight: x[1], bias: x[2])
        case .softmaxCrossEntropy:
            return Tensor(shape: [], data: [Float(softmaxCrossEntropy(x[0], labels: x[1]))])
        case .foldBatchNormWeight(let epsilon):
            let perChannel = x[0].count / x[0].shape[0]
            var data = x[0].data
            for o in 0..<x[0].shape[0] {
                let scale = Double(x[1].data[o]) / (Double(x[2].data[o]) + Double(epsilon)).squareRoot()
                for i in 0..<perChannel { data[o * perChannel + i] = Float(Double(data[o * perChannel + i]) * scale) }
            }
            return Tensor(shape: x[0].shape, data: data)
        case .foldBatchNormBias(let epsilon):
            let data = (0..<x[0].count).map { c -> Float in
                let scale = Double(x[0].data[c]) / (Double(x[3].data[c]) + Double(epsilon)).squareRoot()
                return Float(Double(x[1].data[c]) - Double(x[2].data[c]) * scale)
            }
            return Tensor(shape: x[0].shape, data: data)
        case .input, .labels, .parameter:
            throw Failure.unsupported(node.op.mnemonic)
        default:
            return try evaluateTraining(node, x, outShape: outShape)
        }
    }

    /// The training ops `Differentiate` emits, defined by the rules of `ReferenceTraining`.
    static func evaluateTraining(_ node: Node, _ x: [Tensor], outShape: [Int]) throws -> Tensor {
        func tensor(_ values: [Double]) -> Tensor { Tensor(shape: outShape, data: values.map(Float.init)) }
        func doubles(_ t: Tensor) -> [Double] { t.data.map(Double.init) }
        switch node.op {
        case .batchNormTraining(let bn):
            return ReferenceTraining.batchNormTraining(x[0], gamma: x[1], beta: x[2], epsilon: bn.epsilon).0
        case .runningMean(let momentum), .runningVariance(let momentum):
            let stats = ReferenceTraining.batchNormTraining(x[0], gamma: Tensor(zeros: [x[0].shape[1]]),
                                                            beta: Tensor(zeros: [x[0].shape[1]]), epsilon: 0)
            let count = Double(x[0].count / x[0].shape[1])
            let batch = node.op == .runningMean(momentum: momentum)
                ? stats.mean : stats.variance.map { $0 * count / max(count - 1, 1) }
            return tensor(zip(doubles(x[1]), batch).map { (1 - Double(momentum)) * $0 + Double(momentum) * $1 })
        case .softmaxCrossEntropyBackward:
            return tensor(ReferenceTraining.softmaxCrossEntropyBackward(x[0], labels: x[1].data.map { Int32($0) }, scale: 1))
        case .linearBackwardInput:
            let input = Tensor(zeros: outShape)
            return tensor(ReferenceTraining.linearBackward(input, weight: x[1], gy: doubles(x[0])).0)
        case .linearBackwardWeight:
            let weight = Tensor(zeros: outShape)
            return tensor(ReferenceTraining.linearBackward(x[1], weight: weight, gy: doubles(x[0])).1)
        case .channelSum:
            return tensor(ReferenceTraining.channelSums(doubles(x[0]), shape: x[0].shape + [1, 1]))
        case .globalAveragePoolBackward(let height, let width):
            let plane = height * width
            return tensor((0..<(x[0].count * plane)).map { Double(x[0].data[$0 / plane]) / Double(plane) })
        case .maxPoolBackward(let window):
            return tensor(ReferenceTraining.maxPoolBackward(x[1], gy: doubles(x[0]), window: window, outShape: x[0].shape))
        case .reluBackward:
            return tensor(zip(x[0].data, x[1].data).map { $1 > 0 ? Double($0) : 0 })
        case .shortcutPadBackward(let stride, _, _, _):
            return tensor(ReferenceTraining.shortcutPadBackward(outShape, gy: doubles(x[0]), stride: stride,
                                                                channels: x[0].shape[1], outShape: x[0].shape))
        case .batchNormScaleGradient(let b), .batchNormShiftGradient(let b), .batchNormBackward(let b):
            // g: the gradient at the batch norm's output, masked by the fused ReLU's output if any.
            let g = b.relu ? zip(x[0].data, x[x.count - 1].data).map { $1 > 0 ? Double($0) : 0 } : doubles(x[0])
            if case .batchNormShiftGradient = node.op {
                return tensor(ReferenceTraining.channelSums(g, shape: x[0].shape))
            }
            let (channels, plane) = (x[1].shape[1], x[1].shape[2] * x[1].shape[3])
            let (_, xhat, rstd, _, _) = ReferenceTraining.batchNormTraining(x[1], gamma: Tensor(zeros: [channels]),
                                                                           beta: Tensor(zeros: [channels]), epsilon: b.epsilon)
            guard case .batchNormBackward = node.op else {
                return tensor(ReferenceTraining.batchNormBackward(gy: g, gamma: Tensor(zeros: [channels]), saved: (xhat, rstd), shape: x[1].shape).1)
            }
            // γ·rstd/M·(M·g − dβ − x̂·dγ) with this graph's dγ and dβ.
            let (gamma, dGamma, dBeta) = (x[2].data, x[3].data, x[4].data)
            let count = Double(g.count / channels)
            return tensor(g.indices.map { i in
                let c = (i / plane) % channels
                return Double(gamma[c]) * rstd[c] / count * (count * g[i] - Double(dBeta[c]) - xhat[i] * Double(dGamma[c]))
            })
        case .conv2dBackwardInput(let conv, _, _):
            return tensor(ReferenceTraining.convolutionBackward(Tensor(zeros: outShape), weight: x[1], gy: doubles(x[0]), conv: conv, outShape: x[0].shape).0)
        case .conv2dBackwardWeight(let conv):
            return tensor(ReferenceTraining.convolutionBackward(x[1], weight: Tensor(zeros: outShape), gy: doubles(x[0]), conv: conv, outShape: x[0].shape).1)
        default:
            throw Failure.unsupported(node.op.mnemonic)
        }
    }

    /// y[n,o,h,w] = Σ_{i,kh,kw} x[n,i,h·s−p+kh,w·s−p+kw]·w[o,i,kh,kw] (+ bias, + residual, ReLU).
    static func convolution(_ x: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor?, relu: Bool,
                            conv: Convolution, outShape: [Int]) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, oh, ow, k) = (outShape[1], outShape[2], outShape[3], conv.kernel)
        var out = Tensor(zeros: outShape)
        for b in 0..<n {
            for oc in 0..<o {
                for y in 0..<oh {
                    for xw in 0..<ow {
                        var sum = Double(bias?.data[oc] ?? 0)
                        for ic in 0..<c {
                            for kh in 0..<k {
                                let iy = y * conv.stride - conv.padding + kh
                                guard iy >= 0, iy < h else { continue }
                                for kw in 0..<k {
                                    let ix = xw * conv.stride - conv.padding + kw
                                    guard ix >= 0, ix < w else { continue }
                                    sum += Double(x.data[((b * c + ic) * h + iy) * w + ix]) * Double(weight.data[((oc * c + ic) * k + kh) * k + kw])
                                }
                            }
                        }
                        let index = ((b * o + oc) * oh + y) * ow + xw
                        if let residual { sum += Double(residual.data[index]) }
                        out.data[index] = Float(relu ? max(sum, 0) : sum)
                    }
                }
            }
        }
        return out
    }

    static func batchNormInference(_ x: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, epsilon: Float) -> Tensor {
        let (c, plane) = (x.shape[1], x.shape[2] * x.shape[3])
        var out = x
        for i in 0..<x.count {
            let ch = (i / plane) % c
            let normalised = (Double(x.data[i]) - Double(mean.data[ch])) / (Double(variance.data[ch]) + Double(epsilon)).squareRoot()
            out.data[i] = Float(normalised * Double(gamma.data[ch]) + Double(beta.data[ch]))
        }
        return out
    }

    /// Option A: every `stride`-th pixel from (0, 0); channels beyond the input's are zero.
    static func shortcutPad(_ x: Tensor, stride: Int, channels: Int, outShape: [Int]) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = (outShape[2], outShape[3])
        var out = Tensor(zeros: outShape)
        for b in 0..<n {
            for ch in 0..<c {
                for y in 0..<oh {
                    for xw in 0..<ow {
                        out.data[((b * channels + ch) * oh + y) * ow + xw] = x.data[((b * c + ch) * h + y * stride) * w + xw * stride]
                    }
                }
            }
        }
        return out
    }

    /// Max over each window; padding never wins (it counts as −∞, as in PyTorch).
    static func maxPool(_ x: Tensor, window: Window, outShape: [Int]) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = (outShape[2], outShape[3])
        var out = Tensor(zeros: outShape)
        for plane in 0..<(n * c) {
            for y in 0..<oh {
                for xw in 0..<ow {
                    var best = -Float.infinity
                    for kh in 0..<window.kernel {
                        let iy = y * window.stride - window.padding + kh
                        guard iy >= 0, iy < h else { continue }
                        for kw in 0..<window.kernel {
                            let ix = xw * window.stride - window.padding + kw
                            guard ix >= 0, ix < w else { continue }
                            best = max(best, x.data[(plane * h + iy) * w + ix])
                        }
                    }
                    out.data[(plane * oh + y) * ow + xw] = best
                }
            }
        }
        return out
    }

    static func globalAveragePool(_ x: Tensor) -> Tensor {
        let (n, c, plane) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        let data = (0..<(n * c)).map { i in
            Float(x.data[(i * plane)..<((i + 1) * plane)].reduce(0.0) { $0 + Double($1) } / Double(plane))
        }
        return Tensor(shape: [n, c], data: data)
    }

    static func linear(_ x: Tensor, weight: Tensor, bias: Tensor) -> Tensor {
        let (n, f, o) = (x.shape[0], x.shape[1], weight.shape[0])
        var out = Tensor(zeros: [n, o])
        for b in 0..<n {
            for j in 0..<o {
                var sum = Double(bias.data[j])
                for i in 0..<f { sum += Double(x.data[b * f + i]) * Double(weight.data[j * f + i]) }
                out.data[b * o + j] = Float(sum)
            }
        }
        return out
    }

    /// Mean over the batch of −log softmax(logits)[label], computed stably.
    static func softmaxCrossEntropy(_ logits: Tensor, labels: Tensor) -> Double {
        let (n, classes) = (logits.shape[0], logits.shape[1])
        var total = 0.0
        for b in 0..<n {
            let row = logits.data[(b * classes)..<((b + 1) * classes)].map(Double.init)
            let top = row.max()!
            let logSum = top + log(row.reduce(0.0) { $0 + exp($1 - top) })
            total += logSum - row[Int(labels.data[b])]
        }
        return total / Double(n)
    }
}
