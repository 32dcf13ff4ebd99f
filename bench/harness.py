"""What the benchmarks share: the repository root, a release build of resnetc, the Python
packages they need (installed when missing), and the measured FMA peak."""
import importlib.util
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Module name -> PyPI package.
PACKAGES = {"numpy": "numpy", "torch": "torch", "torchvision": "torchvision", "onnx": "onnx", "onnxruntime": "onnxruntime",
            "openvino": "openvino", "safetensors": "safetensors"}


def ensure_packages(modules):
    """Installs (pip, current interpreter) the packages of `modules` that are not importable."""
    missing = [PACKAGES[m] for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        print(f"# installing {' '.join(missing)}", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)


def resnetc_binary(path=None):
    """The release resnetc, built (swift build -c release) when absent."""
    binary = path or os.path.join(ROOT, ".build/release/resnetc")
    if not os.path.exists(binary):
        print("# building resnetc (swift build -c release)", flush=True)
        subprocess.run(["swift", "build", "-c", "release", "--product", "resnetc"], cwd=ROOT, check=True)
    return binary


def target_lanes():
    """Floats per vector of the compiler's -march=native target: 16 with AVX-512, else 8."""
    macros = subprocess.run(["cc", "-march=native", "-dM", "-E", "-x", "c", "/dev/null"], capture_output=True, text=True, check=True).stdout
    return 16 if "__AVX512F__" in macros else 8


def fma_peak(threads, workdir, lanes):
    """The measured float32 FMA peak in GFLOP/s with `lanes`-float vectors on `threads` threads."""
    binary = os.path.join(workdir, f"fma_peak{lanes}")
    subprocess.run(["cc", "-O2", "-march=native", "-fopenmp", f"-DLANES={lanes}", "-DFMA_PEAK_MAIN", "-o", binary,
                    os.path.join(ROOT, "Sources/ResNetKernels/fma_peak.c")], check=True)
    return float(subprocess.run([binary, str(threads)], capture_output=True, text=True, check=True).stdout)


def cpu_name():
    """The CPU's model name from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as info:
            return next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown CPU"
