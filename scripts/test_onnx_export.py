#!/usr/bin/env python3
"""Checks `resnetc export --onnx` against `resnetc predict` on the same weights and images.

For CIFAR ResNet-20 with shortcut options A, B and C, option A also widening channels without a
stride on odd-sized maps, and ResNet-18 (7x7 stem, max pool, projection shortcuts): draws random
weights with non-trivial batch-norm statistics under the names the first export gives its
initializers, writes them as safetensors, exports with them, checks the model with
onnx.checker (full_check) and that its initializers are those weights, runs ONNX Runtime and
`resnetc predict` on the same random images and compares the logits (max |difference| / max
|logit| <= 1e-4). Each export is written twice and must be the same bytes.

Skips cleanly, exit 0, when numpy, onnx or onnxruntime is not installed.

    python3 scripts/test_onnx_export.py RESNETC [SCRATCH_DIR]
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import onnx
    import onnxruntime
    from onnx import numpy_helper
except ImportError as missing:
    print(f"test_onnx_export: skipped: {missing.name} is not installed")
    sys.exit(0)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOLERANCE = 1e-4

# name, spec, --set overrides, images per batch
CASES = [
    ("cifar-resnet20-A", "specs/cifar-resnet20.yaml", [], 3),
    ("cifar-resnet20-A-widen-odd", "specs/cifar-resnet20.yaml",
     ["stem.conv.filters=8", "input.height=31", "input.width=29"], 3),
    ("cifar-resnet20-B", "specs/cifar-resnet20.yaml", ["shortcut=B"], 3),
    ("cifar-resnet20-C", "specs/cifar-resnet20.yaml", ["shortcut=C"], 3),
    ("resnet18", "specs/resnet18.yaml", [], 2),
]


def random_weights(shapes, rng):
    """He-scaled convolutions, a 1/sqrt(in) classifier, and batch norms whose statistics and
    affine parameters are far from the identity, so that ONNX's BatchNormalization is really used."""
    weights = {}
    for name, shape in shapes.items():
        if name.endswith("running_mean") or name.endswith(".bias"):
            values = rng.normal(0.0, 0.2, shape)
        elif name.endswith("running_var") or len(shape) == 1:
            values = rng.uniform(0.5, 1.5, shape)
        elif len(shape) == 4:
            values = rng.normal(0.0, np.sqrt(2.0 / np.prod(shape[1:])), shape)
        else:
            values = rng.normal(0.0, 1.0 / np.sqrt(shape[1]), shape)
        weights[name] = values.astype(np.float32)
    return weights


def write_safetensors(path, tensors):
    """An 8-byte little-endian header length, a JSON header (padded to 8 bytes), then the data."""
    header, offset = {}, 0
    for name, values in tensors.items():
        header[name] = {"dtype": "F32", "shape": list(values.shape), "data_offsets": [offset, offset + values.nbytes]}
        offset += values.nbytes
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text)
        for values in tensors.values():
            f.write(values.astype("<f4").tobytes())


def resnetc_run(resnetc, arguments):
    run = subprocess.run([resnetc] + arguments, cwd=ROOT, capture_output=True, text=True)
    if run.returncode != 0:
        raise AssertionError(f"resnetc {arguments[0]} failed (exit {run.returncode}): {run.stderr.strip()}")
    return run.stdout.strip()


def check(resnetc, name, spec, overrides, batch, workdir):
    settings = [a for o in overrides for a in ("--set", o)]
    path = lambda suffix: os.path.join(workdir, name + suffix)
    resnetc_run(resnetc, ["export", spec, *settings, "--onnx", path("-init.onnx")])
    floats = [t for t in onnx.load(path("-init.onnx")).graph.initializer if t.data_type == onnx.TensorProto.FLOAT]
    weights = random_weights({t.name: tuple(t.dims) for t in floats}, np.random.default_rng(0))
    write_safetensors(path(".safetensors"), weights)

    report = resnetc_run(resnetc, ["export", spec, *settings, "--weights", path(".safetensors"), "--onnx", path(".onnx")])
    assert report.startswith(f"wrote {path('.onnx')}: ") and report.endswith(" bytes"), f"export printed {report!r}"
    resnetc_run(resnetc, ["export", spec, *settings, "--weights", path(".safetensors"), "--onnx", path("-again.onnx")])
    with open(path(".onnx"), "rb") as a, open(path("-again.onnx"), "rb") as b:
        assert a.read() == b.read(), "two exports of the same model differ"
    onnx.checker.check_model(path(".onnx"), full_check=True)
    model = onnx.load(path(".onnx"))
    exported = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer if t.data_type == onnx.TensorProto.FLOAT}
    assert exported.keys() == weights.keys(), f"initializers {sorted(exported.keys() ^ weights.keys())[:3]} differ from the weights"
    for tensor, values in weights.items():
        assert np.array_equal(exported[tensor], values), f"initializer {tensor} differs from its weight"
    (graph_input,), (graph_output,) = model.graph.input, model.graph.output
    input_dims = graph_input.type.tensor_type.shape.dim
    assert graph_input.name == "input" and input_dims[0].dim_param == "batch", f"input {graph_input}"
    assert graph_output.name == "logits" and graph_output.type.tensor_type.shape.dim[0].dim_param == "batch", f"output {graph_output}"

    images = np.random.default_rng(1).normal(size=(batch, *[d.dim_value for d in input_dims[1:]])).astype(np.float32)
    np.save(path("-x.npy"), images)
    resnetc_run(resnetc, ["predict", spec, *settings, "--weights", path(".safetensors"),
                          "--input", path("-x.npy"), "--output", path("-y.npy")])
    ours = np.load(path("-y.npy"))
    session = onnxruntime.InferenceSession(path(".onnx"), providers=["CPUExecutionProvider"])
    (theirs,) = session.run(["logits"], {"input": images})
    assert ours.shape == theirs.shape, f"resnetc predict gives {ours.shape}, ONNX Runtime {theirs.shape}"
    error = float(np.abs(ours - theirs).max() / np.abs(theirs).max())
    assert error <= TOLERANCE, f"relative error {error:.2e} > {TOLERANCE:.0e}"
    return f"{len(model.graph.node)} nodes, relative error {error:.2e}"


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    resnetc = os.path.abspath(sys.argv[1])
    passed = failed = 0
    with tempfile.TemporaryDirectory(dir=sys.argv[2] if len(sys.argv) == 3 else None) as workdir:
        for name, spec, overrides, batch in CASES:
            try:
                detail, ok = check(resnetc, name, spec, overrides, batch, workdir), True
            except Exception as problem:  # a failed assertion, checker or ONNX Runtime error: report it, go on
                detail, ok = str(problem), False
            print(f"test_onnx_export: {name:<28} {'ok  ' if ok else 'FAIL'} {detail}")
            passed += ok
            failed += not ok
    print(f"test_onnx_export: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
