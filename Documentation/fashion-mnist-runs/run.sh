#!/bin/bash
# Reproduces the Fashion-MNIST comparison of the Training article (fp32, bf16, RandAugment + drop path)
# on a class-balanced subset: the first 1200 training and 500 validation images of each class; with
# FULL=1, on the whole dataset (60,000 / 10,000 images, the README recipe; about 15 minutes a run here).
set -e
python3 tools/datasets/fashion_mnist_to_folder.py /tmp/fashion-mnist
python3 - <<'PY'
import os
src, dst = '/tmp/fashion-mnist', '/tmp/fashion-mnist-small'
for split, n in (('train', 1200), ('val', 500)):
    for c in sorted(os.listdir(f'{src}/{split}')):
        os.makedirs(f'{dst}/{split}/{c}', exist_ok=True)
        for f in sorted(os.listdir(f'{src}/{split}/{c}'))[:n]:
            if not os.path.exists(f'{dst}/{split}/{c}/{f}'):
                os.symlink(f'{src}/{split}/{c}/{f}', f'{dst}/{split}/{c}/{f}')
PY
B=.build/release/birealnet-train
DATA=/tmp/fashion-mnist-small
[ "${FULL:-0}" = 1 ] && DATA=/tmp/fashion-mnist
COMMON=(--data "$DATA" --image-size 28 --crop-pct 1.0 --crop-scale "[0.8, 1.0]"
        --widths "[16, 32, 64, 128]" --epochs 3 --batch-size 64 --base-lr 0.005 --seed 0)
RUNS=runs/fmnist
[ "${FULL:-0}" = 1 ] && RUNS=runs/fmnist-full
$B "${COMMON[@]}" --run-dir "$RUNS-fp32"
$B "${COMMON[@]}" --run-dir "$RUNS-bf16" --precision bf16
$B "${COMMON[@]}" --run-dir "$RUNS-randaug" --auto-augment rand-m9-mstd0.5-inc1 --drop-path-rate 0.1
