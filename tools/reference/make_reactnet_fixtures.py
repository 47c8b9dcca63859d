"""Generates the ReActNet parity fixtures for the Swift tests (deterministic, float32; see tools/reference/README.md).

Two reduced models, 10 classes, small stem, input 2x3x16x16:
  react_resnet_small.safetensors  ReAct-ResNet-18 layout [4, 4, 4, 4], widths [8, 8, 16, 16]; state_dict keys
                                  carry DataParallel's `module.` prefix
  reactnet_a_small.safetensors    ReActNet-A widths [8, 16, 32, 32]: a width-doubling block at stride 1, one at
                                  stride 2 (both concatenate two 1x1 branches), one same-width block; flat
                                  binary `weights` [N, 1] as in the authors' mobilenet code
Each holds the initial state_dict, input (NCHW), labels, train_logits, eval_logits, loss, grad.<name> and
adam.<name> (after one torch.optim.Adam step, lr 1e-3) under the Swift model's names (binary weights as
O x I x kH x kW), and metadata fixture_info with the smallest |value| fed to a sign and the float32-vs-float64
deviations. Usage: python tools/reference/make_reactnet_fixtures.py [--out Tests/ReActNetTests/Fixtures]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reactnet  # noqa: E402
from reactnet import HardBinaryConv, ReActNetA, ReActResNet  # noqa: E402

SEED = 20261201


def randomize(model: torch.nn.Module) -> None:
    """Non-trivial values for every parameter and statistic (zero shifts and unit BatchNorms would hide bugs)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("move0.bias") or ".move" in name:
                p.copy_(torch.randn_like(p) * 0.1)
            elif "prelu" in name:
                p.copy_(0.25 + 0.1 * torch.randn_like(p))
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(1 + 0.2 * torch.randn_like(m.weight))
                m.bias.copy_(0.1 * torch.randn_like(m.bias))
                m.running_mean.copy_(0.1 * torch.randn_like(m.running_mean))
                m.running_var.copy_(1 + 0.3 * torch.rand_like(m.running_var))


def swift_name_and_value(model: torch.nn.Module, name: str, value: torch.Tensor) -> tuple[str, torch.Tensor]:
    """Flat `weights` [N, 1] of a binary convolution become `weight` O x I x kH x kW, the Swift model's name."""
    if name.endswith(".weights"):
        module = model.get_submodule(name[: -len(".weights")])
        assert isinstance(module, HardBinaryConv)
        return name[:-1], value.reshape(module.shape)
    return name, value


def sign_margin(model: torch.nn.Module, x: torch.Tensor) -> float:
    """The smallest |value| fed to a sign function in a training forward pass."""
    smallest = [float("inf")]
    original = reactnet.approx_sign

    def recording(v):
        smallest[0] = min(smallest[0], v.abs().min().item())
        return original(v)

    reactnet.approx_sign = recording
    try:
        model.train()
        model(x)
    finally:
        reactnet.approx_sign = original
    return smallest[0]


def run(model: torch.nn.Module, x: torch.Tensor, labels: torch.Tensor):
    model.eval()
    with torch.no_grad():
        eval_logits = model(x)
    model.train()
    model.zero_grad()
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    return eval_logits, logits, loss


def make(name: str, model: torch.nn.Module, out: str, prefix: str) -> None:
    torch.manual_seed(SEED + 1)
    x = torch.randn(2, 3, 16, 16)
    labels = torch.tensor([3, 7])
    model64 = copy.deepcopy(model).double()
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    margin = sign_margin(copy.deepcopy(model), x)
    eval_logits, logits, loss = run(model, x, labels)
    eval64, logits64, loss64 = run(model64, x.double(), labels)
    tensors = {prefix + k: v.contiguous() for k, v in initial.items()}
    tensors.update(input=x, labels=labels.to(torch.int64), eval_logits=eval_logits, train_logits=logits.detach(),
                   loss=loss.detach().reshape(1))
    grad_deviation = 0.0
    for (pname, p), (_, p64) in zip(model.named_parameters(), model64.named_parameters()):
        sname, g = swift_name_and_value(model, pname, p.grad)
        tensors["grad." + sname] = g.contiguous()
        scale = p64.grad.abs().max().item() + 1e-12
        grad_deviation = max(grad_deviation, (p.grad.double() - p64.grad).abs().max().item() / scale)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    optimizer.step()
    for pname, p in model.named_parameters():
        sname, v = swift_name_and_value(model, pname, p.detach())
        tensors["adam." + sname] = v.contiguous()
    info = {
        "seed": SEED, "model": name, "input": [2, 3, 16, 16], "labels": labels.tolist(),
        "smallest_sign_input": margin,
        "logit_deviation_float32_vs_float64": (logits.double() - logits64).abs().max().item(),
        "gradient_deviation_float32_vs_float64_relative_to_scale": grad_deviation,
        "loss": loss.item(), "loss_float64": loss64.item(),
    }
    if margin < 1e-5:
        raise AssertionError(f"{name}: a sign input of {margin} could flip between float32 and float64")
    save_file(tensors, os.path.join(out, f"{name}.safetensors"), metadata={"fixture_info": json.dumps(info, sort_keys=True)})
    print(name, json.dumps(info, sort_keys=True))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="Tests/ReActNetTests/Fixtures")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(SEED)
    resnet = ReActResNet([4, 4, 4, 4], [8, 8, 16, 16], 10, small_stem=True)
    randomize(resnet)
    make("react_resnet_small", resnet, args.out, prefix="module.")
    torch.manual_seed(SEED + 2)
    mobile = ReActNetA([8, 16, 32, 32], 10, small_stem=True)
    randomize(mobile)
    make("reactnet_a_small", mobile, args.out, prefix="")


if __name__ == "__main__":
    main()
