#!/usr/bin/env python3
"""Inference side by side: resnetc, ONNX Runtime, OpenVINO (fp32) and PyTorch on the same
network, weights, input batch and thread count, timed round by round in turn, each engine in a
process of its own (so no engine's threads spin while another is timed, and no two OpenMP
runtimes share a process). Prints, per case, each engine's median time per batch, resnetc's
speed-up over it, and resnetc's fraction of the machine's measured FMA peak; the peak is
measured at 8 and 16 lanes. Logits are compared with PyTorch's before anything is timed.

    python3 bench/compare.py                      # the cases of issue 9, 2 threads
    python3 bench/compare.py --case resnet50:8 --rounds 20

Installs its Python packages with pip when missing, and builds resnetc when absent.
"""
import argparse
import ctypes
import datetime
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time

from harness import ROOT, cpu_name, ensure_packages, fma_peak, resnetc_binary, target_lanes

ENGINES = ["resnetc", "onnxruntime", "openvino", "pytorch"]
DEFAULT_CASES = ["cifar-resnet20:128", "cifar-resnet56:128", "resnet18:1", "resnet50:1", "resnet50:8"]
# Seconds of work per timed sample: short calls are repeated so timer and IPC costs vanish.
SAMPLE_SECONDS = 0.2


def load_engine(engine, case):
    """The engine's forward pass on the case's input, as a function returning the logits."""
    import numpy as np
    x = np.load(case["input"])
    threads = case["threads"]
    if engine == "resnetc":
        library = ctypes.CDLL(os.path.join(case["artifact"], "libmodel.so"))
        library.rc_create.restype = ctypes.c_void_p
        library.rc_create.argtypes = [ctypes.c_void_p, ctypes.c_int]
        library.rc_forward.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
        library.rc_set_threads(threads)
        packed = np.fromfile(os.path.join(case["artifact"], "weights.packed"), dtype=np.float32)
        handle = library.rc_create(packed.ctypes.data, len(x))
        if not handle:
            raise RuntimeError("rc_create failed: out of memory")
        logits = np.zeros((len(x), case["classes"]), dtype=np.float32)

        def run():
            library.rc_forward(handle, len(x), x.ctypes.data, logits.ctypes.data)
            return logits
        return run
    if engine == "onnxruntime":
        import onnxruntime
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(case["onnx"], options, providers=["CPUExecutionProvider"])
        return lambda: session.run(["logits"], {"input": x})[0]
    if engine == "openvino":
        import openvino
        core = openvino.Core()
        model = core.read_model(case["onnx"])
        model.reshape({"input": list(x.shape)})
        # f32 explicitly: on CPUs with AVX-512 BF16 OpenVINO's default precision is bf16.
        compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": threads,
                                                     "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1})
        precision = str(compiled.get_property("INFERENCE_PRECISION_HINT"))
        if "32" not in precision:
            raise RuntimeError(f"OpenVINO runs at {precision}, not f32")
        request = compiled.create_infer_request()

        def run():
            request.infer({"input": x})
            return request.get_output_tensor(0).data
        return run
    if engine == "pytorch":
        import torch
        from safetensors.torch import load_file
        from models import torch_model
        torch.set_num_threads(threads)
        model, _ = torch_model(case["spec"])
        model.load_state_dict(load_file(case["weights"]))
        model.eval()
        xt = torch.from_numpy(x)

        def run():
            with torch.inference_mode():
                return model(xt).numpy()
        return run
    raise ValueError(engine)


def worker(engine, case, connection):
    """One engine in its own process: loads, answers with its logits, then times n calls per
    request until told to stop (None)."""
    import numpy as np
    try:
        run = load_engine(engine, case)
        connection.send(("ready", np.array(run(), copy=True)))
    except Exception as error:  # reported, and the case goes on without this engine
        connection.send(("error", f"{type(error).__name__}: {error}"))
        return
    while (calls := connection.recv()) is not None:
        start = time.perf_counter()
        for _ in range(calls):
            run()
        connection.send((time.perf_counter() - start) / calls)


def prepare(case_name, batch, threads, resnetc, workdir):
    """Weights (the PyTorch twin's, batch norm randomised), resnetc's artifact and the ONNX export
    of the same weights, and one input batch; returns the case description the workers read."""
    import numpy as np
    import torch
    from safetensors.torch import save_file
    from crosscheck_torch import randomise_batch_norm
    from models import torch_model
    spec = os.path.join(ROOT, "specs", f"{case_name}.yaml")
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model, image = torch_model(spec)
    randomise_batch_norm(model, generator)
    weights = os.path.join(workdir, "weights.safetensors")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, weights)
    artifact, onnx = os.path.join(workdir, "artifact"), os.path.join(workdir, "model.onnx")
    environment = dict(os.environ, RESNETC_CACHE=os.path.join(workdir, "cache"))  # a real compile, timed
    start = time.perf_counter()
    subprocess.run([resnetc, "compile", spec, "--weights", weights, "-o", artifact], check=True, capture_output=True, env=environment)
    compile_seconds = time.perf_counter() - start
    subprocess.run([resnetc, "export", spec, "--weights", weights, "--onnx", onnx], check=True, capture_output=True)
    manifest = json.load(open(os.path.join(artifact, "manifest.json")))
    x = torch.randn(batch, *image, generator=generator).numpy().astype(np.float32)
    np.save(os.path.join(workdir, "input.npy"), x)
    return {"spec": spec, "weights": weights, "artifact": artifact, "onnx": onnx, "input": os.path.join(workdir, "input.npy"),
            "threads": threads, "classes": manifest["outputs"], "macs": manifest["macs"], "compile_seconds": compile_seconds}


def measure(case, rounds):
    """Per engine: median seconds per batch over `rounds` interleaved rounds (None if it failed),
    the logits' relative difference from PyTorch's, and failure messages."""
    import numpy as np
    context = multiprocessing.get_context("spawn")
    workers, logits, failures = {}, {}, {}
    for engine in ENGINES:
        parent, child = context.Pipe()
        process = context.Process(target=worker, args=(engine, case, child), daemon=True)
        process.start()
        status, value = parent.recv()
        if status == "ready":
            workers[engine], logits[engine] = (process, parent), value
        else:
            failures[engine] = value
            process.join()
    reference = logits.get("pytorch")
    difference = {e: float(np.abs(v - reference).max() / np.abs(reference).max()) for e, v in logits.items()} if reference is not None else {}
    calls = {}
    for engine, (_, connection) in workers.items():
        connection.send(3)  # warm-up, and an estimate of one call's time
        calls[engine] = max(1, round(SAMPLE_SECONDS / max(connection.recv(), 1e-6)))
    samples = {engine: [] for engine in workers}
    for round_index in range(rounds):
        order = list(workers)[round_index % len(workers):] + list(workers)[:round_index % len(workers)]
        for engine in order:
            time.sleep(0.05)  # let the previous engine's threads go idle
            connection = workers[engine][1]
            connection.send(calls[engine])
            samples[engine].append(connection.recv())
    for process, connection in workers.values():
        connection.send(None)
        process.join(timeout=30)
    return {e: statistics.median(s) for e, s in samples.items()}, difference, failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", action="append", help=f"SPEC:BATCH, SPEC a name in specs/ (default: {' '.join(DEFAULT_CASES)})")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--resnetc", help="resnetc binary (default: the release build, built if absent)")
    args = parser.parse_args()
    ensure_packages(["numpy", "torch", "torchvision", "onnx", "onnxruntime", "openvino", "safetensors"])
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    resnetc = resnetc_binary(args.resnetc)
    import onnxruntime
    import openvino
    import torch

    with tempfile.TemporaryDirectory() as scratch:
        lanes = target_lanes()
        peaks = {width: fma_peak(args.threads, scratch, width) for width in sorted({8, lanes})}
        print(f"# bench/compare.py {' '.join(sys.argv[1:])}".rstrip())
        print(f"# {datetime.date.today()}, {cpu_name()}, {os.cpu_count()} CPUs, {args.threads} threads, widest vectors {lanes} floats; "
              f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, openvino {openvino.__version__}")
        print("# FMA peak: " + ", ".join(f"{w} lanes {p:.1f} GFLOP/s" for w, p in peaks.items()))
        print("# ms per batch (median of interleaved rounds); resnetc's speed-up over each peer in parentheses")
        print()
        print("| case | resnetc | ONNX Runtime | OpenVINO f32 | PyTorch | resnetc % of peak | compile s | max logit diff |")
        print("|---|---|---|---|---|---|---|---|")
        for entry in args.case or DEFAULT_CASES:
            name, _, batch = entry.partition(":")
            batch = int(batch or 1)
            with tempfile.TemporaryDirectory(dir=scratch) as workdir:
                case = prepare(name, batch, args.threads, resnetc, workdir)
                seconds, difference, failures = measure(case, args.rounds)
            own = seconds.get("resnetc")
            cells = []
            for engine in ENGINES:
                if engine not in seconds:
                    cells.append("failed")
                elif engine == "resnetc":
                    cells.append(f"{own * 1000:.1f}")
                else:
                    cells.append(f"{seconds[engine] * 1000:.1f} ({seconds[engine] / own:.2f}×)" if own else f"{seconds[engine] * 1000:.1f}")
            peak = f"{100 * 2 * case['macs'] * batch / own / 1e9 / peaks[lanes]:.0f}%" if own else "–"
            worst = max((v for e, v in difference.items() if e != "pytorch"), default=float("nan"))
            print(f"| {name}, batch {batch} | " + " | ".join(cells) + f" | {peak} | {case['compile_seconds']:.1f} | {worst:.1e} |", flush=True)
            for engine, message in failures.items():
                print(f"#   {engine} failed on {name}: {message}", flush=True)


if __name__ == "__main__":
    main()
