#!/usr/bin/env python3
"""Writes N random float32 images of shape C×H×W as a .npy file, without needing numpy.

    python3 scripts/random_images.py OUT.npy N C H W [SEED]
"""
import array
import random
import sys


def main():
    if len(sys.argv) not in (6, 7):
        sys.exit(__doc__)
    path = sys.argv[1]
    shape = [int(v) for v in sys.argv[2:6]]
    rng = random.Random(int(sys.argv[6]) if len(sys.argv) == 7 else 0)
    count = shape[0] * shape[1] * shape[2] * shape[3]
    values = array.array("f", (rng.gauss(0.0, 1.0) for _ in range(count)))
    if sys.byteorder != "little":
        values.byteswap()
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % ", ".join(map(str, shape))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as out:
        out.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin1"))
        out.write(values.tobytes())


if __name__ == "__main__":
    main()
