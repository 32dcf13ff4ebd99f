#!/usr/bin/env python3
"""Side by side: inference of resnetc, ONNX Runtime, OpenVINO (fp32) and PyTorch, or (--train)
one training step of resnetc, PyTorch eager and torch.compile, on the same network, weights,
input batch, labels and thread count, timed round by round in turn, each engine in a process of
its own (so no engine's threads spin while another is timed, and no two OpenMP runtimes share a
process). Prints, per case, each engine's median time per batch, resnetc's speed-up over it, and
resnetc's fraction of the machine's measured FMA peak (a training step counted as 3x the forward
multiply-adds); the peak is measured at 8 and 16 lanes. Logits (inference) or first-step losses
(training) are compared with PyTorch's before anything is timed.

    python3 bench/compare.py                      # the inference cases of issue 9, 2 threads
    python3 bench/compare.py --case resnet50:8 --rounds 20
    python3 bench/compare.py --train              # the training cases of issue 10
    python3 bench/compare.py --train --case resnet18:16:112

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
TRAINING_ENGINES = ["resnetc", "pytorch", "torch.compile"]
DEFAULT_CASES = ["cifar-resnet20:128", "cifar-resnet56:128", "resnet18:1", "resnet50:1", "resnet50:8"]
DEFAULT_TRAINING_CASES = ["cifar-resnet20:128", "cifar-resnet56:128", "fashion-resnet20:128", "resnet18:16:112"]
# The training step both engines take: SGD with momentum and weight decay (also on batch norm).
SGD = {"lr": 0.01, "momentum": 0.9, "weight_decay": 1e-4}
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


def load_training_engine(engine, case):
    """The engine's training step (forward with batch statistics, backward, SGD) on the case's
    batch and labels, as a function returning the step's loss."""
    import numpy as np
    x, labels = np.load(case["input"]), np.load(case["labels"])
    threads = case["threads"]
    if engine == "resnetc":
        library = ctypes.CDLL(os.path.join(case["artifact"], "libtrain.so"))
        library.rc_trainer_create.restype = ctypes.c_void_p
        library.rc_trainer_create.argtypes = [ctypes.c_int]
        library.rc_trainer_params.restype = ctypes.POINTER(ctypes.c_float)
        library.rc_trainer_params.argtypes = [ctypes.c_void_p]
        library.rc_param_floats.restype = ctypes.c_long
        library.rc_train_step.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        library.rc_train_step.restype = ctypes.c_int
        library.rc_sgd_step.argtypes = [ctypes.c_void_p, ctypes.c_float, ctypes.c_float, ctypes.c_float, ctypes.c_float, ctypes.c_int]
        library.rc_set_threads(threads)
        trainer = library.rc_trainer_create(len(x))
        if not trainer:
            raise RuntimeError(f"rc_trainer_create({len(x)}) failed: out of memory")
        region = np.fromfile(os.path.join(case["artifact"], "parameters.f32"), dtype=np.float32)
        if region.size != library.rc_param_floats():
            raise RuntimeError(f"parameters.f32 holds {region.size} floats, libtrain.so's region {library.rc_param_floats()}")
        np.ctypeslib.as_array(library.rc_trainer_params(trainer), shape=(region.size,))[:] = region
        loss = np.zeros(1, dtype=np.float32)

        def run():
            if library.rc_train_step(trainer, len(x), x.ctypes.data, labels.ctypes.data, loss.ctypes.data, None) != 0:
                raise RuntimeError("rc_train_step rejected the batch")
            library.rc_sgd_step(trainer, SGD["lr"], SGD["momentum"], SGD["weight_decay"], SGD["weight_decay"], 0)
            return loss.copy()
        return run
    if engine in ("pytorch", "torch.compile"):
        import torch
        import torch.nn.functional as F
        from safetensors.torch import load_file
        from models import torch_model
        torch.set_num_threads(threads)
        model, _ = torch_model(case["spec"])
        model.load_state_dict(load_file(case["weights"]))
        model.train()
        forward = torch.compile(model) if engine == "torch.compile" else model
        optimizer = torch.optim.SGD(model.parameters(), **SGD)
        xt, lt = torch.from_numpy(x), torch.from_numpy(labels).long()

        def run():
            optimizer.zero_grad(set_to_none=True)
            value = F.cross_entropy(forward(xt), lt)
            value.backward()
            optimizer.step()
            return np.array([value.item()], dtype=np.float32)
        return run
    raise ValueError(engine)


def worker(engine, case, connection):
    """One engine in its own process: loads, answers with its first output (logits, or a training
    step's loss), then times n calls per request until told to stop (None)."""
    import numpy as np
    try:
        run = (load_training_engine if case["train"] else load_engine)(engine, case)
        connection.send(("ready", np.array(run(), copy=True)))
    except Exception as error:  # reported, and the case goes on without this engine
        connection.send(("error", f"{type(error).__name__}: {error}"))
        return
    while (calls := connection.recv()) is not None:
        start = time.perf_counter()
        for _ in range(calls):
            run()
        connection.send((time.perf_counter() - start) / calls)


def prepare(case_name, batch, size, threads, resnetc, workdir, train):
    """Weights (the PyTorch twin's; batch norm randomised for inference), resnetc's artifact (with
    its training step when `train`), for inference the ONNX export of the same weights, and one
    input batch (and labels); returns the case description the workers read. `size` (or None for
    the spec's own) sets the input's height and width."""
    import numpy as np
    import torch
    from safetensors.torch import save_file
    from crosscheck_torch import randomise_batch_norm
    from models import torch_model
    spec = os.path.join(ROOT, "specs", f"{case_name}.yaml")
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model, image = torch_model(spec)
    if size:
        image = (image[0], size, size)
    overrides = ["--set", f"input.height={size}", "--set", f"input.width={size}"] if size else []
    if not train:
        randomise_batch_norm(model, generator)
    weights = os.path.join(workdir, "weights.safetensors")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, weights)
    artifact, onnx = os.path.join(workdir, "artifact"), os.path.join(workdir, "model.onnx")
    environment = dict(os.environ, RESNETC_CACHE=os.path.join(workdir, "cache"))  # a real compile, timed
    start = time.perf_counter()
    subprocess.run([resnetc, "compile", spec, "--weights", weights, "-o", artifact] + overrides + (["--train"] if train else []),
                   check=True, capture_output=True, env=environment)
    compile_seconds = time.perf_counter() - start
    if not train:
        subprocess.run([resnetc, "export", spec, "--weights", weights, "--onnx", onnx] + overrides, check=True, capture_output=True)
    manifest = json.load(open(os.path.join(artifact, "manifest.json")))
    x = torch.randn(batch, *image, generator=generator).numpy().astype(np.float32)
    labels = torch.randint(0, manifest["outputs"], (batch,), generator=generator).numpy().astype(np.int32)
    np.save(os.path.join(workdir, "input.npy"), x)
    np.save(os.path.join(workdir, "labels.npy"), labels)
    return {"spec": spec, "weights": weights, "artifact": artifact, "onnx": onnx, "input": os.path.join(workdir, "input.npy"),
            "labels": os.path.join(workdir, "labels.npy"), "threads": threads, "classes": manifest["outputs"], "macs": manifest["macs"],
            "compile_seconds": compile_seconds, "train": train}


def measure(case, engines, rounds):
    """Per engine: median seconds per batch over `rounds` interleaved rounds (None if it failed),
    its first output's relative difference from PyTorch's, and failure messages."""
    import numpy as np
    context = multiprocessing.get_context("spawn")
    workers, logits, failures = {}, {}, {}
    for engine in engines:
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
    parser.add_argument("--case", action="append",
                        help=f"SPEC:BATCH[:SIZE], SPEC a name in specs/, SIZE the input's height and width (default: {' '.join(DEFAULT_CASES)}; "
                             f"with --train {' '.join(DEFAULT_TRAINING_CASES)})")
    parser.add_argument("--train", action="store_true", help="time a training step (forward, backward, SGD) instead of inference")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--resnetc", help="resnetc binary (default: the release build, built if absent)")
    args = parser.parse_args()
    ensure_packages(["numpy", "torch", "torchvision", "safetensors"] + ([] if args.train else ["onnx", "onnxruntime", "openvino"]))
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    resnetc = resnetc_binary(args.resnetc)
    import torch
    engines = TRAINING_ENGINES if args.train else ENGINES
    names = {"resnetc": "resnetc", "onnxruntime": "ONNX Runtime", "openvino": "OpenVINO f32", "pytorch": "PyTorch" + (" eager" if args.train else ""),
             "torch.compile": "torch.compile"}

    with tempfile.TemporaryDirectory() as scratch:
        lanes = target_lanes()
        peaks = {width: fma_peak(args.threads, scratch, width) for width in sorted({8, lanes})}
        versions = f"torch {torch.__version__}"
        if not args.train:
            import onnxruntime
            import openvino
            versions += f", onnxruntime {onnxruntime.__version__}, openvino {openvino.__version__}"
        print(f"# bench/compare.py {' '.join(sys.argv[1:])}".rstrip())
        print(f"# {datetime.date.today()}, {cpu_name()}, {os.cpu_count()} CPUs, {args.threads} threads, widest vectors {lanes} floats; {versions}")
        print("# FMA peak: " + ", ".join(f"{w} lanes {p:.1f} GFLOP/s" for w, p in peaks.items()))
        what = "ms per training step (forward, backward, SGD)" if args.train else "ms per batch"
        print(f"# {what}, median of interleaved rounds; resnetc's speed-up over each peer in parentheses")
        print()
        check = "first-step loss diff" if args.train else "max logit diff"
        print("| case | " + " | ".join(names[e] for e in engines) + f" | resnetc images/s | resnetc % of peak | compile s | {check} |")
        print("|---|" + "---|" * (len(engines) + 4))
        for entry in args.case or (DEFAULT_TRAINING_CASES if args.train else DEFAULT_CASES):
            name, _, rest = entry.partition(":")
            batch, _, size = rest.partition(":")
            batch, size = int(batch or 1), int(size) if size else None
            with tempfile.TemporaryDirectory(dir=scratch) as workdir:
                case = prepare(name, batch, size, args.threads, resnetc, workdir, args.train)
                seconds, difference, failures = measure(case, engines, args.rounds)
            own = seconds.get("resnetc")
            cells = []
            for engine in engines:
                if engine not in seconds:
                    cells.append("failed")
                elif engine == "resnetc":
                    cells.append(f"{own * 1000:.1f}")
                else:
                    cells.append(f"{seconds[engine] * 1000:.1f} ({seconds[engine] / own:.2f}×)" if own else f"{seconds[engine] * 1000:.1f}")
            passes = 3 if args.train else 1
            peak = f"{100 * passes * 2 * case['macs'] * batch / own / 1e9 / peaks[lanes]:.0f}%" if own else "–"
            throughput = f"{batch / own:.1f}" if own else "–"
            worst = difference.get("resnetc", float("nan")) if args.train else \
                max((v for e, v in difference.items() if e != "pytorch"), default=float("nan"))
            label = f"{name}, batch {batch}" + (f", {size}×{size}" if size else "")
            print(f"| {label} | " + " | ".join(cells) + f" | {throughput} | {peak} | {case['compile_seconds']:.1f} | {worst:.1e} |", flush=True)
            if args.train and not worst <= 1e-4:
                print(f"#   the first-step losses of resnetc and PyTorch differ on {name} (or one failed): the times above are not comparable", flush=True)
            for engine, message in failures.items():
                print(f"#   {engine} failed on {name}: {message}", flush=True)


if __name__ == "__main__":
    main()
