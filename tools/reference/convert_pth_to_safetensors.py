"""Converts a PyTorch checkpoint (.pth / .pth.tar) to safetensors for the Swift loader.

Accepts a bare state_dict, or a dict holding one under "state_dict" or "model" (as training scripts save it
together with the optimizer and epoch). A "module." prefix (DataParallel / DistributedDataParallel) is stripped.
Floating tensors are written as float32 (--keep-dtype keeps them), integer tensors such as num_batches_tracked
stay int64. With --expect birealnet34|birealnet18 the keys and shapes are checked against the reference model
(tools/reference/birealnet.py) and the conversion fails listing missing, unexpected and mis-shaped tensors.

Usage:
  python tools/reference/convert_pth_to_safetensors.py IN.pth OUT.safetensors [--expect birealnet34]
      [--variant reference|paper] [--classes 1000] [--keep-dtype] [--allow-pickle]

The checkpoint is loaded with torch.load(weights_only=True); --allow-pickle loads arbitrary pickled objects
(only for files you trust). Exit status 1 with a message naming the file and the problem on any failure.
"""

from __future__ import annotations

import argparse
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from birealnet import BiRealNet, birealnet18_config, birealnet34_config  # noqa: E402


class ConversionError(Exception):
    pass


def load_checkpoint(path: str, allow_pickle: bool) -> object:
    if not os.path.isfile(path):
        raise ConversionError(f"{path}: no such file")
    try:
        return torch.load(path, map_location="cpu", weights_only=not allow_pickle)
    except Exception as error:  # torch raises several unrelated types (UnpicklingError, RuntimeError, ...)
        hint = "" if allow_pickle else " (if the file holds other pickled objects and you trust it, use --allow-pickle)"
        raise ConversionError(f"{path}: cannot be read as a PyTorch checkpoint: {error}{hint}") from error


def extract_state_dict(obj: object, path: str) -> dict[str, torch.Tensor]:
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise ConversionError(f"{path}: expected a state_dict or a dict with a 'state_dict'/'model' key, "
                              f"found {type(obj).__name__}")
    for key in ("state_dict", "model"):
        if key in obj and isinstance(obj[key], (dict, torch.nn.Module)):
            return extract_state_dict(obj[key], f"{path}['{key}']")
    non_tensors = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if non_tensors:
        raise ConversionError(f"{path}: expected tensors only, found non-tensor entries {non_tensors[:8]}"
                              f"{' ...' if len(non_tensors) > 8 else ''} (top-level keys: {list(obj)[:8]})")
    if not obj:
        raise ConversionError(f"{path}: the state_dict is empty")
    result = {}
    for key, value in obj.items():
        name = key[len("module."):] if key.startswith("module.") else key
        if name in result:
            raise ConversionError(f"{path}: tensor name {name!r} occurs twice after stripping 'module.'")
        result[name] = value
    return result


def check_against_model(tensors: dict[str, torch.Tensor], expect: str, variant: str, classes: int, path: str) -> None:
    config = birealnet34_config(classes, variant) if expect == "birealnet34" else birealnet18_config(classes, variant)
    expected = {k: tuple(v.shape) for k, v in BiRealNet(config).state_dict().items()}
    missing = [k for k in expected if k not in tensors]
    unexpected = [k for k in tensors if k not in expected]
    mis_shaped = [f"{k}: expected {list(expected[k])}, found {list(tensors[k].shape)}"
                  for k in expected if k in tensors and tuple(tensors[k].shape) != expected[k]]
    if missing or unexpected or mis_shaped:
        lines = [f"{path} does not match {expect} ({variant}, {classes} classes):"]
        for title, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", mis_shaped)):
            if items:
                lines.append(f"  {title} ({len(items)}): " + ", ".join(items[:10]) + (" ..." if len(items) > 10 else ""))
        raise ConversionError("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", help=".pth or .pth.tar checkpoint")
    parser.add_argument("output", help="output .safetensors file")
    parser.add_argument("--expect", choices=("birealnet34", "birealnet18"), default=None)
    parser.add_argument("--variant", choices=("reference", "paper"), default="reference")
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--keep-dtype", action="store_true", help="keep floating dtypes instead of float32")
    parser.add_argument("--allow-pickle", action="store_true", help="torch.load(weights_only=False)")
    args = parser.parse_args()
    try:
        tensors = extract_state_dict(load_checkpoint(args.input, args.allow_pickle), args.input)
        if args.expect:
            check_against_model(tensors, args.expect, args.variant, args.classes, args.input)
        out = {}
        for name, t in tensors.items():
            t = t.detach().cpu()
            if t.is_floating_point() and not args.keep_dtype:
                t = t.to(torch.float32)
            out[name] = t.contiguous().clone()  # clone: safetensors refuses tensors sharing storage
        save_file(out, args.output, metadata={"source": os.path.basename(args.input)})
    except ConversionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: cannot write {args.output}: {error}", file=sys.stderr)
        return 1
    print(f"wrote {args.output}: {len(out)} tensors, {sum(t.numel() for t in out.values()):,} values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
