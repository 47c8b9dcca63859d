"""Generates the Bi-Real Net parity fixtures for the Swift tests (deterministic, float32).

Reduced model: Bi-Real 18 layout [4, 4, 4, 4], widths [8, 16, 32, 64], 10 classes, small stem, input 2x3x32x32.
For each variant ("reference", "paper") two safetensors files are written (each < 2 MB):

  birealnet_small_<variant>.safetensors        initial state_dict, input, labels, logits, loss, grad.*, after_train.*
  birealnet_small_<variant>_optim.safetensors  adam.* and sgd.* (weights after one optimizer step)

The safetensors header metadata has one key, "fixture_info": a JSON object with the configuration, the seed,
the deliberate edits, sign-input statistics and float32-vs-float64 deviations (regenerating gives identical bytes).
See tools/reference/README.md for every key. Usage:
  python tools/reference/make_parity_fixtures.py [--out Tests/BiRealNetTests/Fixtures]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from birealnet import BiRealConfig, BiRealNet, SignApprox, check_birealnet34_counts  # noqa: E402

SEED = 20261129
NEAR_ZERO = 1e-6
MAX_FILE_BYTES = 2 * 1024 * 1024
# Deliberate edits of the initial weights so the fixtures exercise rare paths (applied to both variants):
# scale layer1.0.binary_conv.weight by 4 (about 13% of entries get |W| > 1: the paper variant's clipped
# straight-through estimator zeroes their gradient) and set its [0, 0, :, 0] to exactly 0 (sign(0) = 0).
SCALED_WEIGHT = "layer1.0.binary_conv.weight"
WEIGHT_SCALE = 4.0
# Deliberate edit of the input: a 6x6 zero patch in sample 0 at rows/cols 4..9, so in evaluation mode the first
# binary convolution sees exact zeros (sign(0) = 0 for activations).
ZERO_PATCH = (0, slice(4, 10), slice(4, 10))


def reduced_config(variant: str) -> BiRealConfig:
    return BiRealConfig(blocks=[4, 4, 4, 4], widths=[8, 16, 32, 64], classes=10, stem="small", variant=variant)


def check_sign_approx_backward() -> None:
    """The custom backward must equal the derivative of the piecewise polynomial -1; x^2+2x; -x^2+2x; 1."""
    x = torch.linspace(-1.5, 1.5, 301, dtype=torch.float64)
    x = x[(x.abs() - 1).abs() > 1e-9]
    x1 = x.clone().requires_grad_(True)
    SignApprox.apply(x1).sum().backward()
    x2 = x.clone().requires_grad_(True)
    poly = torch.where(x2 < -1, -torch.ones_like(x2),
                       torch.where(x2 < 0, x2 * x2 + 2 * x2, torch.where(x2 < 1, -x2 * x2 + 2 * x2, torch.ones_like(x2))))
    poly.sum().backward()
    if not torch.allclose(x1.grad, x2.grad, atol=1e-12):
        raise AssertionError("SignApprox backward differs from the polynomial derivative")


def make_model(variant: str, dtype: torch.dtype, state: dict | None) -> BiRealNet:
    torch.manual_seed(SEED)
    model = BiRealNet(reduced_config(variant))
    if state is not None:
        model.load_state_dict(state)
    return model.to(dtype)


def make_initial_state(variant: str) -> dict:
    model = make_model(variant, torch.float32, None)
    with torch.no_grad():
        w = model.layer1[0].binary_conv.weight
        w.mul_(WEIGHT_SCALE)
        w[0, 0, :, 0] = 0.0
    return {k: v.clone() for k, v in model.state_dict().items()}


def make_batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(SEED + 1)
    x = torch.randn(2, 3, 32, 32, generator=g, dtype=torch.float32)
    n, rows, cols = ZERO_PATCH
    x[n, :, rows, cols] = 0.0
    labels = torch.randint(0, 10, (2,), generator=g, dtype=torch.int64)
    return x, labels


def attach_probes(model: BiRealNet) -> list[list]:
    probes = []
    for conv in model.binary_convs():
        conv.sign_probe = []
        probes.append(conv.sign_probe)
    return probes


def sign_input_stats(probes: list[list]) -> dict:
    total = exact_zero = near_zero = 0
    min_nonzero = float("inf")
    for probe in probes:
        for t in probe:
            a = t.abs()
            total += a.numel()
            exact_zero += int((a == 0).sum())
            near_zero += int(((a > 0) & (a < NEAR_ZERO)).sum())
            nz = a[a > 0]
            if nz.numel():
                min_nonzero = min(min_nonzero, float(nz.min()))
    return {"total": total, "exact_zero": exact_zero, "nonzero_below_1e-6": near_zero,
            "min_nonzero_abs": min_nonzero}


def sign_disagreements(probes32: list[list], probes64: list[list]) -> int:
    count = 0
    for p32, p64 in zip(probes32, probes64):
        for a, b in zip(p32, p64):
            count += int((torch.sign(a.double()) != torch.sign(b)).sum())
    return count


def train_forward_backward(model: BiRealNet, x: torch.Tensor, labels: torch.Tensor):
    model.train()
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    model.zero_grad(set_to_none=True)
    loss.backward()
    return logits.detach(), loss.detach()


def optimizer_step(variant: str, state: dict, grads: dict, kind: str) -> dict:
    model = make_model(variant, torch.float32, state)
    params = dict(model.named_parameters())
    for name, p in params.items():
        p.grad = grads[name].clone()
    if kind == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4, nesterov=False)
    opt.step()
    return {name: p.detach().clone() for name, p in params.items()}


def generate(variant: str, out_dir: str) -> dict:
    state = make_initial_state(variant)
    x, labels = make_batch()

    # float32 run: eval forward from the initial state, then one train forward/backward.
    model = make_model(variant, torch.float32, state)
    model.eval()
    probes_eval32 = attach_probes(model)
    with torch.no_grad():
        eval_logits = model(x)
    probes_train32 = attach_probes(model)
    train_logits, loss = train_forward_backward(model, x, labels)
    grads = {name: p.grad.detach().clone() for name, p in model.named_parameters()}
    after_train = {name: b.detach().clone() for name, b in model.named_buffers()}
    model.eval()
    with torch.no_grad():
        for conv in model.binary_convs():
            conv.sign_probe = None
        eval_logits_after_train = model(x)

    # float64 run from the same weights: explains the float32 tolerances.
    model64 = make_model(variant, torch.float64, state)
    model64.eval()
    probes_eval64 = attach_probes(model64)
    with torch.no_grad():
        eval_logits64 = model64(x.double())
    probes_train64 = attach_probes(model64)
    train_logits64, loss64 = train_forward_backward(model64, x.double(), labels)
    grad_deviation = {}
    for name, p in model64.named_parameters():
        g32, g64 = grads[name].double(), p.grad.detach()
        scale = float(g64.abs().max())
        diff = float((g32 - g64).abs().max())
        grad_deviation[name] = {"max_abs_diff": diff, "max_abs_grad64": scale,
                                "rel_to_max": diff / scale if scale > 0 else 0.0}

    adam = optimizer_step(variant, state, grads, "adam")
    sgd = optimizer_step(variant, state, grads, "sgd")

    w = state[SCALED_WEIGHT]
    info = {
        "variant": variant,
        "config": dict(reduced_config(variant).__dict__),
        "seed": SEED,
        "torch_version": torch.__version__,
        "weight_edits": f"{SCALED_WEIGHT} scaled by {WEIGHT_SCALE}, [0,0,:,0] set to 0; "
                        f"{int((w.abs() > 1).sum())} of {w.numel()} entries have |W| > 1",
        "input_edits": "sample 0, all channels, rows 4..9, cols 4..9 set to 0",
        "sign_inputs_eval": sign_input_stats(probes_eval32),
        "sign_inputs_train": sign_input_stats(probes_train32),
        "sign_flips_fp32_vs_fp64_eval": sign_disagreements(probes_eval32, probes_eval64),
        "sign_flips_fp32_vs_fp64_train": sign_disagreements(probes_train32, probes_train64),
        "eval_logits_fp32_vs_fp64_max_abs": float((eval_logits.double() - eval_logits64).abs().max()),
        "train_logits_fp32_vs_fp64_max_abs": float((train_logits.double() - train_logits64.detach()).abs().max()),
        "loss_fp32_vs_fp64_abs": abs(float(loss) - float(loss64)),
        "grad_fp32_vs_fp64_worst_rel_to_max": max(d["rel_to_max"] for d in grad_deviation.values()),
        "grad_fp32_vs_fp64": grad_deviation,
    }

    main = {name: t.contiguous() for name, t in state.items()}
    main.update({
        "input": x, "labels": labels, "eval_logits": eval_logits, "eval_logits_after_train": eval_logits_after_train,
        "train_logits": train_logits, "loss": loss.reshape(()),
    })
    main.update({f"grad.{n}": g for n, g in grads.items()})
    main.update({f"after_train.{n}": b for n, b in after_train.items()})
    optim = {f"adam.{n}": t for n, t in adam.items()}
    optim.update({f"sgd.{n}": t for n, t in sgd.items()})

    paths = {}
    for suffix, tensors in (("", main), ("_optim", optim)):
        path = os.path.join(out_dir, f"birealnet_small_{variant}{suffix}.safetensors")
        # One metadata key: safetensors writes several in hash order, which would make the bytes differ per run.
        save_file({k: v.contiguous() for k, v in tensors.items()}, path,
                  metadata={"fixture_info": json.dumps(info, sort_keys=True, indent=1)})
        size = os.path.getsize(path)
        if size >= MAX_FILE_BYTES:
            raise RuntimeError(f"{path} is {size} bytes, the limit is {MAX_FILE_BYTES}")
        paths[path] = size
    return {"paths": paths, "info": info, "loss": float(loss), "eval_logits": eval_logits.tolist()}


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "..", "Tests", "BiRealNetTests", "Fixtures"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=default_out, help="output directory (default: %(default)s)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    check_sign_approx_backward()
    for variant, counts in check_birealnet34_counts().items():
        print(f"Bi-Real Net 34 ({variant}) parameter counts OK: {counts}")
    for variant in ("reference", "paper"):
        result = generate(variant, args.out)
        for path, size in result["paths"].items():
            print(f"wrote {path} ({size} bytes)")
        print(f"  loss {result['loss']:.6f}")
        for key, value in result["info"].items():
            if key != "grad_fp32_vs_fp64":
                print(f"  {key}: {value}")


if __name__ == "__main__":
    main()
