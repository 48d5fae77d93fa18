#!/usr/bin/env bash
# Assembles the GPU report kit: a self-contained folder (default .gpu-kit/, git-ignored) for a GPU
# machine with no Node and no internet. Contents: Node (xz), the GPU bench bundled by esbuild, Dawn's
# linux-x64 dawn.node (xz), the Vulkan loader (Debian's libvulkan1, unpacked), the original and 50 %
# checkpoints (licensed: only ever in this ignored folder) and run.sh. Usage: bash bench/gpu/pack.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KIT=${KIT:-$ROOT/.gpu-kit}
SHARED=${BFPGM_SHARED:-$ROOT/../shared}
NODE_BIN=${NODE_BIN:-$(command -v node)}
CACHE=$ROOT/node_modules/.cache/gpu-kit
cd "$ROOT"
rm -rf "$KIT"
mkdir -p "$KIT/app/node_modules/webgpu/dist/linux-x64" "$KIT/models" "$KIT/vulkan" "$KIT/gl" "$KIT/peer" "$CACHE"

# Node: xz of a 99 MB standalone binary takes a while on a busy machine, so it is cached by version.
NODE_VERSION=$("$NODE_BIN" --version)
if [ ! -s "$CACHE/node-$NODE_VERSION.xz" ]; then
  echo "compressing $NODE_BIN ($NODE_VERSION)…"
  xz -T0 -6 -c "$NODE_BIN" > "$CACHE/node-$NODE_VERSION.xz.tmp" && mv "$CACHE/node-$NODE_VERSION.xz.tmp" "$CACHE/node-$NODE_VERSION.xz"
fi
cp "$CACHE/node-$NODE_VERSION.xz" "$KIT/node.xz"

echo "bundling bench/gpu/gpu-bench.ts…"
# `webgpu` stays outside the bundle: it loads dawn.node from its own folder.
node_modules/.bin/esbuild bench/gpu/gpu-bench.ts --bundle --platform=node --format=esm --target=node20 \
  --outfile="$KIT/app/gpu-bench.mjs" --external:webgpu --log-level=warning \
  --banner:js="import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$KIT/app/node_modules/webgpu/"
xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$KIT/app/node_modules/webgpu/dist/linux-x64/dawn.node.xz"

# Vulkan loader for machines that only have the NVIDIA driver's ICD: Debian's package, unpacked.
DEB_DIR=$(mktemp -d)
if (cd "$DEB_DIR" && apt-get download libvulkan1 >/dev/null 2>&1); then
  dpkg -x "$DEB_DIR"/libvulkan1_*.deb "$KIT/vulkan"
else
  echo "apt-get download libvulkan1 failed: using Chromium's copy of the loader" >&2
  mkdir -p "$KIT/vulkan/usr/lib/x86_64-linux-gnu"
  cp /usr/lib/chromium/libvulkan.so.1 "$KIT/vulkan/usr/lib/x86_64-linux-gnu/"
fi
rm -rf "$DEB_DIR"

# GL dispatch libraries: NVIDIA's Vulkan ICD (libGLX_nvidia) needs libGLdispatch, which a bare CUDA image lacks.
(cd "$KIT/gl" && apt-get download libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2 >/dev/null 2>&1) \
  || echo "apt-get download of the GL dispatch libraries failed: the kit relies on the machine's" >&2

# The PyTorch peer (same network from the SPEC, CUDA): run next to the WebGPU figures when torch sees a GPU.
cp bench/peers/eresfd_torch.py bench/gpu/torch_gpu_peer.py "$KIT/peer/"
node_modules/.bin/tsx bench/gpu/write-table.ts "$KIT/peer/table.json"

for m in EResFD-original.pth EResFD-50-pruned.pth; do cp "$SHARED/models/$m" "$KIT/models/"; done
cp bench/gpu/run.sh "$KIT/run.sh"
chmod +x "$KIT/run.sh"
du -sh "$KIT"
echo "kit ready: $KIT — on the GPU machine: bash run.sh [--quick]"
