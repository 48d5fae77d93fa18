#!/usr/bin/env bash
# Outcome probes side by side, one per core, each bounded by LIMIT seconds (inside the kit of pack-probes.sh):
# each recipe and ablation at a fraction of the laptop budget, and the reference checkpoints, AP on the kit's val
# images. Rows -> $OUT/rows.jsonl, logs -> $OUT/probes.log. Usage: OUT=dir LIMIT=490 bash probes.sh
HERE=$(cd "$(dirname "$0")" && pwd)
LIMIT=${LIMIT:-480}
W=$(mktemp -d)
python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$HERE/node.xz" "$W/node" && chmod +x "$W/node"
"$W/node" --version || exit 1
nproc; grep -m1 "model name" /proc/cpuinfo
S="--shared $HERE/shared --rows $OUT/rows.jsonl"
P() { name=$1; shift; (timeout "$LIMIT" "$W/node" "$HERE/app/probe.mjs" --name "$name" $S "$@" > "$W/$name.log" 2>&1; echo "== $name rc=$?" >> "$W/$name.log") & }
P ref-orig --reference EResFD-original.pth
P ref-30 --reference EResFD-30-pruned.pth
P ref-50 --reference EResFD-50-pruned.pth
P L30-f025 --target 0.3 --scale 0.25 --images 200
P L30-f05 --target 0.3 --scale 0.5 --images 200
P L30-f1 --target 0.3 --scale 1 --images 200
P L30-f05-nodistill --target 0.3 --scale 0.5 --images 200 --no-distill
P L30-f05-norecal --target 0.3 --scale 0.5 --images 200 --no-recal
P L30-f05-reference --target 0.3 --scale 0.5 --images 200 --mode reference
P L30-f05-lr1e3 --target 0.3 --scale 0.5 --images 200 --lr 0.001
P P30-f05 --target 0.3 --scale 0.5 --images 200 --recipe paper-at-budget
P L50-f025 --target 0.5 --scale 0.25 --images 200
P L50-f05 --target 0.5 --scale 0.5 --images 200
P L50-f1 --target 0.5 --scale 1 --images 200
P L50-f05-nodistill --target 0.5 --scale 0.5 --images 200 --no-distill
P P50-f05 --target 0.5 --scale 0.5 --images 200 --recipe paper-at-budget
wait
cat "$W"/*.log > "$OUT/probes.log"
grep -h "stage\|epoch\|FAILED\|rc=" "$W"/*.log | tail -80
echo "== rows"; cat "$OUT/rows.jsonl" 2>/dev/null
