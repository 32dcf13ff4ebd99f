#!/usr/bin/env python3
"""Cross-checks resnetc against PyTorch on the same weights.

Inference: for torchvision's resnet18 and resnet50 and for CIFAR ResNet-20 with shortcut options
A, B and C, builds the PyTorch model with random weights and random batch-norm statistics, saves
its state dict as safetensors, runs `resnetc predict` on the same images and compares the logits
(max |difference| / max |logit| <= 1e-4).

Training: one SGD step (momentum, weight decay) of ResNet-20 from the same weights and batch in
`resnetc run` and in PyTorch float64: the loss, every gradient, every updated parameter and
running statistic within 1e-4 relative, on a batch of random pixels and on real Fashion-MNIST
images (see check_sgd_step for how ReLU's float32-level ties are accounted for).

Training artifact: `resnetc compile --train` of the default spec (ResNet-20, 1x28x28) from a
PyTorch model's weights; its parameters.f32 must be the state dict laid out as the manifest says,
and libtrain.so's step (called through its C ABI, 2 threads, 28x28 maps) must give PyTorch
float64's loss and gradients.

Skips cleanly, exit 0, when torch is not installed.

    python3 scripts/crosscheck_torch.py [--resnetc .build/release/resnetc] [--only NAME]
"""
import argparse
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision
    from safetensors.torch import save_file
except ImportError as missing:
    print(f"crosscheck_torch: skipped ({missing.name} is not installed)")
    sys.exit(0)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOLERANCE = 1e-4


class CifarBlock(nn.Module):
    """The paper's CIFAR basic block; option A pads zero channels after the identity ones."""

    def __init__(self, cin, cout, stride, option):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.option, self.stride, self.extra = option, stride, cout - cin
        changes = stride != 1 or cin != cout
        self.downsample = None
        if option == "C" or (option == "B" and changes):
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        if self.downsample is not None:
            shortcut = self.downsample(x)
        elif self.option == "A" and (self.stride != 1 or self.extra):
            shortcut = F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, 0, self.extra))
        else:
            shortcut = x
        return F.relu(y + shortcut)


class CifarResNet(nn.Module):
    """CIFAR ResNet (paper §4.2) with torchvision-style names: conv1, bn1, layer1..3, fc."""

    def __init__(self, n, option, classes=10, in_channels=3):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for cout, stride in [(16, 1), (32, 2), (64, 2)]:
            blocks = []
            for i in range(n):
                blocks.append(CifarBlock(cin, cout, stride if i == 0 else 1, option))
                cin = cout
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def randomise_batch_norm(model, generator):
    """Random running statistics and affine parameters, so folding them is really tested."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=generator) * 0.2)
                m.running_var.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=generator) * 0.2)


def cases():
    yield "resnet18", "specs/resnet18.yaml", [], lambda: torchvision.models.resnet18(), (2, 3, 224, 224)
    yield "resnet50", "specs/resnet50.yaml", [], lambda: torchvision.models.resnet50(), (2, 3, 224, 224)
    for option in "ABC":
        yield (f"cifar-resnet20-{option}", "specs/cifar-resnet20.yaml", [f"shortcut={option}"],
               lambda option=option: CifarResNet(3, option), (4, 3, 32, 32))


def check(resnetc, name, spec, overrides, build, shape, workdir):
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = build()
    randomise_batch_norm(model, generator)
    model.eval()
    weights = os.path.join(workdir, f"{name}.safetensors")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, weights)
    images = torch.randn(*shape, generator=generator)
    np.save(os.path.join(workdir, f"{name}-x.npy"), images.numpy().astype(np.float32))
    with torch.no_grad():
        expected = model(images).numpy()
    command = [resnetc, "predict", spec, "--weights", weights, "--input", os.path.join(workdir, f"{name}-x.npy"),
               "--output", os.path.join(workdir, f"{name}-y.npy")]
    for override in overrides:
        command += ["--set", override]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if run.returncode != 0:
        return False, f"resnetc failed: {run.stderr.strip()}"
    actual = np.load(os.path.join(workdir, f"{name}-y.npy"))
    if actual.shape != expected.shape:
        return False, f"shape {actual.shape}, PyTorch {expected.shape}"
    error = float(np.abs(actual - expected).max() / np.abs(expected).max())
    return error <= TOLERANCE, f"relative error {error:.2e}"


def read_idx(path):
    import gzip
    with (gzip.open(path) if path.endswith(".gz") else open(path, "rb")) as f:
        data = f.read()
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(data[3])]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


def write_idx(path, array):
    """Writes unsigned bytes as IDX (magic 0x0803 for images, 0x0801 for labels)."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with open(path, "wb") as f:
        f.write(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


SGD = {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-4}
PERTURBATIONS = 4
# Relative size of those changes: float32 rounding accumulated over a convolution's sum of hundreds
# of products, whose order depends on the kernels (a 16-lane block sums 16 input channels per tap
# where an 8-lane one sums 8), not the 6e-8 of a single rounding; Winograd F(2x2, 3x3), which adds
# and subtracts whole tiles before and after its products, is off by up to 2e-6 of the output's
# magnitude (Tests/KernelTests/winograd_test.c), about ten times a direct convolution. That is what
# a training step's forward runs (KernelEmitter.winogradTile); its stride-1 input gradients run
# F(4x4, 3x3), off by up to 4e-5, but they are linear and decide no ReLU branch, so they are not
# modelled here: their error reaches the gradients at its own size.
PERTURBATION = 2e-6
# Four random changes underestimate the largest one float32 can make: the bound is twice theirs.
SENSITIVITY_MARGIN = 2
# A reference that float32-sized changes move by more than this says nothing about our kernels.
SENSITIVITY_CEILING = 1e-2


def perturb_convolutions(net, seed, dtype):
    """Changes every convolution's output (each batch norm's input) of `net` by PERTURBATION
    times its channel's root mean square, times a standard normal draw per element: the error
    float32 kernels make in a convolution's sum. A ReLU input that lies that close to zero can
    then take the other branch, as it may in any float32 implementation."""
    generator = torch.Generator().manual_seed(seed)

    def perturb(module, inputs):
        (value,) = inputs
        rms = value.detach().pow(2).mean(dim=(0, 2, 3), keepdim=True).sqrt()
        return value + PERTURBATION * rms * torch.randn(value.shape, generator=generator, dtype=dtype)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.register_forward_pre_hook(perturb)


def tolerance(sensitivity):
    """The bound for a tensor whose float64 reference moves by `sensitivity` (relative to its
    largest magnitude) under perturb_convolutions: 1e-4, or twice that movement where it is
    larger, at most SENSITIVITY_CEILING."""
    return max(TOLERANCE, min(SENSITIVITY_MARGIN * sensitivity, SENSITIVITY_CEILING))


def torch_sgd_step(weights, x, labels, dtype, perturb_seed=None):
    """One SGD step in PyTorch: the loss, each gradient with its weight decay (what the momentum
    buffer holds after a first step), and the state dict after the step; with perturb_seed,
    through perturb_convolutions."""
    net = CifarResNet(3, "A", in_channels=1)
    net.load_state_dict(weights)
    net = net.to(dtype).train()
    if perturb_seed is not None:
        perturb_convolutions(net, perturb_seed, dtype)
    optimizer = torch.optim.SGD(net.parameters(), **SGD)
    loss = F.cross_entropy(net(x.to(dtype)), torch.from_numpy(labels))
    optimizer.zero_grad()
    loss.backward()
    gradients = {name: (p.grad + SGD["weight_decay"] * p.detach()).double().numpy().copy() for name, p in net.named_parameters()}
    optimizer.step()
    state = {k: v.double().numpy() for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    return loss.item(), gradients, state


def check_sgd_step(resnetc, workdir, batch):
    """One full-batch SGD step of ResNet-20 (option A, 1x28x28) from the same weights and batch in
    `resnetc run` and PyTorch: with batch size = images the shuffle cannot matter. Compares the
    loss, every gradient (the momentum buffer in resnetc's checkpoint after one step is the
    gradient plus weight decay, exactly), every updated parameter and running statistic with
    PyTorch in float64, each within 1e-4 of the tensor's largest magnitude.

    ReLU makes gradients only piecewise continuous: where a pre-activation lies within float32
    rounding of zero, float32 and float64 take different branches, and one such pixel moves the
    gradients of every layer below it. So the reference's own sensitivity is measured too (float64
    runs with every convolution's output changed by float32-sized errors), and a tensor whose
    reference moves by more than 1e-4 under such a change is held to twice that movement instead
    (at most 1e-2). Random pixels (batch `noise`) have a few such pixels among the 6 million ReLU
    inputs of a step: PyTorch's own float32 step misses 1e-4 on some seeds. The first Fashion-MNIST
    images (`fashion`), whose constant backgrounds tie whole regions, have many."""
    from safetensors.numpy import load_file
    n = 32
    root = "/usr/share/datasets/fashion-mnist"
    if not os.path.exists(f"{root}/train-labels-idx1-ubyte.gz"):
        return None, "Fashion-MNIST not installed"
    labels = read_idx(f"{root}/train-labels-idx1-ubyte.gz")[:n].astype(np.int64)
    if batch == "fashion":
        pixels = read_idx(f"{root}/train-images-idx3-ubyte.gz")[:n]
    else:
        pixels = np.random.default_rng(3).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    data = os.path.join(workdir, f"sgd-{batch}-data")
    os.makedirs(data, exist_ok=True)
    for split in ("train", "t10k"):
        write_idx(os.path.join(data, f"{split}-images-idx3-ubyte"), pixels)
        write_idx(os.path.join(data, f"{split}-labels-idx1-ubyte"), labels.astype(np.uint8))
    x = torch.from_numpy(((pixels.astype(np.float32) / 255 - 0.2860) / 0.3530)[:, None])

    torch.manual_seed(1)
    model = CifarResNet(3, "A", in_channels=1)
    randomise_batch_norm(model, torch.Generator().manual_seed(2))
    initial = {k: v.contiguous() for k, v in model.state_dict().items()}
    weights = os.path.join(workdir, f"sgd-{batch}-initial.safetensors")
    save_file(initial, weights)
    out = os.path.join(workdir, f"sgd-{batch}-run")
    command = [resnetc, "run", "specs/fashion-resnet20.yaml", "--dataset", f"fashion-mnist:{data}", "--weights", weights,
               "--epochs", "1", "--out", out, "--threads", os.environ.get("RESNETC_THREADS", "2"), "--set", f"train.batch_size={n}", "--set", "data.augment={pad: 0, flip: false}",
               "--set", "train.warmup=null", "--set", "train.schedule={type: constant}", "--set", f"train.lr={SGD['lr']}",
               "--set", f"train.momentum={SGD['momentum']}", "--set", f"train.weight_decay={SGD['weight_decay']}"]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if run.returncode != 0:
        return False, f"resnetc run failed: {run.stderr.strip()}"
    with open(os.path.join(out, "metrics.csv")) as f:
        ours_loss = float(f.read().splitlines()[1].split(",")[3])
    checkpoint = load_file(os.path.join(out, "checkpoint.safetensors"))
    ours = {f"grad:{k}": checkpoint[f"momentum.{k}"] for k in initial if f"momentum.{k}" in checkpoint}
    ours.update({k: v for k, v in load_file(os.path.join(out, "weights.safetensors")).items()})

    def flatten(gradients, state):
        return {**{f"grad:{k}": v for k, v in gradients.items()}, **state}
    loss64, gradients, state = torch_sgd_step(initial, x, labels, torch.float64)
    reference = flatten(gradients, state)
    _, gradients32, state32 = torch_sgd_step(initial, x, labels, torch.float32)
    single = flatten(gradients32, state32)
    sensitivity = {name: 0.0 for name in reference}
    for seed in range(PERTURBATIONS):
        _, g, s = torch_sgd_step(initial, x, labels, torch.float64, perturb_seed=seed)
        for name, value in flatten(g, s).items():
            scale = max(np.abs(reference[name]).max(), 1e-12)
            sensitivity[name] = max(sensitivity[name], float(np.abs(value - reference[name]).max() / scale))

    if abs(ours_loss - loss64) > TOLERANCE * abs(loss64):
        return False, f"loss {ours_loss:.6f}, PyTorch float64 {loss64:.6f}"
    missing = sorted(set(reference) - set(ours))
    if missing:
        return False, f"resnetc wrote no {', '.join(missing[:3])}"
    worst, worst_name, failures, loose = 0.0, "", [], 0
    worst_torch = 0.0
    for name, expected in reference.items():
        scale = max(np.abs(expected).max(), 1e-12)
        error = float(np.abs(ours[name] - expected).max() / scale)
        bound = tolerance(sensitivity[name])
        loose += bound > TOLERANCE
        worst_torch = max(worst_torch, float(np.abs(single[name] - expected).max() / scale))
        if error > worst:
            worst, worst_name = error, name
        if error > bound:
            failures.append(f"{name}: {error:.2e} > {bound:.2e}")
    detail = (f"batch {batch}: loss {ours_loss:.6f} vs {loss64:.6f}; {len(reference)} tensors (gradients, parameters, "
              f"running statistics), worst {worst:.1e} ({worst_name}), PyTorch float32's worst {worst_torch:.1e}; "
              f"{loose} tensors ill-conditioned beyond 1e-4")
    return not failures, detail + ("; " + "; ".join(failures[:3]) if failures else "")


def check_training_artifact(resnetc, workdir, batch=32):
    """`resnetc compile --train` on the default spec (ResNet-20, 1x28x28) with a PyTorch model's
    weights: the artifact's initial region equals the state dict placed by the manifest's layout,
    and one step of libtrain.so on a batch of random pixels gives the loss and every gradient of
    PyTorch in float64, each within 1e-4 of the tensor's largest magnitude, or within twice the
    reference's own movement under float32-sized changes where that is larger (as check_sgd_step
    does, and for the same reason: this batch has a ReLU input within float32 rounding of zero,
    so rounding the transformed Winograd weights once in float instead of from double moved
    layer1.1.conv2's gradient by 6e-3). CIFAR ResNet-20 on Gaussian 32x32 inputs is worse
    (PyTorch's own float32 gradients miss its float64 ones by up to 2e-2), so such a batch says
    nothing about the kernels."""
    import ctypes
    import json
    torch.manual_seed(4)
    model = CifarResNet(3, "A", in_channels=1)
    randomise_batch_norm(model, torch.Generator().manual_seed(2))
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    weights, artifact = os.path.join(workdir, "train-artifact.safetensors"), os.path.join(workdir, "train-artifact")
    save_file(state, weights)
    run = subprocess.run([resnetc, "compile", "specs/fashion-resnet20.yaml", "--weights", weights, "--train", "-o", artifact],
                         cwd=ROOT, capture_output=True, text=True)
    if run.returncode != 0:
        return False, f"resnetc compile --train failed: {run.stderr.strip()}"
    layout = json.load(open(os.path.join(artifact, "manifest.json")))["training"]
    region = np.fromfile(os.path.join(artifact, "parameters.f32"), dtype=np.float32)
    if region.size != layout["parameter_floats"]:
        return False, f"parameters.f32 holds {region.size} floats, the manifest says {layout['parameter_floats']}"
    for entry in layout["parameters"]:
        value = state[entry["name"]].numpy()
        if list(value.shape) != entry["shape"] or not np.array_equal(region[entry["offset"]:entry["offset"] + value.size], value.ravel()):
            return False, f"parameters.f32 at {entry['name']} (offset {entry['offset']}) is not the state dict's tensor"

    library = ctypes.CDLL(os.path.join(artifact, "libtrain.so"))
    library.rc_trainer_create.restype = ctypes.c_void_p
    library.rc_trainer_create.argtypes = [ctypes.c_int]
    for region_function in (library.rc_trainer_params, library.rc_trainer_grads):
        region_function.restype = ctypes.POINTER(ctypes.c_float)
        region_function.argtypes = [ctypes.c_void_p]
    library.rc_train_step.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    library.rc_train_step.restype = ctypes.c_int
    library.rc_trainer_destroy.argtypes = [ctypes.c_void_p]
    library.rc_set_threads(2)
    trainer = library.rc_trainer_create(batch)
    np.ctypeslib.as_array(library.rc_trainer_params(trainer), shape=(region.size,))[:] = region
    generator = torch.Generator().manual_seed(5)
    x = (torch.randint(0, 256, (batch, 1, 28, 28), generator=generator).float() / 255 - 0.2860) / 0.3530
    labels = torch.randint(0, 10, (batch,), generator=generator)
    xn, ln = np.ascontiguousarray(x.numpy()), np.ascontiguousarray(labels.numpy().astype(np.int32))
    loss = np.zeros(1, dtype=np.float32)
    status = library.rc_train_step(trainer, batch, xn.ctypes.data, ln.ctypes.data, loss.ctypes.data, None)
    gradients = np.ctypeslib.as_array(library.rc_trainer_grads(trainer), shape=(region.size,)).copy()
    library.rc_trainer_destroy(trainer)
    if status != 0:
        return False, f"rc_train_step returned {status}"

    def float64_gradients(perturb_seed=None):
        net = CifarResNet(3, "A", in_channels=1)
        net.load_state_dict(state)
        net = net.double().train()
        if perturb_seed is not None:
            perturb_convolutions(net, perturb_seed, torch.float64)
        value = F.cross_entropy(net(x.double()), labels)
        value.backward()
        return value.item(), {name: p.grad.numpy().ravel().copy() for name, p in net.named_parameters()}
    expected, truth = float64_gradients()
    sensitivity = {name: 0.0 for name in truth}
    for seed in range(PERTURBATIONS):
        for name, value in float64_gradients(seed)[1].items():
            sensitivity[name] = max(sensitivity[name], float(np.abs(value - truth[name]).max() / max(np.abs(truth[name]).max(), 1e-12)))
    if abs(loss[0] - expected) > TOLERANCE * abs(expected):
        return False, f"loss {loss[0]:.6f}, PyTorch float64 {expected:.6f}"
    by_name = {entry["name"]: entry for entry in layout["parameters"]}
    worst, worst_name, failures, loose = 0.0, "", [], 0
    for name, want in truth.items():
        entry = by_name[name]
        ours = gradients[entry["offset"]:entry["offset"] + want.size]
        error = float(np.abs(ours - want).max() / max(np.abs(want).max(), 1e-12))
        bound = tolerance(sensitivity[name])
        loose += bound > TOLERANCE
        if error > worst:
            worst, worst_name = error, name
        if error > bound:
            failures.append(f"{name}: {error:.1e} > {bound:.1e}")
    detail = (f"loss {loss[0]:.6f} vs {expected:.6f}; {len(by_name)} tensors laid out as the manifest says; worst gradient {worst:.1e} "
              f"({worst_name}); {loose} tensors ill-conditioned beyond 1e-4")
    return not failures, detail + ("; " + ", ".join(failures[:3]) if failures else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--resnetc", default=os.path.join(ROOT, ".build/release/resnetc"))
    parser.add_argument("--only", help="run only the case with this name")
    args = parser.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    failures = 0
    passed = 0
    with tempfile.TemporaryDirectory() as workdir:
        for name, spec, overrides, build, shape in cases():
            if args.only and args.only != name:
                continue
            ok, detail = check(args.resnetc, name, spec, overrides, build, shape, workdir)
            print(f"crosscheck_torch: {name:<18} {'ok  ' if ok else 'FAIL'} {detail}")
            passed += ok
            failures += not ok
        for batch in ("noise", "fashion"):
            name = f"sgd-step-{batch}"
            if args.only and args.only != name:
                continue
            ok, detail = check_sgd_step(args.resnetc, workdir, batch)
            if ok is None:
                print(f"crosscheck_torch: {name:<18} skipped ({detail})")
            else:
                print(f"crosscheck_torch: {name:<18} {'ok  ' if ok else 'FAIL'} {detail}")
                passed += ok
                failures += not ok
        if not args.only or args.only == "train-artifact":
            ok, detail = check_training_artifact(args.resnetc, workdir)
            print(f"crosscheck_torch: {'train-artifact':<18} {'ok  ' if ok else 'FAIL'} {detail}")
            passed += ok
            failures += not ok
    print(f"crosscheck_torch: {passed} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
