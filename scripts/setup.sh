#!/usr/bin/env bash
# Installs what resnetc needs on a fresh Debian machine (libyaml, zlib, libpng, libjpeg-turbo, Open MPI, the Fashion-MNIST package,
# a C compiler) and builds the release binary at .build/release/resnetc.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libyaml-dev zlib1g-dev libssl-dev libpng-dev libjpeg62-turbo-dev librsvg2-bin openmpi-bin dataset-fashion-mnist gcc pkg-config python3)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
swift build -c release --product resnetc 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
test -x .build/release/resnetc
