#!/usr/bin/env python3
"""Inference throughput, side by side: resnetc's compiled library, ONNX Runtime (from the ONNX
export of the same PyTorch model) and PyTorch, on the same weights, batch, threads and images.
Prints images/s (median of --repeats timed runs after warm-up), each peer's ratio to resnetc, and
resnetc's fraction of the machine's measured FMA peak. Logits are compared first.

    python3 bench/inference.py --spec specs/cifar-resnet20.yaml --batch 64 --threads 2
"""
import argparse
import ctypes
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
import torch
from safetensors.torch import save_file

from models import torch_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(run, repeats, warmup=3):
    for _ in range(warmup):
        run()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def widest_lanes():
    """16 if the C compiler targets AVX-512 on this machine (-march=native), else 8."""
    macros = subprocess.run(["cc", "-march=native", "-dM", "-E", "-x", "c", "/dev/null"], capture_output=True, text=True, check=True).stdout
    return 16 if "__AVX512F__" in macros else 8


def fma_peak(threads, workdir):
    """The measured FMA peak in GFLOP/s at the widest vector width, and that width."""
    lanes = widest_lanes()
    binary = os.path.join(workdir, f"fma_peak{lanes}")
    subprocess.run(["cc", "-O2", "-march=native", "-fopenmp", f"-DLANES={lanes}", "-DFMA_PEAK_MAIN", "-o", binary,
                    os.path.join(ROOT, "Sources/ResNetKernels/fma_peak.c")], check=True)
    return float(subprocess.run([binary, str(threads)], capture_output=True, text=True, check=True).stdout), lanes


def print_rates(seconds, batch, flops_per_image, peak, per="batch"):
    """One line per peer (images/s, time per call, resnetc's ratio to it), then resnetc's
    GFLOP/s as a fraction of the measured FMA peak."""
    rate = {name: batch / s for name, s in seconds.items()}
    for name in seconds:
        print(f"{name:<12} {rate[name]:10.1f} images/s   {seconds[name] * 1000:8.2f} ms/{per:<6}  "
              f"resnetc is {rate['resnetc'] / rate[name]:.2f}x")
    gflops = flops_per_image * rate["resnetc"] / 1e9
    peak, lanes = peak
    print(f"resnetc: {gflops:.1f} GFLOP/s = {100 * gflops / peak:.0f}% of the measured {lanes}-lane FMA peak ({peak:.1f} GFLOP/s)")


def load_resnetc(artifact, batch):
    library = ctypes.CDLL(os.path.join(artifact, "libmodel.so"))
    library.rc_create.restype = ctypes.c_void_p
    library.rc_create.argtypes = [ctypes.c_void_p, ctypes.c_int]
    library.rc_forward.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    packed = np.fromfile(os.path.join(artifact, "weights.packed"), dtype=np.float32)
    model = library.rc_create(packed.ctypes.data, batch)
    return library, model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spec", default="specs/cifar-resnet20.yaml")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--resnetc", default=os.path.join(ROOT, ".build/release/resnetc"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    with tempfile.TemporaryDirectory() as workdir:
        torch.manual_seed(0)
        model, image = torch_model(args.spec)
        model.eval()
        weights = os.path.join(workdir, "w.safetensors")
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, weights)
        artifact = os.path.join(workdir, "artifact")
        subprocess.run([args.resnetc, "compile", os.path.join(ROOT, args.spec), "--weights", weights, "-o", artifact],
                       check=True, capture_output=True)
        manifest = json.load(open(os.path.join(artifact, "manifest.json")))
        x = torch.randn(args.batch, *image)
        xn = np.ascontiguousarray(x.numpy(), dtype=np.float32)
        logits = np.zeros((args.batch, manifest["outputs"]), dtype=np.float32)

        library, handle = load_resnetc(artifact, args.batch)
        def run_resnetc():
            library.rc_forward(handle, args.batch, xn.ctypes.data, logits.ctypes.data)

        onnx_path = os.path.join(workdir, "model.onnx")
        torch.onnx.export(model, x, onnx_path, input_names=["x"], output_names=["y"], dynamo=False)
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
        def run_ort():
            session.run(["y"], {"x": xn})

        def run_torch():
            with torch.inference_mode():
                model(x)

        run_resnetc()
        with torch.inference_mode():
            expected = model(x).numpy()
        error = float(np.abs(logits - expected).max() / np.abs(expected).max())
        ort_error = float(np.abs(session.run(["y"], {"x": xn})[0] - expected).max() / np.abs(expected).max())

        seconds = {"resnetc": timed(run_resnetc, args.repeats), "onnxruntime": timed(run_ort, args.repeats),
                   "pytorch": timed(run_torch, args.repeats)}
        peak = fma_peak(args.threads, workdir)

    print(f"# {args.spec}, batch {args.batch}, {args.threads} threads, {platform.processor() or platform.machine()}, "
          f"torch {torch.__version__}, onnxruntime {ort.__version__}")
    print(f"# logits vs PyTorch: resnetc {error:.1e}, onnxruntime {ort_error:.1e} (relative)")
    print_rates(seconds, args.batch, 2 * manifest["macs"], peak)


if __name__ == "__main__":
    main()
