#!/usr/bin/env bash
# The whole test suite: installs what the tests need, runs the Swift tests, checks every spec in
# specs/, resumes a killed run and a killed ablation, tries every user error, and runs the ONNX export check and the
# PyTorch cross-check (which skip themselves when onnxruntime or torch is not installed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# A private compile cache, so every test really runs the C compiler.
export RESNETC_CACHE="$(mktemp -d)"
trap 'rm -rf "$RESNETC_CACHE"' EXIT
swift build --build-tests
swift test --skip-build
.build/release/resnetc check specs/*.yaml
# Every broken spec must fail `check` with exit status 1 and a located error.
for f in specs/invalid/*.yaml; do
  set +e; out=$(.build/release/resnetc check "$f" 2>&1); status=$?; set -e
  if [ "$status" -ne 1 ] || ! grep -qE "^$f:[0-9]+:[0-9]+: error: " <<<"$out"; then
    echo "resnetc check $f: expected exit 1 and a located error, got exit $status:"; echo "$out"; exit 1
  fi
done
echo "resnetc check: $(ls specs/invalid/*.yaml | wc -l) invalid specs rejected with located errors"
# Every spec in specs/ compiles to an artifact and predicts two images from it.
work=$(mktemp -d)
trap 'rm -rf "$work" "$RESNETC_CACHE"' EXIT
# A freshly He-initialised ResNet-1202 overflows float32 in evaluation mode (each of its 600
# blocks adds a unit-variance branch, so activations grow as 2^600): its logits are refused as
# non-finite, naming the image; with each block's last BN at zero it starts as the identity.
set +e; out=$(.build/release/resnetc predict specs/cifar-resnet1202.yaml --input <(python3 scripts/random_images.py /dev/stdout 1 3 32 32) \
  --output "$work/y.npy" 2>&1); status=$?; set -e
if [ "$status" -ne 1 ] || ! grep -q "the logits of image 0 are not finite" <<<"$out"; then
  echo "an overflowing ResNet-1202 should be refused naming the image, got exit $status: $out"; exit 1
fi
for f in specs/*.yaml; do
  name=$(basename "$f" .yaml)
  init=()
  [ "$name" = cifar-resnet1202 ] && init=(--set init.zero_init_last_bn=true)
  .build/release/resnetc compile "$f" "${init[@]}" -o "$work/$name" > "$work/$name.log"
  read -r c h w < <(python3 -c "import json; print(*json.load(open('$work/$name/manifest.json'))['input'])")
  python3 scripts/random_images.py "$work/x.npy" 2 "$c" "$h" "$w"
  .build/release/resnetc predict "$work/$name" --input "$work/x.npy" --output "$work/y.npy"
  echo "compile+predict $name: $(cat "$work/$name.log")"
done
# Training resumes exactly after kill -9: a run killed during its third epoch and resumed ends
# with the same weights, byte for byte, as a run that was never interrupted.
run=(.build/release/resnetc run specs/fashion-resnet20.yaml --limit 1024 --test-limit 200 --epochs 4 --threads 2)
"${run[@]}" --out "$work/straight" > "$work/straight.log"
"${run[@]}" --out "$work/killed" > "$work/killed.log" &
pid=$!
# Kill it once its second epoch is saved (header + 2 rows), waiting 10 minutes at most.
for ((i = 0; i < 3000; i++)); do
  [ "$( (wc -l < "$work/killed/metrics.csv") 2>/dev/null || echo 0)" -ge 3 ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
sleep 0.3
kill -9 "$pid" 2>/dev/null || true
set +e; wait "$pid"; status=$?; set -e
if [ "$status" -ne 137 ] || [ -e "$work/killed/weights.safetensors" ]; then
  echo "the run to be killed was not interrupted by kill -9 (exit $status):"; cat "$work/killed.log"; exit 1
fi
rows=$(($(wc -l < "$work/killed/metrics.csv") - 1))
"${run[@]}" --out "$work/killed" --resume > "$work/resumed.log"
cmp "$work/straight/weights.safetensors" "$work/killed/weights.safetensors"
# Every metrics row but its wall-clock seconds is the same too, and no row is duplicated.
cmp <(cut -d, -f1-8 "$work/straight/metrics.csv") <(cut -d, -f1-8 "$work/killed/metrics.csv")
echo "resume after kill -9 (killed with $rows epochs saved): weights and metrics identical to the uninterrupted run"
# Image folders (PNG, JPEG, grey and colour) against the binary datasets and Pillow; a training
# run on a small folder; eval --report, compile and predict --image with the folder's class names.
scripts/test_image_folders.sh .build/release/resnetc
# Data-parallel training under mpirun on loopback: sync batch norm on 2 ranks equals 1 process,
# a 2-rank checkpoint resumes on 1 (skipped where Open MPI cannot start).
scripts/test_data_parallel.sh .build/release/resnetc
# A tiny ablation, killed and run again: skipped, resumed and new variants, its table and curves.
scripts/test_ablation.sh .build/release/resnetc
# A diverging run stops with exit 1, naming what stopped being finite (the loss, or a parameter or
# running statistic, checked every epoch), the iteration and the checkpoint situation.
set +e
out=$(.build/release/resnetc run specs/fashion-resnet20.yaml --limit 512 --test-limit 100 --epochs 2 --set train.lr=1e6 --set train.warmup=null --out "$work/nan" 2>&1)
status=$?
set -e
if [ "$status" -ne 1 ] || ! grep -qE "(the loss|parameter '.*') is .* (at|after) iteration [0-9]+.*training stopped" <<<"$out"; then
  echo "a diverging run should stop with exit 1 naming the iteration, got exit $status:"; echo "$out"; exit 1
fi
echo "diverging run stopped: $(grep -oE "(the loss|parameter '.*') is .* (at|after) iteration [0-9]+" <<<"$out")"
# resnetc bench reports every field, for inference and for a training step.
for mode in "" --train; do
  .build/release/resnetc bench specs/cifar-resnet20.yaml --batch 4 --seconds 0.2 $mode --json | python3 -c '
import json, sys
report = json.loads(sys.stdin.read())
keys = {"median_ms", "images_per_s", "gflops", "peak_fraction", "peak_gflops", "vector_lanes", "arena_bytes", "peak_rss_bytes", "runs"}
assert keys <= report.keys() and all(report[k] > 0 for k in keys), report
print("bench'"${mode:+ $mode}"':", {k: report[k] for k in ("median_ms", "images_per_s", "peak_fraction", "vector_lanes")})'
done
# Every user mistake ends in a message, never a signal, and leaves the user's files alone.
scripts/test_user_errors.sh .build/release/resnetc
# The exported ONNX model gives resnetc's logits in ONNX Runtime.
python3 scripts/test_onnx_export.py .build/release/resnetc "$work"
python3 scripts/crosscheck_torch.py --resnetc .build/release/resnetc
