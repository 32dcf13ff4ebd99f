#!/usr/bin/env bash
# The whole test suite: installs what the tests need, runs the Swift tests, checks every spec in
# specs/, and runs the PyTorch cross-check (which skips itself when torch is not installed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
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
if [ -f scripts/crosscheck_torch.py ]; then
  python3 scripts/crosscheck_torch.py --resnetc .build/release/resnetc
fi
