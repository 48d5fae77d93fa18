#!/usr/bin/env bash
# Assembles the outcome probe kit (default .outcome-kit/, git-ignored) for a many-core machine with no Node
# and no internet (e.g. the lent GPU box's 16 CPU cores): Node as xz, bench/outcome/probe.ts bundled by
# esbuild with TF.js's WASM binaries, the original and released 30/50 % checkpoints (references only), a
# WIDER subset small enough for a 64 MiB transfer (licensed data: only ever in this ignored folder) and
# probes.sh. Usage: bash bench/outcome/pack-probes.sh [TRAIN=200] [VAL=90]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KIT=${KIT:-$ROOT/.outcome-kit}
SHARED=${BFPGM_SHARED:-$ROOT/../shared}
cd "$ROOT"
rm -rf "$KIT"
mkdir -p "$KIT/app" "$KIT/shared/models"
# A stripped Node compresses ~2 MB smaller than the plain one: that is what makes the images fit.
strip -o "$KIT/node" "$(command -v node)" && xz -T0 -6 "$KIT/node"
node_modules/.bin/esbuild bench/outcome/probe.ts --bundle --platform=node --format=esm --target=node20 \
  --outfile="$KIT/app/probe.mjs" --log-level=error \
  --banner:js="import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);"
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm "$KIT/app/"
for m in EResFD-original.pth EResFD-30-pruned.pth EResFD-50-pruned.pth; do cp "$SHARED/models/$m" "$KIT/shared/models/"; done
node_modules/.bin/tsx bench/outcome/probe-subset.ts "$SHARED/widerface" "$KIT/shared/widerface" "${1:-200}" "${2:-90}"
cp bench/outcome/probes.sh "$KIT/probes.sh"
du -sb "$KIT"
