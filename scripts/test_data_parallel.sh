#!/usr/bin/env bash
# Data-parallel training under Open MPI on this machine (loopback), against one process:
#  1. With train.sync_bn, one step on 2 ranks × 64 images equals one step of 1 process × 128 on
#     every parameter and running statistic (1e-5); without it the running statistics differ, so
#     the comparison can fail.
#  2. A 2-rank sync_bn run killed after its first checkpoint resumes on 1 rank (a checkpoint does
#     not depend on the number of ranks) and ends near an uninterrupted 1-process run: within
#     1e-3, since rounding differences of 1e-8 in the first step grow about twofold a step in a
#     freshly initialised net (measured: 1e-7 after 2 steps, 1e-4 after 16).
#  3. A global batch that does not divide among the ranks stops every rank with one message.
#  4. An ablation on 2 ranks: a diverging variant (seen by both ranks at once) is recorded as
#     failed while the other finishes, rank 0 writes the results, and a re-run keeps both.
# Skipped, saying why, where Open MPI is missing or cannot start two ranks.
# Usage: scripts/test_data_parallel.sh [resnetc binary]
set -euo pipefail
cd "$(dirname "$0")/.."
resnetc=$(realpath "${1:-.build/release/resnetc}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! command -v mpirun > /dev/null; then echo "data-parallel tests skipped: no mpirun (apt-get install openmpi-bin)"; exit 0; fi
mpi=(mpirun --oversubscribe -np 2)
[ "$(id -u)" -eq 0 ] && mpi=(mpirun --allow-run-as-root --oversubscribe -np 2)
[ -n "${RESNETC_CACHE:-}" ] && mpi+=(-x RESNETC_CACHE)
if ! timeout 60 "${mpi[@]}" true > "$work/mpi.log" 2>&1; then
  echo "data-parallel tests skipped: mpirun cannot start 2 ranks here:"; tail -3 "$work/mpi.log"; exit 0
fi
spec=specs/fashion-resnet20.yaml
step=(run "$spec" --limit 128 --test-limit 100 --epochs 1 --threads 1)

"$resnetc" "${step[@]}" --set train.sync_bn=true --out "$work/one" > /dev/null
timeout 300 "${mpi[@]}" "$resnetc" "${step[@]}" --set train.sync_bn=true --out "$work/two" > /dev/null
python3 scripts/compare_weights.py "$work/one/weights.safetensors" "$work/two/weights.safetensors" --tolerance 1e-5 \
  --what "one step, sync_bn: 2 ranks × 64 vs 1 process × 128"
timeout 300 "${mpi[@]}" "$resnetc" "${step[@]}" --out "$work/two-local" > /dev/null
if python3 scripts/compare_weights.py "$work/one/weights.safetensors" "$work/two-local/weights.safetensors" --tolerance 1e-5 > "$work/local.log" 2>&1; then
  echo "per-rank batch norm should differ from one process on the whole batch:"; cat "$work/local.log"; exit 1
fi
echo "without sync_bn the ranks' batch statistics differ from the whole batch's: $(tail -1 "$work/local.log" | sed 's/.*: //')"

# Killed after the first of 2 epochs on 2 ranks, resumed on 1: near the end of 1 process throughout.
long=(run "$spec" --limit 1024 --test-limit 100 --epochs 2 --threads 1 --set train.sync_bn=true --set train.lr=0.002 --set train.warmup=null)
"$resnetc" "${long[@]}" --out "$work/straight" > /dev/null
"${mpi[@]}" "$resnetc" "${long[@]}" --out "$work/moved" > "$work/moved.log" 2>&1 &
job=$!
for ((i = 0; i < 3000; i++)); do  # at most 10 minutes
  [ "$( (wc -l < "$work/moved/metrics.csv") 2>/dev/null || echo 0)" -ge 2 ] && break
  kill -0 "$job" 2>/dev/null || break
  sleep 0.2
done
# The ranks die (mpirun, told to stop, lets them finish the epoch first); mpirun ends the job.
pkill -KILL -P "$job" 2>/dev/null || true
wait "$job" 2>/dev/null || true
rows=$(($(wc -l < "$work/moved/metrics.csv") - 1))
if [ "$rows" -ge 2 ] || [ -e "$work/moved/weights.safetensors" ]; then
  echo "the 2-rank run finished before it could be interrupted ($rows epochs)"; exit 1
fi
"$resnetc" "${long[@]}" --out "$work/moved" --resume > /dev/null
python3 scripts/compare_weights.py "$work/straight/weights.safetensors" "$work/moved/weights.safetensors" --tolerance 1e-3 \
  --what "2 epochs, sync_bn: 2 ranks for $rows, resumed on 1, vs 1 process throughout"
[ "$(wc -l < "$work/moved/metrics.csv")" -eq 3 ] || { echo "the resumed run's metrics.csv should hold 2 epochs"; exit 1; }

set +e
out=$(timeout 300 "${mpi[@]}" "$resnetc" run "$spec" --limit 130 --set train.batch_size=127 --epochs 1 --threads 1 --out "$work/odd" 2>&1)
status=$?
set -e
if [ "$status" -eq 0 ] || [ "$(grep -c "does not divide among 2 ranks" <<<"$out")" -ne 1 ]; then
  echo "an odd global batch on 2 ranks should stop the job with one message, got exit $status:"; echo "$out" | tail -5; exit 1
fi
echo "an odd global batch on 2 ranks: stopped with one message"

# An ablation on 2 ranks: one variant finishes, one diverges; a re-run keeps both.
ablate=(ablate "$spec" --vary train.lr=0.05,1e6 --set train.warmup=null --limit 256 --test-limit 50 --epochs 1 --threads 1 --out "$work/grid")
set +e; timeout 600 "${mpi[@]}" "$resnetc" "${ablate[@]}" > "$work/grid.log" 2>&1; status=$?; set -e
python3 - "$work/grid/results.csv" "$status" <<'PYEOF'
import csv, sys
rows = {r["variant"]: r for r in csv.DictReader(open(sys.argv[1]))}
statuses = sorted(r["status"] for r in rows.values())
assert sys.argv[2] == "1" and statuses == ["failed", "finished"], (sys.argv[2], rows)
print("ablate on 2 ranks: the diverging variant failed on both ranks together, the other finished; rank 0 wrote results.csv")
PYEOF
timeout 600 "${mpi[@]}" "$resnetc" "${ablate[@]}" > "$work/grid2.log" 2>&1 || true
[ "$(grep -c "kept" "$work/grid2.log")" -eq 2 ] || { echo "a re-run on 2 ranks should keep both variants:"; tail -5 "$work/grid2.log"; exit 1; }
echo "ablate on 2 ranks again: both variants kept"
