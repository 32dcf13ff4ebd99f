#!/usr/bin/env bash
# The whole test suite: installs what the tests need, runs the Swift tests, checks every spec in
# specs/, and runs the PyTorch cross-check (which skips itself when torch is not installed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
swift test --skip-build
.build/release/resnetc check specs/*.yaml
if [ -f scripts/crosscheck_torch.py ]; then
  python3 scripts/crosscheck_torch.py --resnetc .build/release/resnetc
fi
