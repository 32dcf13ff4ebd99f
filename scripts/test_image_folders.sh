#!/usr/bin/env bash
# Image folders against independent truth, end to end through the release binary:
#  1. CIFAR-10's test set written as PNG files gives exactly the binary set's accuracy with the
#     pretrained ResNet-20 (91.73%): decoding, channel order and normalisation are right.
#  2. A grey Fashion-MNIST folder of a few hundred images trains end to end; its test folder
#     evaluates exactly as the same images from the IDX files; eval --report, compile and
#     predict --image carry the folder's class names, and predict --image gives the logits
#     predict --input gives for the same pixels.
#  3. JPEG files of other sizes (needing resize and crop) evaluate exactly as Pillow's decoding
#     and torchvision's Resize + CenterCrop of them (skipped without Pillow).
# Usage: scripts/test_image_folders.sh [resnetc binary]
set -euo pipefail
cd "$(dirname "$0")/.."
resnetc=$(realpath "${1:-.build/release/resnetc}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cifar=../shared/data/cifar10
pretrained=../shared/data/pretrained/cifar-resnet20-akamaster.safetensors
imagenet=(--set 'data.mean=[0.485,0.456,0.406]' --set 'data.std=[0.229,0.224,0.225]')

# same_result A.json B.json WHAT: equal top-1, top-5 and image count, loss to 1e-9 (images are
# summed in another order: by class in a folder, by record in a binary file).
same_result() {
  python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert (a["top1"], a["top5"], a["images"]) == (b["top1"], b["top5"], b["images"]) and abs(a["loss"] - b["loss"]) < 1e-9, (a, b)
print(f"{sys.argv[3]}: top-1 {100 * a['top1']:.2f}% on {a['images']} images, identical")
EOF
}

if [ -f "$cifar/test_batch.bin" ] && [ -f "$pretrained" ]; then
  python3 scripts/make_image_folder.py cifar10 "$cifar" "$work/cifar-png" --train-per-class 2
  "$resnetc" eval specs/cifar-resnet20.yaml --weights "$pretrained" "${imagenet[@]}" --dataset "folder:$work/cifar-png" --json > "$work/folder.json"
  "$resnetc" eval specs/cifar-resnet20.yaml --weights "$pretrained" "${imagenet[@]}" --dataset "cifar10:$cifar" --json > "$work/binary.json"
  same_result "$work/folder.json" "$work/binary.json" "CIFAR-10 test set as PNG files vs the binary batch"
  python3 -c "import json, sys; r = json.load(open(sys.argv[1])); assert r['top1'] == 0.9173, r" "$work/folder.json"
else
  echo "CIFAR-10 PNG check skipped: $cifar or $pretrained is missing"
fi

fashion=/usr/share/datasets/fashion-mnist
spec=specs/fashion-resnet20.yaml
python3 scripts/make_image_folder.py fashion-mnist "$fashion" "$work/fashion-png" --train-per-class 40 --test-limit 1000
"$resnetc" run "$spec" --dataset "folder:$work/fashion-png" --epochs 2 --threads 2 --out "$work/fashion-run" > "$work/run.log"
weights="$work/fashion-run/weights.safetensors"
echo "trained on a 400-image folder: $(tail -1 "$work/run.log")"
"$resnetc" eval "$spec" --weights "$weights" --dataset "folder:$work/fashion-png" --json --report "$work/report" > "$work/folder.json"
"$resnetc" eval "$spec" --weights "$weights" --dataset fashion-mnist --limit 1000 --json > "$work/idx.json"
same_result "$work/folder.json" "$work/idx.json" "Fashion-MNIST test images as grey PNG files vs the IDX files"
python3 - "$work/report" <<'EOF'
import csv, sys, xml.etree.ElementTree as ET
report = sys.argv[1]
rows = list(csv.reader(open(f"{report}/per_class.csv")))
assert rows[0] == ["class", "precision", "recall", "f1", "support"] and len(rows) == 11, rows
assert rows[1][0] == "0-T-shirt_top" and sum(int(r[4]) for r in rows[1:]) == 1000, rows
matrix = list(csv.reader(open(f"{report}/confusion.csv")))
assert len(matrix) == 11 and sum(int(v) for r in matrix[1:] for v in r[1:]) == 1000
texts = [t.text for t in ET.parse(f"{report}/confusion.svg").iter("{http://www.w3.org/2000/svg}text")]
assert all(texts.count(r[0]) == 2 for r in rows[1:]), "every class names a row and a column of the heat map"
print("eval --report: 10 classes by folder name, 1000 images in per_class.csv, confusion.csv and confusion.svg")
EOF
if command -v rsvg-convert > /dev/null; then rsvg-convert "$work/report/confusion.svg" -o "$work/confusion.png"; fi

# predict --image on an artifact gives, for each image, the softmax of the logits predict --input
# gives for the same pixels normalised by hand, with the folder's class names.
"$resnetc" compile "$spec" --weights "$weights" -o "$work/artifact" > /dev/null
images=("$work"/fashion-png/test/3-Dress/*.png)
"$resnetc" predict "$work/artifact" --image "${images[0]}" "${images[1]}" --top 3 --json > "$work/predictions.json"
python3 - "$work" "${images[0]}" "${images[1]}" <<'EOF'
import json, struct, sys, zlib
work, files = sys.argv[1], sys.argv[2:]
manifest = json.load(open(f"{work}/artifact/manifest.json"))
mean, std = manifest["data"]["mean"][0], manifest["data"]["std"][0]
def grey_png(path):  # the 8-bit grey PNGs make_image_folder.py writes: one IDAT, filter 0 rows
    data = open(path, "rb").read()
    width, height = struct.unpack(">II", data[16:24])
    raw = zlib.decompress(data[data.index(b"IDAT") + 4:data.index(b"IEND") - 8])
    return [raw[y * (width + 1) + 1 + x] for y in range(height) for x in range(width)]
values = [(p / 255 - mean) / std for f in files for p in grey_png(f)]
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 1, 28, 28), }" % len(files)
header += " " * (63 - len(header)) + "\n"
open(f"{work}/x.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + struct.pack(f"<{len(values)}f", *values))
EOF
"$resnetc" predict "$work/artifact" --input "$work/x.npy" --output "$work/y.npy"
python3 - "$work" <<'EOF'
import json, math, struct, sys
work = sys.argv[1]
predictions = json.load(open(f"{work}/predictions.json"))
classes = json.load(open(f"{work}/artifact/manifest.json"))["data"]["classes"]
data = open(f"{work}/y.npy", "rb").read()
length = struct.unpack("<H", data[8:10])[0]
logits = struct.unpack(f"<{(len(data) - 10 - length) // 4}f", data[10 + length:])
for row, prediction in enumerate(predictions):
    scores = logits[row * 10:(row + 1) * 10]
    top = max(scores)
    probabilities = [math.exp(s - top) for s in scores]
    total = sum(probabilities)
    expected = sorted(range(10), key=lambda c: -scores[c])[:3]
    assert [c["index"] for c in prediction["top"]] == expected, (prediction, scores)
    for choice in prediction["top"]:
        assert choice["class"] == classes[choice["index"]]
        assert abs(choice["probability"] - probabilities[choice["index"]] / total) < 1e-6, (choice, scores)
print(f"predict --image: top-3 classes and probabilities equal predict --input's logits; first image is {predictions[0]['top'][0]['class']}")
EOF

if python3 -c "import PIL" 2> /dev/null && [ -f "$cifar/test_batch.bin" ] && [ -f "$pretrained" ]; then
  python3 scripts/make_image_folder.py --jpeg-reference "$work/pillow" cifar10 "$cifar" "$work/cifar-jpeg" --train-per-class 1 --test-limit 500
  "$resnetc" eval specs/cifar-resnet20.yaml --weights "$pretrained" "${imagenet[@]}" --dataset "folder:$work/cifar-jpeg" --json > "$work/jpeg.json"
  "$resnetc" eval specs/cifar-resnet20.yaml --weights "$pretrained" "${imagenet[@]}" --dataset "cifar10:$work/pillow" --json > "$work/pillow.json"
  same_result "$work/jpeg.json" "$work/pillow.json" "JPEG files of other sizes vs Pillow's decoding, Resize and CenterCrop of them"
else
  echo "JPEG check against Pillow skipped: Pillow (pip install pillow) or the CIFAR-10 data is missing"
fi
