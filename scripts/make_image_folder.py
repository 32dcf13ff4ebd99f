#!/usr/bin/env python3
"""Writes a dataset as an image folder (ROOT/train/<class>/*.png and ROOT/test/<class>/*.png), the
truth for resnetc's image-folder reader: evaluated through --dataset folder:ROOT, it must give exactly
what the binary dataset gives.

    make_image_folder.py cifar10 DIR ROOT [--train-per-class N] [--test-limit N]
    make_image_folder.py fashion-mnist DIR ROOT [...]
    make_image_folder.py --jpeg-reference cifar10 DIR ROOT REFERENCE_DIR [...]

PNG files are written with the standard library alone (zlib). Class folders are named
"<label>-<name>" so that their sorted order is the label order. --jpeg-reference needs Pillow: it
writes JPEG files instead, at sizes other than 32x32 (so resnetc must resize and crop them), and
writes REFERENCE_DIR/test_batch.bin, a CIFAR-10 batch of the pixels Pillow decodes from those files
after torchvision's Resize(32) and CenterCrop(32): the reference resnetc's decoding must match.
"""
import argparse
import gzip
import os
import struct
import sys
import zlib


def png_bytes(pixels, width, height, channels):
    """A PNG file (8-bit grey or RGB) of row-major interleaved pixels."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    stride = width * channels
    raw = b"".join(b"\x00" + bytes(pixels[y * stride:(y + 1) * stride]) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0 if channels == 1 else 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def cifar10(directory, training):
    """(label, interleaved RGB bytes) of every record of a CIFAR-10 split."""
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] if training else ["test_batch.bin"]
    for name in names:
        data = open(os.path.join(directory, name), "rb").read()
        for offset in range(0, len(data), 3073):
            planes = data[offset + 1:offset + 3073]
            yield data[offset], bytes(planes[c * 1024 + p] for p in range(1024) for c in range(3))


def fashion(directory, training):
    """(label, grey bytes) of every image of a Fashion-MNIST split."""
    prefix = "train" if training else "t10k"
    def read(kind, header):
        base = os.path.join(directory, f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte")
        opener = gzip.open if os.path.exists(base + ".gz") else open
        with opener(base + ".gz" if os.path.exists(base + ".gz") else base, "rb") as f:
            return f.read()[header:]
    images, labels = read("images", 16), read("labels", 8)
    for i, label in enumerate(labels):
        yield label, images[i * 784:(i + 1) * 784]


DATASETS = {
    "cifar10": (cifar10, 32, 3, ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]),
    "fashion-mnist": (fashion, 28, 1, ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jpeg-reference", metavar="REFERENCE_DIR", help="write JPEGs of other sizes and Pillow's decoding of them")
    parser.add_argument("dataset", choices=sorted(DATASETS))
    parser.add_argument("source")
    parser.add_argument("root")
    parser.add_argument("--train-per-class", type=int, default=20)
    parser.add_argument("--test-limit", type=int)
    args = parser.parse_args()
    read, size, channels, names = DATASETS[args.dataset]
    if args.jpeg_reference:
        from PIL import Image  # only this mode needs Pillow
        reference = bytearray()
    for split, training in (("train", True), ("test", False)):
        counts = [0] * len(names)
        for index, (label, pixels) in enumerate(read(args.source, training)):
            if training and counts[label] >= args.train_per_class:
                continue
            if not training and args.test_limit is not None and index >= args.test_limit:
                break
            counts[label] += 1
            folder = os.path.join(args.root, split, f"{label}-{names[label]}")
            os.makedirs(folder, exist_ok=True)
            stem = os.path.join(folder, f"{index:05d}")
            if not args.jpeg_reference:
                with open(stem + ".png", "wb") as f:
                    f.write(png_bytes(pixels, size, size, channels))
                continue
            # Sizes that make resnetc both enlarge and shrink, wide and tall, odd crops included.
            mode = "L" if channels == 1 else "RGB"
            width, height = [(41, 37), (24, 30), (64, 48), (33, 32), (50, 75)][index % 5]
            image = Image.frombytes(mode, (size, size), pixels).resize((width, height), Image.BILINEAR)
            image.save(stem + ".jpg", quality=(60, 90, 95)[index % 3])
            if training:
                continue
            decoded = Image.open(stem + ".jpg").convert(mode)
            w, h = decoded.size  # torchvision: Resize(size) on the shorter side, then CenterCrop(size)
            new = (size, size * h // w) if w <= h else (size * w // h, size)
            decoded = decoded.resize(new, Image.BILINEAR) if new != decoded.size else decoded
            left, top = int(round((new[0] - size) / 2.0)), int(round((new[1] - size) / 2.0))
            decoded = decoded.crop((left, top, left + size, top + size))
            data = decoded.tobytes()
            reference += bytes([label]) + bytes(data[p * channels + c] for c in range(channels) for p in range(size * size))
        print(f"{split}: {sum(counts)} images in {len(names)} classes", file=sys.stderr)
    if args.jpeg_reference:
        os.makedirs(args.jpeg_reference, exist_ok=True)
        with open(os.path.join(args.jpeg_reference, "test_batch.bin"), "wb") as f:
            f.write(reference)


if __name__ == "__main__":
    main()
