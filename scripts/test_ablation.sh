# A tiny ablation end to end (2 x 2 variants of the default spec, 4 epochs of 4 iterations on 512
# Fashion-MNIST images): interrupted by kill -9 during its second variant and run again, it skips
# the finished variant, resumes the interrupted one and runs the rest; a grown grid runs only its
# new variants; a bad shared --set leaves finished variants alone. Checks results.csv, results.md
# and curves.svg (every variant's two lines with one point per epoch), that the resumed variant
# equals its spec.yaml run alone with `resnetc run`, `resnetc report` over an ablation and a plain
# run (and never over a user's results.md), spec files as variants, and that a bad value and a
# diverging run fail their variants with their messages while the others run.
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
assert rows[0]["differences"] == "" and rows[3]["differences"] == "shortcut=B; train.lr=0.05", rows
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
# A bad shared --set on a finished grid refuses every variant and leaves their records alone.
set +e; out=$("${ablate[@]}" --set classes=ten 2>&1); status=$?; set -e
if [ "$status" -ne 1 ] || ! grep -q "left as it is" <<<"$out" || ! grep -q '"status" : "finished"' "$second/variant.json"; then
  echo "a bad --set should refuse the finished variants and keep their records, got exit $status:"; echo "$out"; cat "$second/variant.json"; exit 1
fi
echo "ablation: a bad --set refused the finished variants and left them finished"
# resnetc report: an ablation and a plain run together, and never over a user's own results.md.
"$resnetc" report "$work/ab" "$work/alone" --out "$work/both" > /dev/null
python3 - "$work/both/results.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 7 and rows[0]["variant"] == "ab/shortcut=A,train.lr=0.1" and rows[-1]["variant"] == "alone", [r["variant"] for r in rows]
assert rows[-1]["status"] == "finished" and rows[-1]["iterations"] == "16" and rows[-1]["final_test_error"] == rows[1]["final_test_error"], rows[-1]
PY
mkdir "$work/mine" && echo "my notes" > "$work/mine/results.md"
set +e; out=$("$resnetc" report "$work/alone" --out "$work/mine" 2>&1); status=$?; set -e
if [ "$status" -ne 1 ] || [ "$(cat "$work/mine/results.md")" != "my notes" ] || ! grep -q "resnetc did not write it" <<<"$out"; then
  echo "report should refuse to replace a user's results.md, got exit $status: $out"; exit 1
fi
echo "report: an ablation and a plain run in one table; a user's results.md left alone"
# Spec files as variants: what differs is measured from the first file.
printf 'extends: %s\nshortcut: B\n' "$PWD/specs/fashion-resnet20.yaml" > "$work/optionB.yaml"
printf 'extends: %s\nresidual: false\n' "$PWD/specs/fashion-resnet20.yaml" > "$work/plain.yaml"
"$resnetc" ablate "$work/optionB.yaml" "$work/plain.yaml" --epochs 1 --limit 256 --test-limit 100 --threads 2 --out "$work/files" > /dev/null
grep -q '^plain,shortcut=A; residual=false,finished,' "$work/files/results.csv" || { echo "spec-file variants:"; cat "$work/files/results.csv"; exit 1; }
echo "ablation: two spec files as variants, differences from the first"
# A value the schema refuses fails its variant before training, a diverging one during it, with
# their messages; the third variant still runs.
set +e
out=$("$resnetc" ablate specs/fashion-resnet20.yaml --vary train.lr=0.1,1e6,Z --set train.warmup=null --epochs 2 --limit 512 --test-limit 100 \
  --threads 2 --out "$work/bad" 2>&1)
status=$?
set -e
if [ "$status" -ne 1 ] || ! grep -q "^\[3/3 train.lr=Z\] failed: .*lr" <<<"$out" || ! grep -q "^\[2/3 train.lr=1e6\] failed: .* iteration [0-9]" <<<"$out" \
   || ! grep -q "^train.lr=0.1,.*,finished," "$work/bad/results.csv" || ! grep -q "^train.lr=1e6,.*,failed,.*iteration" "$work/bad/results.csv" \
   || ! grep -q "^train.lr=Z,.*,failed," "$work/bad/results.csv"; then
  echo "bad variants should fail alone with their messages, got exit $status:"; echo "$out"; cat "$work/bad/results.csv"; exit 1
fi
echo "ablation: a bad value and a diverging run failed with their messages, the other finished"
