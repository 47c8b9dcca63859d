#!/usr/bin/env bash
# Bi-Real Net 34 at 224×224: eval logits of a PyTorch-generated random checkpoint must match ours.
#   tools/reference/check_birealnet34.sh [PYTHON] [OUT_DIR]
# Needs Python with torch, safetensors and numpy (e.g. a virtualenv); the checkpoint (87 MB) is
# generated into OUT_DIR, not committed.
set -euo pipefail
python=${1:-python3}
out=${2:-$(mktemp -d)}
cd "$(dirname "$0")/../.."
"$python" tools/reference/make_birealnet34_check.py "$out"
swift build -c release --product birealnet-infer
.build/release/birealnet-infer --arch birealnet34 --num-classes 1000 \
    --weights "$out/birealnet34_reference.safetensors" --input "$out/input.npy" --output "$out/swift_logits.npy"
"$python" tools/reference/compare_npy.py "$out/swift_logits.npy" "$out/logits_reference.npy" --atol 1e-4
