#!/usr/bin/env python3
"""Training-step throughput, side by side: resnetc's generated training step (forward with batch
statistics, backward, SGD with momentum and weight decay) called in-process through its C ABI,
and PyTorch's eager training step, on the same weights, batch, labels and threads. Prints
images/s (median of --repeats timed steps after warm-up), PyTorch's ratio to resnetc and
resnetc's fraction of the machine's measured FMA peak (a step counted as 3x the forward
multiply-adds). The two first-step losses must agree (1e-4 relative) before anything is timed.

    python3 bench/training.py --spec specs/fashion-resnet20.yaml --batch 128 --threads 2
"""
import argparse
import ctypes
import glob
import json
import os
import subprocess
import tempfile

from harness import ROOT, cpu_name, ensure_packages, fma_peak, resnetc_binary, target_lanes, timed

ensure_packages(["numpy", "torch", "torchvision", "safetensors"])
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

from models import torch_model  # noqa: E402

SGD = {"lr": 0.01, "momentum": 0.9, "weight_decay": 1e-4}


def training_library(resnetc, spec, weights, batch, dataset, cache):
    """Builds the spec's training step through `resnetc run` (one batch) into a private compile
    cache and returns the cached library that exports rc_train_step."""
    environment = dict(os.environ, RESNETC_CACHE=cache)
    subprocess.run([resnetc, "run", spec, "--weights", weights, "--epochs", "1", "--limit", str(batch), "--test-limit", "10",
                    "--set", f"train.batch_size={batch}", "--out", os.path.join(cache, "run")] + (["--dataset", dataset] if dataset else []),
                   check=True, capture_output=True, env=environment)
    for path in glob.glob(os.path.join(cache, "*.so")):
        library = ctypes.CDLL(path)
        if hasattr(library, "rc_train_step"):
            return library
    raise SystemExit("resnetc run left no training library in its cache")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spec", default="specs/fashion-resnet20.yaml")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--dataset", help="resnetc's --dataset for specs that need one (cifar10:DIR)")
    parser.add_argument("--resnetc", help="resnetc binary (default: the release build, built if absent)")
    args = parser.parse_args()
    args.resnetc = resnetc_binary(args.resnetc)
    torch.set_num_threads(args.threads)
    spec = os.path.join(ROOT, args.spec)

    with tempfile.TemporaryDirectory() as workdir:
        torch.manual_seed(0)
        model, image = torch_model(args.spec)
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        weights = os.path.join(workdir, "w.safetensors")
        save_file(state, weights)
        lib = training_library(args.resnetc, spec, weights, args.batch, args.dataset, workdir)
        macs = json.loads(subprocess.run([args.resnetc, "summary", spec, "--json"], capture_output=True, text=True,
                                         check=True).stdout)["macs"]
        lib.rc_trainer_create.restype = ctypes.c_void_p
        lib.rc_trainer_create.argtypes = [ctypes.c_int]
        lib.rc_trainer_params.restype = ctypes.POINTER(ctypes.c_float)
        lib.rc_trainer_params.argtypes = [ctypes.c_void_p]
        lib.rc_param_floats.restype = ctypes.c_long
        lib.rc_train_step.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        lib.rc_sgd_step.argtypes = [ctypes.c_void_p, ctypes.c_float, ctypes.c_float, ctypes.c_float, ctypes.c_float, ctypes.c_int]
        lib.rc_set_threads(args.threads)
        trainer = lib.rc_trainer_create(args.batch)
        if not trainer:
            raise SystemExit(f"rc_trainer_create({args.batch}) failed: out of memory")
        # The parameter region is the state dict, tensor after tensor, in its order.
        flat = np.concatenate([v.numpy().ravel() for k, v in state.items() if not k.endswith("num_batches_tracked")])
        if flat.size != lib.rc_param_floats():
            raise SystemExit(f"state dict has {flat.size} floats, resnetc's parameter region {lib.rc_param_floats()}")
        np.ctypeslib.as_array(lib.rc_trainer_params(trainer), shape=(flat.size,))[:] = flat

        generator = torch.Generator().manual_seed(1)
        x = torch.randn(args.batch, *image, generator=generator)
        labels = torch.randint(0, model.fc.out_features, (args.batch,), generator=generator)
        xn = np.ascontiguousarray(x.numpy(), dtype=np.float32)
        ln = np.ascontiguousarray(labels.numpy(), dtype=np.int32)
        loss = np.zeros(1, dtype=np.float32)

        def run_resnetc():
            lib.rc_train_step(trainer, args.batch, xn.ctypes.data, ln.ctypes.data, loss.ctypes.data, None)
            lib.rc_sgd_step(trainer, SGD["lr"], SGD["momentum"], SGD["weight_decay"], SGD["weight_decay"], 0)

        model.train()
        optimizer = torch.optim.SGD(model.parameters(), **SGD)
        torch_loss = []

        def run_torch():
            optimizer.zero_grad(set_to_none=True)
            value = F.cross_entropy(model(x), labels)
            value.backward()
            optimizer.step()
            torch_loss.append(value.item())

        run_resnetc()
        run_torch()
        print(f"# first-step loss: resnetc {loss[0]:.6f}, PyTorch {torch_loss[0]:.6f}")
        if abs(loss[0] - torch_loss[0]) > 1e-4 * abs(torch_loss[0]):
            raise SystemExit("the first-step losses differ: not the same computation, nothing timed")
        seconds = {"resnetc": timed(run_resnetc, args.repeats), "pytorch": timed(run_torch, args.repeats)}
        lanes = target_lanes()
        peak = fma_peak(args.threads, workdir, lanes)

    print(f"# training step, {args.spec}, batch {args.batch}, {args.threads} threads, {cpu_name()}, torch {torch.__version__}")
    for name, s in seconds.items():
        print(f"{name:<8} {args.batch / s:8.1f} images/s  {s * 1000:8.2f} ms/step  resnetc is {seconds[name] / seconds['resnetc']:.2f}x")
    gflops = 3 * 2 * macs * args.batch / seconds["resnetc"] / 1e9
    print(f"resnetc: {gflops:.1f} GFLOP/s = {100 * gflops / peak:.0f}% of the measured {lanes}-lane FMA peak ({peak:.1f} GFLOP/s)")


if __name__ == "__main__":
    main()
