#!/usr/bin/env bash
# Hostile but realistic use of the release binary: every mistake a user can make must end with
# exit status 1 (or 64 for a malformed command line) and a sentence naming the file, key or
# flag, never with a signal, and must leave the user's files as they were.
# Usage: scripts/test_user_errors.sh [resnetc binary]
set -euo pipefail
cd "$(dirname "$0")/.."
resnetc=$(realpath "${1:-.build/release/resnetc}")
work=$(mktemp -d)
mounted=""
cleanup() { [ -z "$mounted" ] || umount "$mounted" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
passed=0 failed=0

# expect_failure NAME PATTERN COMMAND...: COMMAND fails with status 1 or 64 and prints PATTERN.
expect_failure() {
  local name=$1 pattern=$2 out status
  shift 2
  set +e; out=$("$@" 2>&1 </dev/null); status=$?; set -e
  if [ "$status" -ge 128 ]; then
    echo "FAIL $name: killed by signal $((status - 128))"; echo "$out" | tail -5; failed=$((failed + 1))
  elif [ "$status" -ne 1 ] && [ "$status" -ne 64 ] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL $name: exit $status, expected a message matching /$pattern/:"; echo "$out" | tail -5; failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
}

# expect_true NAME COMMAND...: a check on the file system after the failures above.
expect_true() {
  local name=$1
  shift
  if "$@"; then passed=$((passed + 1)); else echo "FAIL $name"; failed=$((failed + 1)); fi
}

spec=specs/fashion-resnet20.yaml
quick=(--limit 256 --test-limit 50 --epochs 1 --threads 2)

# compile -o never deletes what resnetc did not write.
mkdir -p "$work/app/src" && echo '{}' > "$work/app/manifest.json" && echo x > "$work/app/src/a.js"
expect_failure "compile into a project folder" "refusing to replace .*src" "$resnetc" compile "$spec" -o "$work/app"
expect_true "the project folder survives" test -f "$work/app/src/a.js"
"$resnetc" compile "$spec" -o "$work/artifact" --cflags "-O1" > /dev/null
echo notes > "$work/artifact/notes.txt"
expect_failure "compile over an artifact holding a user's file" "notes.txt" "$resnetc" compile "$spec" -o "$work/artifact"
expect_true "the user's file in the artifact survives" test -f "$work/artifact/notes.txt"
echo x > "$work/plainfile"
expect_failure "compile -o a file" "it is a file" "$resnetc" compile "$spec" -o "$work/plainfile"

# A run directory is resumed, restarted or refused; never overwritten, shared or half-resumed.
"$resnetc" run "$spec" "${quick[@]}" --out "$work/run" > /dev/null
expect_failure "run twice into one --out" "already holds a run.*--resume.*--restart" "$resnetc" run "$spec" "${quick[@]}" --out "$work/run"
expect_true "the first run's metrics are untouched" test "$(grep -c '' "$work/run/metrics.csv")" -eq 2
expect_failure "resume with another batch size" "train.batchSize: 128 in the checkpoint, 64 now" \
  "$resnetc" run "$spec" "${quick[@]}" --out "$work/run" --resume --set train.batch_size=64
expect_failure "resume with another seed" "seed: .* in the checkpoint, 5 now" "$resnetc" run "$spec" "${quick[@]}" --out "$work/run" --resume --seed 5
expect_failure "resume where nothing was saved" "nothing to resume" "$resnetc" run "$spec" "${quick[@]}" --out "$work/empty" --resume
expect_failure "--out is a file" "in the way" "$resnetc" run "$spec" "${quick[@]}" --out "$work/plainfile"
"$resnetc" run "$spec" --limit 4096 --test-limit 50 --epochs 20 --threads 1 --out "$work/busy" > /dev/null 2>&1 &
busy=$!
for ((i = 0; i < 600; i++)); do [ -s "$work/busy/.resnetc.lock" ] && break; sleep 0.1; done
expect_failure "two runs on one --out" "in use by another resnetc run" "$resnetc" run "$spec" "${quick[@]}" --out "$work/busy" --restart
kill -9 "$busy" 2>/dev/null || true
wait "$busy" 2>/dev/null || true
"$resnetc" run "$spec" "${quick[@]}" --out "$work/run" --restart > /dev/null
expect_true "--restart starts over: one metrics row" test "$(grep -c '' "$work/run/metrics.csv")" -eq 2

# NaN and inf never vanish.
python3 - "$work" <<'PY'
import json, struct, sys
work = sys.argv[1]
data = bytearray(open(f"{work}/run/weights.safetensors", "rb").read())
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
start = 8 + n + header["fc.weight"]["data_offsets"][0]
data[start + 12:start + 16] = struct.pack("<f", float("nan"))
open(f"{work}/nan.safetensors", "wb").write(data)
data[start + 12:start + 16] = struct.pack("<f", 0.5)
var = 8 + n + header["bn1.running_var"]["data_offsets"][0]
data[var:var + 4] = struct.pack("<f", -1.0)
open(f"{work}/negvar.safetensors", "wb").write(data)
magic = b"\x93NUMPY\x01\x00"
text = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 28, 28), }"
text += " " * (63 - (10 + len(text)) % 64) + "\n"
values = [0.0] * (2 * 784)
open(f"{work}/ok.npy", "wb").write(magic + struct.pack("<H", len(text)) + text.encode() + struct.pack(f"<{len(values)}f", *values))
values[784 + 5] = float("inf")
open(f"{work}/inf.npy", "wb").write(magic + struct.pack("<H", len(text)) + text.encode() + struct.pack(f"<{len(values)}f", *values))
import os
os.makedirs(f"{work}/empty-data")
for split in ["train", "t10k"]:
    open(f"{work}/empty-data/{split}-images-idx3-ubyte", "wb").write(struct.pack(">IIII", 0x803, 0, 28, 28))
    open(f"{work}/empty-data/{split}-labels-idx1-ubyte", "wb").write(struct.pack(">II", 0x801, 0))
PY
expect_failure "NaN weights" "fc.weight.*nan" "$resnetc" eval "$spec" --weights "$work/nan.safetensors" --limit 10
expect_failure "a negative running variance" "'bn1.running_var' holds the negative variance" \
  "$resnetc" predict "$spec" --weights "$work/negvar.safetensors" --input "$work/ok.npy" --output "$work/y.npy"
expect_failure "inf in predict's input" "image 1 holds inf" "$resnetc" predict "$work/artifact" --input "$work/inf.npy" --output "$work/y.npy"
expect_true "no output from a refused predict" test ! -e "$work/y.npy"

# An artifact's files are checked against its manifest before the library is loaded.
cp -r "$work/artifact" "$work/cut" && rm "$work/cut/notes.txt"
truncate -s 4000 "$work/cut/libmodel.so"
expect_failure "a truncated artifact library" "libmodel.so is not a usable library" \
  "$resnetc" predict "$work/cut" --input "$work/ok.npy" --output "$work/y.npy"
cp -r "$work/artifact" "$work/edited" && printf 'x' | dd of="$work/edited/weights.packed" bs=1 seek=100 conv=notrunc status=none
expect_failure "edited packed weights" "weights.packed does not match the SHA-256" \
  "$resnetc" predict "$work/edited" --input "$work/ok.npy" --output "$work/y.npy"
expect_failure "an empty --dataset" "unknown dataset ''" "$resnetc" eval "$spec" --dataset ""
expect_failure "--dataset fashion-mnist: with no directory" "empty directory" "$resnetc" eval "$spec" --dataset "fashion-mnist:"

# Command-line values that used to be misread or overflow.
expect_failure "--threads beyond 32 bits" "--threads must be from 1 to" "$resnetc" run "$spec" --threads 99999999999 --out "$work/x"
expect_failure "--epochs beyond 32 bits" "--epochs must be from 1 to" "$resnetc" run "$spec" --epochs 4294967297 --out "$work/x"
expect_failure "--batch beyond 32 bits" "--batch must be from 1 to" "$resnetc" predict "$work/artifact" --batch 4294967297 --input x --output y
expect_failure "a negative seed" "--seed must be from 0" "$resnetc" compile "$spec" --seed -1 -o "$work/x"
expect_failure "--set extends" "'extends' cannot be overridden" "$resnetc" check "$spec" --set extends=other.yaml
expect_true "check reads /dev/stdin" "$resnetc" check /dev/stdin < specs/cifar-resnet20.yaml > /dev/null
expect_failure "an over-long --out name" "File name too long" "$resnetc" run "$spec" "${quick[@]}" --out "$work/$(printf 'a%.0s' {1..300})"
expect_failure "an empty training split" "holds no images" "$resnetc" run "$spec" "${quick[@]}" --dataset "fashion-mnist:$work/empty-data" --out "$work/x"
expect_failure "an empty test split" "test split .* holds no images" "$resnetc" eval "$spec" --dataset "fashion-mnist:$work/empty-data"

# Ablations and reports: malformed grids, unreadable records and results files that are not resnetc's.
expect_failure "--vary without values" "--vary shortcut: expected KEY=V1,V2" "$resnetc" ablate "$spec" --vary shortcut --out "$work/ab"
expect_failure "--vary with an empty value" "none empty" "$resnetc" ablate "$spec" --vary shortcut=A,,B --out "$work/ab"
expect_failure "--vary naming a key twice" "names 'depth' twice" "$resnetc" ablate "$spec" --vary depth=20 --vary depth=32 --out "$work/ab"
expect_failure "ablate with nothing to vary" "nothing to vary" "$resnetc" ablate "$spec" --out "$work/ab"
expect_failure "--vary with several specs" "--vary varies one spec" "$resnetc" ablate "$spec" specs/cifar-resnet20.yaml --vary shortcut=A,B
mkdir -p "$work/ab-user" && echo "my table" > "$work/ab-user/results.csv"
expect_failure "ablate over a user's results.csv" "results.csv' exists and resnetc did not write it" \
  "$resnetc" ablate "$spec" --vary shortcut=A,B "${quick[@]}" --out "$work/ab-user"
expect_true "the user's results.csv survives, and nothing trained" test "$(cat "$work/ab-user/results.csv")" = "my table" -a ! -e "$work/ab-user/shortcut=A"
mkdir -p "$work/ab-bad" && echo '{"variants": ["../../etc"]}' > "$work/ab-bad/ablation.json"
expect_failure "an ablation.json naming a path" "ablation.json is not an ablation plan.*'../../etc'" "$resnetc" report "$work/ab-bad"
echo '{"variants": [' > "$work/ab-bad/ablation.json"
expect_failure "a truncated ablation.json" "ablation.json is not an ablation plan" "$resnetc" report "$work/ab-bad"
expect_failure "report on a directory with no run" "holds no run: it has no metrics.csv" "$resnetc" report "$work/app"
expect_failure "report on several directories without --out" "give --out" "$resnetc" report "$work/run" "$work/run"
expect_failure "report on a missing directory" "'$work/nowhere' is not a directory" "$resnetc" report "$work/nowhere"

# Full and read-only disks (needs root to mount a small tmpfs; said and skipped otherwise).
mkdir -p "$work/small"
if mount -t tmpfs -o size=1m tmpfs "$work/small" 2>/dev/null; then
  mounted="$work/small"
  expect_failure "compile onto a full disk" "No space left on device" "$resnetc" compile "$spec" -o "$work/small/model"
  expect_true "nothing half-written on the full disk" test -z "$(ls -A "$work/small")"
  mount -o remount,ro "$work/small"
  expect_failure "predict onto a read-only disk" "cannot write $work/small/y.npy: Read-only file system" \
    "$resnetc" predict "$work/artifact" --input "$work/ok.npy" --output "$work/small/y.npy"
  expect_failure "run onto a read-only disk" "Read-only file system" "$resnetc" run "$spec" "${quick[@]}" --out "$work/small/run"
else
  echo "skipped: full and read-only disk cases (mounting a tmpfs needs root)"
fi

# Datasets of the user's own: a missing folder, a broken image, a wrong class-names file, bad formats.
mkdir -p "$work/pics/train/cat" "$work/pics/test/cat" "$work/idx-empty" "$work/c100"
python3 - "$work/pics" <<'EOF'
import struct, sys, zlib
def png(path):
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + bytes([y * 8] * 28) for y in range(28))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for split in ("train", "test"):
    png(f"{sys.argv[1]}/{split}/cat/a.png")
EOF
cp "$work/pics/train/cat/a.png" "$work/cat.png"
head -c 100 "$work/cat.png" > "$work/pics/train/cat/cut.png"
expect_failure "train on a folder that does not exist" "folder:$work/nope: '$work/nope' does not exist" \
  "$resnetc" run "$spec" "${quick[@]}" --dataset "folder:$work/nope" --out "$work/run-nope"
expect_failure "train on a folder with a truncated image" "pics/train/cat/cut.png is not a decodable image.*--skip-bad" \
  "$resnetc" run "$spec" "${quick[@]}" --dataset "folder:$work/pics" --out "$work/run-cut"
expect_true "a refused folder run leaves no run directory" test ! -e "$work/run-cut/metrics.csv"
printf 'a\nb\n' > "$work/classes.txt"
expect_failure "class names that do not match the data" "classes.txt names 2 classes, one per line; the data has 10" \
  "$resnetc" eval "$spec" --classes "$work/classes.txt" --limit 10
expect_failure "an IDX directory without its files" "found no training images file" "$resnetc" eval "$spec" --dataset "idx:$work/idx-empty"
expect_failure "a CIFAR-100 directory without test.bin" "no readable test.bin" \
  "$resnetc" eval specs/cifar-resnet20.yaml --set classes=100 --dataset "cifar100:$work/c100"
expect_failure "an unknown dataset kind" "unknown dataset 'imagenet'" "$resnetc" eval "$spec" --dataset imagenet:/data
expect_failure "predict a text file as an image" "passwd is not a decodable image: it is neither PNG nor JPEG" \
  "$resnetc" predict "$spec" --image /etc/passwd
expect_failure "predict --image with a model that does not say its normalisation" "does not say how its inputs are normalised" \
  "$resnetc" predict specs/resnet18.yaml --set data.mean=null --set data.std=null --image "$work/cat.png"
expect_failure "predict --image and --input together" "one of them" "$resnetc" predict "$spec" --image "$work/cat.png" --input x.npy
mkdir -p "$work/my-report" && echo "my notes" > "$work/my-report/report.md"
expect_failure "eval --report into a folder holding the user's report.md" "my-report/report.md' exists and resnetc did not write it" \
  "$resnetc" eval "$spec" --limit 10 --report "$work/my-report"
expect_true "the user's report.md survives" grep -q "my notes" "$work/my-report/report.md"

echo "<svg>my drawing</svg>" > "$work/net.svg"
expect_failure "diagram -o over a user's SVG" "net.svg' exists and resnetc did not write it" "$resnetc" diagram "$spec" -o "$work/net.svg"
expect_true "the user's SVG survives" grep -q "my drawing" "$work/net.svg"

echo "user errors: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
