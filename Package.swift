// swift-tools-version:6.0
// resnetc: a compiler for residual networks. Targets are listed in pipeline order.
import PackageDescription

let package = Package(
    name: "resnetc",
    products: [
        .executable(name: "resnetc", targets: ["resnetc"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // libyaml from the system package libyaml-dev (pkg-config yaml-0.1).
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        // zlib from the system package zlib1g-dev, to read gzipped IDX datasets.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // OpenSSL's libcrypto from the system package libssl-dev, for the SHA-256 behind the compile cache.
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // libpng (libpng-dev) and libjpeg-turbo (libjpeg62-turbo-dev): the reference decoders of their
        // formats, the ones Pillow uses, so image folders decode to exactly the pixels PyTorch users see.
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        // PNG/JPEG files -> network input planes (decode, grey/RGB, resize, centre crop), in C.
        .target(name: "ImageCodecs", dependencies: ["CPNG", "CJPEG"]),
        // Open MPI loaded at run time (dlopen), for data-parallel training under mpirun.
        .target(name: "MPIBridge", linkerSettings: [.linkedLibrary("dl")]),
        // Source locations, diagnostics and their rendering, shared by every stage.
        .target(name: "ResNetDiagnostics"),
        // YAML -> typed ModelSpec with located diagnostics, `extends:` and `--set` overrides.
        .target(name: "ResNetSpec", dependencies: ["CYAML", "ResNetDiagnostics"]),
        // The dataflow graph: one node type, one op enum, shapes, verifier, printer.
        .target(name: "ResNetIR", dependencies: ["ResNetDiagnostics"]),
        // Graph -> graph passes, in the order Pipeline.swift lists them.
        .target(name: "ResNetPasses", dependencies: ["ResNetSpec", "ResNetIR", "ResNetDiagnostics"]),
        // The hand-written C kernels as real .h files, embedded in the binary at build time.
        .target(name: "ResNetKernels", resources: [.embedInCode("forward_kernels.h"), .embedInCode("winograd_kernels.h"), .embedInCode("backward_kernels.h"), .embedInCode("fma_peak.c")]),
        // Emits the fused, shape-specialised C for a planned graph: model.c and model.h.
        .target(name: "ResNetCodegen", dependencies: ["ResNetIR", "ResNetKernels"]),
        // The naive interpreter that defines every op; generated code is tested against it.
        .target(name: "ResNetReference", dependencies: ["ResNetIR"]),
        // C toolchain driver, dlopen, weight and array formats, initialisation, artifacts.
        .target(name: "ResNetRuntime", dependencies: ["ResNetIR", "ResNetKernels", "ResNetCodegen", "ResNetPasses", "ResNetSpec", "CZlib", "CCrypto", "ImageCodecs", "MPIBridge"]),
        // What resnetc tabulates and draws for people: evaluation reports, network diagrams, text escaping.
        .target(name: "ResNetReports", dependencies: ["ResNetRuntime", "ResNetSpec", "ResNetIR"]),
        // Ablations: grids of spec variants run one after another, results tables and training curves.
        .target(name: "ResNetExperiments", dependencies: ["ResNetReports", "ResNetRuntime", "ResNetCodegen", "ResNetPasses", "ResNetSpec", "ResNetIR", "ResNetDiagnostics"]),
        // The command-line tool: one file per subcommand.
        .executableTarget(
            name: "resnetc",
            dependencies: [
                "ResNetSpec", "ResNetIR", "ResNetPasses", "ResNetDiagnostics", "ResNetCodegen", "ResNetRuntime", "ResNetExperiments", "ResNetReports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Repository paths and golden-file helpers shared by the test targets.
        .target(name: "TestSupport", dependencies: ["ResNetDiagnostics"], path: "Tests/TestSupport"),
        .testTarget(name: "ResNetSpecTests", dependencies: ["ResNetSpec", "TestSupport"]),
        .testTarget(name: "ResNetPassesTests", dependencies: ["ResNetPasses", "ResNetSpec", "ResNetIR", "ResNetReference", "TestSupport"],
                    exclude: ["Fixtures", "Golden"]),
        .testTarget(name: "ResNetReferenceTests", dependencies: ["ResNetReference", "ResNetPasses", "ResNetIR", "ResNetRuntime", "TestSupport"]),
        .testTarget(name: "ResNetReportsTests", dependencies: ["ResNetReports", "ResNetPasses", "ResNetSpec", "ResNetIR", "TestSupport"]),
        .testTarget(name: "ResNetExperimentsTests", dependencies: ["ResNetExperiments", "ResNetSpec"]),
        .testTarget(name: "ResNetRuntimeTests",
                    dependencies: ["ResNetRuntime", "CZlib", "ResNetReference", "ResNetCodegen", "ResNetPasses", "ResNetSpec", "ResNetIR", "TestSupport"],
                    exclude: ["Golden"]),
    ]
)
