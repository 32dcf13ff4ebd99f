#!/usr/bin/env bash
# The whole test suite: installs what the tests need, runs the Swift tests, checks every spec in
# specs/, and runs the PyTorch cross-check (which skips itself when torch is not installed).
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
for f in specs/*.yaml; do
  name=$(basename "$f" .yaml)
  .build/release/resnetc compile "$f" -o "$work/$name" > "$work/$name.log"
  read -r c h w < <(python3 -c "import json; print(*json.load(open('$work/$name/manifest.json'))['input'])")
  python3 scripts/random_images.py "$work/x.npy" 2 "$c" "$h" "$w"
  .build/release/resnetc predict "$work/$name" --input "$work/x.npy" --output "$work/y.npy"
  echo "compile+predict $name: $(cat "$work/$name.log")"
done
python3 scripts/crosscheck_torch.py --resnetc .build/release/resnetc
