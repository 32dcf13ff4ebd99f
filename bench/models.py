"""PyTorch models matching resnetc specs, shared by the cross-check and the benchmarks."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))

from crosscheck_torch import CifarResNet  # noqa: E402  (the one definition of the CIFAR net)


def torch_model(spec):
    """The PyTorch twin of a spec in specs/ (torchvision for ImageNet nets, CifarResNet for CIFAR)."""
    import torchvision
    name = os.path.basename(spec).removesuffix(".yaml")
    if name.startswith("cifar-resnet"):
        depth = int(name.removeprefix("cifar-resnet"))
        return CifarResNet((depth - 2) // 6, "A"), (3, 32, 32)
    if name == "fashion-resnet20":
        return CifarResNet(3, "A", in_channels=1), (1, 28, 28)
    if hasattr(torchvision.models, name):
        return getattr(torchvision.models, name)(), (3, 224, 224)
    raise SystemExit(f"no PyTorch twin for {spec}")
