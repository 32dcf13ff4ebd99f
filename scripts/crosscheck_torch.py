#!/usr/bin/env python3
"""Cross-checks resnetc against PyTorch on the same weights.

Inference: for torchvision's resnet18 and resnet50 and for CIFAR ResNet-20 with shortcut options
A, B and C, builds the PyTorch model with random weights and random batch-norm statistics, saves
its state dict as safetensors, runs `resnetc predict` on the same images and compares the logits
(max |difference| / max |logit| <= 1e-4).

Training: one SGD step (momentum, weight decay) of ResNet-20 on the first 64 Fashion-MNIST
training images, from the same weights, in `resnetc run` and in PyTorch. The reference is PyTorch
in float64; the loss must agree within 1e-4, and every updated parameter (which carries its
gradient) and running statistic within 1e-4 or within 5x PyTorch-float32's own error for that
tensor: measured here, some of these gradients are so ill-conditioned that PyTorch in float32
misses float64 by 0.2-0.4% of the update.

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
    import torchvision
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


def check_sgd_step(resnetc, workdir):
    """One full-batch SGD step: with 64 images and batch 64 the shuffle cannot matter."""
    from safetensors.numpy import load_file
    root = "/usr/share/datasets/fashion-mnist"
    if not os.path.exists(f"{root}/train-images-idx3-ubyte.gz"):
        return None, "Fashion-MNIST not installed"
    n, lr, momentum, decay = 64, 0.05, 0.9, 1e-4
    images = read_idx(f"{root}/train-images-idx3-ubyte.gz")[:n].astype(np.float32) / 255
    labels = read_idx(f"{root}/train-labels-idx1-ubyte.gz")[:n].astype(np.int64)
    x = torch.from_numpy(((images - 0.2860) / 0.3530)[:, None])
    torch.manual_seed(1)
    model = CifarResNet(3, "A", in_channels=1)
    randomise_batch_norm(model, torch.Generator().manual_seed(2))
    weights = os.path.join(workdir, "sgd-initial.safetensors")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, weights)
    out = os.path.join(workdir, "sgd-run")
    command = [resnetc, "run", "specs/fashion-resnet20.yaml", "--weights", weights, "--limit", str(n), "--test-limit", "10",
               "--epochs", "1", "--out", out, "--set", f"train.batch_size={n}", "--set", "data.augment={pad: 0, flip: false}",
               "--set", "train.warmup=null", "--set", "train.schedule={type: constant}", "--set", f"train.lr={lr}",
               "--set", f"train.momentum={momentum}", "--set", f"train.weight_decay={decay}"]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if run.returncode != 0:
        return False, f"resnetc run failed: {run.stderr.strip()}"
    def step(dtype):
        torch.manual_seed(1)
        net = CifarResNet(3, "A", in_channels=1)
        randomise_batch_norm(net, torch.Generator().manual_seed(2))
        net = net.to(dtype).train()
        optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum, weight_decay=decay)
        loss = F.cross_entropy(net(x.to(dtype)), torch.from_numpy(labels))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item(), {k: v.double().numpy() for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}

    loss32, single = step(torch.float32)
    loss64, double = step(torch.float64)
    with open(os.path.join(out, "metrics.csv")) as f:
        ours_loss = float(f.read().splitlines()[1].split(",")[3])
    ours = load_file(os.path.join(out, "weights.safetensors"))
    if abs(ours_loss - loss64) > TOLERANCE * abs(loss64):
        return False, f"loss {ours_loss:.6f}, PyTorch float64 {loss64:.6f}"
    worst, worst_name, failures = 0.0, "", []
    for name, reference in double.items():
        scale = max(np.abs(reference).max(), 1e-12)
        ours_error = float(np.abs(ours[name] - reference).max() / scale)
        torch_error = float(np.abs(single[name] - reference).max() / scale)
        bound = max(TOLERANCE, 5 * torch_error)
        if ours_error / bound > worst:
            worst, worst_name = ours_error / bound, name
        if ours_error > bound:
            failures.append(f"{name}: {ours_error:.2e} (PyTorch float32 {torch_error:.2e})")
    detail = (f"loss {ours_loss:.6f} vs {loss64:.6f} (float64); {len(double)} tensors, worst at {worst:.2f} of its bound ({worst_name})")
    return not failures, detail + ("; " + "; ".join(failures[:3]) if failures else "")


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
        if not args.only or args.only == "sgd-step":
            ok, detail = check_sgd_step(args.resnetc, workdir)
            if ok is None:
                print(f"crosscheck_torch: sgd-step           skipped ({detail})")
            else:
                print(f"crosscheck_torch: sgd-step           {'ok  ' if ok else 'FAIL'} {detail}")
                passed += ok
                failures += not ok
    print(f"crosscheck_torch: {passed} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
