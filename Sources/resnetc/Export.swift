import ArgumentParser
import Foundation
import ResNetRuntime

/// `resnetc export SPEC --onnx OUT.onnx`: the network as lowered, with its weights, in standard
/// ONNX operators, so that ONNX Runtime or OpenVINO runs exactly the network resnetc compiles.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the network and its weights as an ONNX model (opset \(ONNXModel.opsetVersion)) in standard operators.")

    @OptionGroup var options: SpecOptions
    @OptionGroup var model: ModelOptions

    @Option(help: ArgumentHelp("Where to write the ONNX model.", valueName: "file"))
    var onnx: String

    func run() throws {
        let frontEnd = try options.frontEnd()
        let graph = frontEnd.graph!, spec = frontEnd.spec!
        do {
            let values = try model.parameterValues(for: graph, spec: spec)
            let exported = try ONNXModel(graph, values: values)
            try exported.write(to: onnx)
            print("wrote \(onnx): \(exported.nodeCount) nodes, \(exported.initializerCount) initializers, \(exported.bytes.count) bytes")
        } catch {
            throw fail(error)
        }
    }
}
