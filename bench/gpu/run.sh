#!/usr/bin/env bash
# GPU report on a machine with no Node and no internet (x86-64 Linux, a GPU driver with a Vulkan ICD).
# Usage (inside the unpacked kit): bash run.sh [--quick] [gpu-bench options, e.g. --infer 96x128 --train 2x64]
# Env: OUT (report folder; gpu-report.json is written there), BUDGET (seconds, default 300),
#      VK_ICD_FILENAMES (an ICD to use instead of the NVIDIA one found here).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BUDGET=${BUDGET:-300}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
REPORT_DIR=${OUT:-$WORK}
mkdir -p "$REPORT_DIR"

unxz_to() { # $1 source .xz, $2 destination
  if command -v xz >/dev/null 2>&1; then xz -dc "$1" > "$2"
  elif command -v python3 >/dev/null 2>&1; then python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"
  else echo "FAILED: neither xz nor python3 to unpack $1" >&2; return 1; fi
}

echo "== unpacking (node, dawn.node)"
unxz_to "$HERE/node.xz" "$WORK/node" && chmod +x "$WORK/node" || exit 1
mkdir -p "$WORK/app"
cp -r "$HERE/app/." "$WORK/app/"
unxz_to "$HERE/app/node_modules/webgpu/dist/linux-x64/dawn.node.xz" "$WORK/app/node_modules/webgpu/dist/linux-x64/dawn.node" || exit 1
"$WORK/node" --version || { echo "FAILED: the kit's node does not run here"; exit 1; }

echo "== GPU and Vulkan"
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then
  echo "no system Vulkan loader: using the kit's"
  export LD_LIBRARY_PATH="$HERE/vulkan/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libGLdispatch.so.0 ' && ls "$HERE"/gl/*.deb >/dev/null 2>&1; then
  echo "no system GL dispatch library: using the kit's"
  for f in "$HERE"/gl/*.deb; do dpkg -x "$f" "$WORK/gl"; done
  export LD_LIBRARY_PATH="$WORK/gl/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
[ -d /usr/local/nvidia/lib64 ] && export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/usr/local/nvidia/lib64"
if [ -z "${VK_ICD_FILENAMES:-}" ]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json; do
    if [ -f "$icd" ]; then export VK_ICD_FILENAMES="$icd" VK_DRIVER_FILES="$icd"; break; fi
  done
fi
echo "VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-<loader default>}"
ls /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null | tr '\n' ' '; echo
[ -n "${VK_ICD_FILENAMES:-}" ] && cat "$VK_ICD_FILENAMES" 2>/dev/null | tr -d '\n' && echo

if command -v python3 >/dev/null 2>&1 && python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
  echo "== PyTorch peer on CUDA (same network, same call)"
  timeout 180 python3 "$HERE/peer/torch_gpu_peer.py" "$HERE/models/EResFD-original.pth" "$HERE/peer/table.json" "$REPORT_DIR/torch-gpu.json" \
    || echo "FAILED: PyTorch peer"
else
  echo "== no PyTorch with CUDA here: no peer figures"
fi

echo "== bench (time limit ${BUDGET} s; the report is written after every measurement)"
timeout --kill-after=10 "$BUDGET" "$WORK/node" "$WORK/app/gpu-bench.mjs" --models "$HERE/models" --out "$REPORT_DIR/gpu-report.json" "$@"
rc=$?
[ $rc -eq 124 ] && echo "FAILED: time limit of ${BUDGET} s reached; partial report kept"
if [ -f "$REPORT_DIR/gpu-report.json" ] && grep -q '"adapter": "' "$REPORT_DIR/gpu-report.json"; then
  echo "hint: no adapter — check the ICD above (its library_path must load: ldd on it) or set VK_ICD_FILENAMES"
fi
[ -f "$REPORT_DIR/gpu-report.json" ] && { echo "== $REPORT_DIR/gpu-report.json"; cat "$REPORT_DIR/gpu-report.json"; }
exit $rc
