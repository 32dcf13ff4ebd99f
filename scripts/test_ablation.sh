#!/usr/bin/env bash
# A tiny ablation end to end (2 x 2 variants of the default spec, 4 epochs of 4 iterations on 512
# Fashion-MNIST images): interrupted by kill -9 during its second variant and run again, it skips
# the finished variant, resumes the interrupted one and runs the rest; a grown grid runs only its
# new variants. Checks results.csv,
# results.md and curves.svg (every variant's two lines with one point per epoch), that the
# resumed variant's metrics equal its spec.yaml run alone with `resnetc run`, and that a bad
# value fails its variant with its message while the others run.
# Usage: scripts/test_ablation.sh path/to/resnetc
set -euo pipefail
resnetc=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
common=(--epochs 4 --limit 512 --test-limit 200 --threads 2)
ablate=("$resnetc" ablate specs/fashion-resnet20.yaml --vary shortcut=A,B --vary train.lr=0.1,0.05 "${common[@]}" --out "$work/ab")
"${ablate[@]}" > "$work/first.log" &
pid=$!
# Kill it once the second variant has saved its first epoch (header + 1 row), waiting 10 minutes at most.
second="$work/ab/shortcut=A,train.lr=0.05"
for ((i = 0; i < 12000; i++)); do
  [ "$( (wc -l < "$second/metrics.csv") 2>/dev/null || echo 0)" -ge 2 ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null || true
set +e; wait "$pid"; status=$?; set -e
if [ "$status" -ne 137 ] || [ -e "$second/weights.safetensors" ]; then
  echo "the ablation to be killed was not interrupted during its second variant (exit $status):"; cat "$work/first.log"; exit 1
fi
"${ablate[@]}" > "$work/second.log"
grep -q "^\[1/4 shortcut=A,train.lr=0.1\] finished earlier; kept" "$work/second.log" || { echo "variant 1 was not skipped:"; cat "$work/second.log"; exit 1; }
grep -q "^\[2/4 shortcut=A,train.lr=0.05\] resuming" "$work/second.log" || { echo "variant 2 was not resumed:"; cat "$work/second.log"; exit 1; }
# The interrupted variant, run alone from the spec.yaml written next to its results.
"$resnetc" run "$second/spec.yaml" "${common[@]}" --out "$work/alone" > "$work/alone.log"
cmp <(cut -d, -f1-8 "$second/metrics.csv") <(cut -d, -f1-8 "$work/alone/metrics.csv")
cmp "$second/weights.safetensors" "$work/alone/weights.safetensors"
python3 - "$work/ab" <<'PY'
import csv, os, sys, xml.etree.ElementTree as ET
root = sys.argv[1]
names = ["shortcut=A,train.lr=0.1", "shortcut=A,train.lr=0.05", "shortcut=B,train.lr=0.1", "shortcut=B,train.lr=0.05"]
rows = list(csv.DictReader(open(os.path.join(root, "results.csv"))))
assert [r["variant"] for r in rows] == names, [r["variant"] for r in rows]
for r in rows:
    assert r["status"] == "finished" and r["iterations"] == "16", r
    assert 0 <= float(r["final_test_error"]) <= 1 and float(r["best_test_error"]) <= float(r["final_test_error"]), r
    assert int(r["params"]) > 250000 and int(r["multiply_adds"]) > 0 and float(r["images_per_s"]) > 0, r
assert rows[0]["differences"] == "" and rows[3]["differences"] == "shortcut=B train.lr=0.05", rows
md = open(os.path.join(root, "results.md")).read().splitlines()
table = [l for l in md if l.startswith("| ") and not l.startswith("| variant")]
assert [l.split(" | ")[0][2:] for l in table] == names, table
svg = ET.parse(os.path.join(root, "curves.svg")).getroot()
ns = "{http://www.w3.org/2000/svg}"
lines = {(p.get("data-variant"), p.get("class")): p.get("points").split() for p in svg.iter(ns + "polyline")}
for name in names:
    epochs = len(open(os.path.join(root, name, "metrics.csv")).read().splitlines()) - 1
    for kind in ("train", "test"):
        assert len(lines[(name, kind)]) == epochs == 4, (name, kind, lines.get((name, kind)))
labels = [t.text for t in svg.iter(ns + "text")]
assert all(any(l and l.startswith(n + " ") for l in labels) for n in names), labels
print("ablation: 4 variants, 1 skipped and 1 resumed after kill -9, results.csv/md and curves.svg complete")
PY
# A grown grid runs only its new variants and keeps the old results, row for row.
head -5 "$work/ab/results.csv" > "$work/before.csv"
"$resnetc" ablate specs/fashion-resnet20.yaml --vary shortcut=A,B,C --vary train.lr=0.1,0.05 "${common[@]}" --out "$work/ab" > "$work/grown.log"
if [ "$(grep -c "finished earlier; kept" "$work/grown.log")" -ne 4 ] || [ "$(grep -c "^\"shortcut=.*,finished," "$work/ab/results.csv")" -ne 6 ] \
   || ! cmp -s "$work/before.csv" <(head -5 "$work/ab/results.csv"); then
  echo "a grown grid should run 2 new variants and keep 4:"; cat "$work/grown.log" "$work/ab/results.csv"; exit 1
fi
echo "ablation: a grown grid ran its 2 new variants and kept the 4 old results"
# A value the schema refuses fails its variant, with its message; the other variant still runs.
set +e
out=$("$resnetc" ablate specs/fashion-resnet20.yaml --vary shortcut=B,Z --epochs 1 --limit 256 --test-limit 100 --threads 2 --out "$work/bad" 2>&1)
status=$?
set -e
if [ "$status" -ne 1 ] || ! grep -q "^\[2/2 shortcut=Z\] failed: .*shortcut" <<<"$out" \
   || ! grep -q "^shortcut=B,.*,finished," "$work/bad/results.csv" || ! grep -q "^shortcut=Z,.*,failed," "$work/bad/results.csv"; then
  echo "a bad variant should fail alone with its message, got exit $status:"; echo "$out"; cat "$work/bad/results.csv"; exit 1
fi
echo "ablation: a bad variant failed with its message, the other finished"
