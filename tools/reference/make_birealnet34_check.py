"""Writes a random-weight Bi-Real Net 34 (1000 classes, 224x224) check set for the Swift model (not committed).

Files written into OUT_DIR:
  birealnet34_<variant>.safetensors  state_dict (PyTorch names and layouts, float32; num_batches_tracked int64)
  input.npy                          float32 N x 3 x 224 x 224 (N = --batch, default 2), N(0, 1)
  logits_<variant>.npy               float32 N x 1000, evaluation-mode logits of that checkpoint on that input
  logits64_<variant>.npy             float64 N x 1000, the same computed in float64 (how accurate the float32 is)

The BatchNorm parameters and running statistics are randomised too (gamma U(0.5, 1.5), beta N(0, 0.1),
running_mean N(0, 0.1), running_var U(0.5, 1.5), num_batches_tracked 1000), so a swapped or ignored statistic
changes the logits. Usage:
  python tools/reference/make_birealnet34_check.py OUT_DIR [--variant reference|paper] [--batch 2] [--seed 34]
  python tools/reference/compare_npy.py OUT_DIR/logits_reference.npy swift_logits.npy
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from birealnet import BiRealNet, birealnet34_config, check_birealnet34_counts, parameter_counts  # noqa: E402


def randomize_batchnorm(model: torch.nn.Module, generator: torch.Generator) -> None:
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                c = module.num_features
                module.weight.copy_(0.5 + torch.rand(c, generator=generator))
                module.bias.copy_(0.1 * torch.randn(c, generator=generator))
                module.running_mean.copy_(0.1 * torch.randn(c, generator=generator))
                module.running_var.copy_(0.5 + torch.rand(c, generator=generator))
                module.num_batches_tracked.fill_(1000)


def sign_input_summary(model: BiRealNet) -> str:
    total = zero = near = 0
    smallest = float("inf")
    for conv in model.binary_convs():
        for t in conv.sign_probe or []:
            a = t.abs()
            total += a.numel()
            zero += int((a == 0).sum())
            near += int(((a > 0) & (a < 1e-6)).sum())
            if (a > 0).any():
                smallest = min(smallest, float(a[a > 0].min()))
    return f"{total} sign inputs, {zero} exactly 0, {near} with 0 < |x| < 1e-6, smallest nonzero |x| {smallest:.3g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", help="output directory (created if missing; do not commit its contents)")
    parser.add_argument("--variant", choices=("reference", "paper"), default="reference")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--seed", type=int, default=34)
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)

    for variant, counts in check_birealnet34_counts().items():
        print(f"Bi-Real Net 34 ({variant}): {counts['trainable']:,} trainable + {counts['running_stats']:,} "
              f"BN running statistics = {counts['total']:,}")

    torch.manual_seed(args.seed)
    model = BiRealNet(birealnet34_config(1000, args.variant))
    generator = torch.Generator().manual_seed(args.seed + 1)
    randomize_batchnorm(model, generator)
    x = torch.randn(args.batch, 3, 224, 224, generator=generator, dtype=torch.float32)
    counts = parameter_counts(model)
    print(f"checkpoint model ({args.variant}): {counts['trainable']:,} trainable, "
          f"{counts['running_stats']:,} running statistics")

    model.eval()
    for conv in model.binary_convs():
        conv.sign_probe = []
    with torch.no_grad():
        logits = model(x)
    print("float32:", sign_input_summary(model))
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}

    model64 = model.double()
    for conv in model64.binary_convs():
        conv.sign_probe = None
    with torch.no_grad():
        logits64 = model64(x.double())

    ckpt = os.path.join(args.out_dir, f"birealnet34_{args.variant}.safetensors")
    save_file(state, ckpt, metadata={"variant": args.variant, "seed": str(args.seed), "classes": "1000"})
    np.save(os.path.join(args.out_dir, "input.npy"), x.numpy())
    np.save(os.path.join(args.out_dir, f"logits_{args.variant}.npy"), logits.numpy())
    np.save(os.path.join(args.out_dir, f"logits64_{args.variant}.npy"), logits64.numpy())
    diff = (logits.double() - logits64).abs().max().item()
    print(f"wrote {ckpt} ({os.path.getsize(ckpt):,} bytes), input.npy, logits_{args.variant}.npy, "
          f"logits64_{args.variant}.npy")
    print(f"logits range [{logits.min().item():.4f}, {logits.max().item():.4f}], top-1 {logits.argmax(1).tolist()}, "
          f"float32 vs float64 max abs diff {diff:.3g}")


if __name__ == "__main__":
    main()
