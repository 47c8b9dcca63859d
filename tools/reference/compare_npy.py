"""Compares two .npy arrays (e.g. PyTorch and Swift logits) and prints the maximum absolute and relative error.

Usage: python tools/reference/compare_npy.py A.npy B.npy [--atol X] [--rtol Y]
  max abs error      max |A - B|
  max rel error      max |A - B| / max(|B|, 1e-12), elementwise
  rel to max         max |A - B| / max |B|
  top-1 agreement    for 2-D arrays (N x classes): rows whose argmax agrees
Exit status 1 if the shapes differ, or if --atol/--rtol is given and some element has
|A - B| > atol + rtol * |B| (numpy.allclose semantics).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a")
    parser.add_argument("b", help="the reference array")
    parser.add_argument("--atol", type=float, default=None)
    parser.add_argument("--rtol", type=float, default=None)
    args = parser.parse_args()

    a = np.load(args.a).astype(np.float64)
    b = np.load(args.b).astype(np.float64)
    if a.shape != b.shape:
        print(f"shape mismatch: {args.a} has {a.shape}, {args.b} has {b.shape}")
        return 1
    diff = np.abs(a - b)
    print(f"shape {a.shape}")
    print(f"max abs error   {diff.max():.6g}")
    print(f"max rel error   {(diff / np.maximum(np.abs(b), 1e-12)).max():.6g}")
    print(f"rel to max      {diff.max() / max(np.abs(b).max(), 1e-300):.6g}")
    print(f"mean abs error  {diff.mean():.6g}")
    if a.ndim == 2:
        agree = int((a.argmax(axis=1) == b.argmax(axis=1)).sum())
        print(f"top-1 agreement {agree}/{a.shape[0]}")
    if args.atol is not None or args.rtol is not None:
        atol = args.atol or 0.0
        rtol = args.rtol or 0.0
        bad = int((diff > atol + rtol * np.abs(b)).sum())
        print(f"elements outside atol {atol:g} + rtol {rtol:g}: {bad}")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
