#!/usr/bin/env python3
"""Compares two safetensors weight files tensor by tensor (standard library only) and fails unless
every float32 value agrees to --tolerance, relative to the tensor's largest magnitude (at least 1).

    compare_weights.py A.safetensors B.safetensors [--tolerance 1e-5] [--what "2 ranks vs 1"]
"""
import argparse
import json
import struct
import sys


def tensors(path):
    data = open(path, "rb").read()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", (path, name, entry["dtype"])
        start, end = entry["data_offsets"]
        out[name] = struct.unpack(f"<{(end - start) // 4}f", body[start:end])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.add_argument("--what", default="weights")
    args = parser.parse_args()
    a, b = tensors(args.a), tensors(args.b)
    if a.keys() != b.keys():
        sys.exit(f"{args.what}: the files hold different tensors: {sorted(a.keys() ^ b.keys())[:5]}")
    worst, where = 0.0, ""
    for name in sorted(a):
        scale = max(1.0, max(abs(v) for v in a[name]))
        difference = max(abs(x - y) for x, y in zip(a[name], b[name])) / scale
        if difference > worst:
            worst, where = difference, name
    if worst > args.tolerance:
        sys.exit(f"{args.what}: {where} differs by {worst:.3g} (relative), more than {args.tolerance}")
    print(f"{args.what}: {len(a)} tensors agree, worst {worst:.2g} ({where or 'none'})")


if __name__ == "__main__":
    main()
