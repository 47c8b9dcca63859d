"""PyTorch reference implementation of Bi-Real Net (the semantics the Swift package must reproduce).

Written from /work/shared/reference/README.md (MindSpore model-zoo semantics, PyTorch conventions):

* ``HardBinaryConv`` (3x3, padding 1 symmetric, no bias, stride s)
  - activation, variant "reference": training mode ``sign_approx(x / sqrt(var(x)))`` with the population
    variance (ddof 0) per sample over (C, H, W), no epsilon, gradient through the normalisation by autograd;
    evaluation mode ``sign_approx(x)``.
  - activation, variant "paper": ``sign_approx(x)`` in both modes.
  - ``sign_approx``: forward sign (sign(0) = 0), backward ``grad * (2 - 2 |clip(x, -1, 1)|)``.
  - weights: forward sign(W) (sign(0) = 0); backward straight-through, identity ("reference") or zeroed
    where |W| > 1 ("paper").
  - output multiplied per output channel by alpha = mean(|W|) over (in, kh, kw), detached.
* ``BasicBlock``: ``out = bn1(binary_conv(x))``; residual x or
  ``downsample = Sequential(AvgPool2d(2, stride s), conv1x1, BatchNorm2d)``; ``y = hardtanh(out + residual)``
  ("reference") or ``y = out + residual`` ("paper").
* ``BiRealNet``: stem ("imagenet": conv 7x7/2 pad 3 -> bn1 -> hardtanh -> maxpool 3x3/2 pad 1;
  "small": conv 3x3/1 pad 1 -> bn1 -> hardtanh) -> layer1..layer4 -> global average pool ->
  bn2 (BatchNorm1d on N x C, "reference" only) -> fc.

PyTorch hardtanh passes the gradient only where -1 < x < 1 strictly (zero at exactly +-1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

VARIANTS = ("reference", "paper")
STEMS = ("imagenet", "small")


class SignApprox(torch.autograd.Function):
    """sign(x) forward (sign(0) = 0); backward grad * (2 - 2 |clip(x, -1, 1)|)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sign(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (2.0 - 2.0 * torch.clamp(x, -1.0, 1.0).abs())


class SignStraightThrough(torch.autograd.Function):
    """sign(W) forward (sign(0) = 0); backward identity (straight-through)."""

    @staticmethod
    def forward(ctx, w):
        return torch.sign(w)

    @staticmethod
    def backward(ctx, grad):
        return grad


class SignClippedStraightThrough(torch.autograd.Function):
    """sign(W) forward (sign(0) = 0); backward grad where |W| <= 1, zero where |W| > 1."""

    @staticmethod
    def forward(ctx, w):
        ctx.save_for_backward(w)
        return torch.sign(w)

    @staticmethod
    def backward(ctx, grad):
        (w,) = ctx.saved_tensors
        return grad * (w.abs() <= 1.0).to(grad.dtype)


class HardBinaryConv(nn.Module):
    """Binary 3x3 convolution; parameter ``weight`` is O x I x 3 x 3 (latent real weights)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, variant: str = "reference"):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, found {variant!r}")
        self.stride = stride
        self.variant = variant
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, 3, 3))
        # Optional probe: when set to a list, every tensor fed to the activation sign is appended (detached).
        self.sign_probe: Optional[list] = None

    def binarize_input(self, x: torch.Tensor) -> torch.Tensor:
        if self.variant == "reference" and self.training:
            x = x / torch.sqrt(x.var(dim=(1, 2, 3), correction=0, keepdim=True))
        if self.sign_probe is not None:
            self.sign_probe.append(x.detach())
        return SignApprox.apply(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.binarize_input(x)
        if self.variant == "reference":
            wb = SignStraightThrough.apply(self.weight)
        else:
            wb = SignClippedStraightThrough.apply(self.weight)
        alpha = self.weight.abs().mean(dim=(1, 2, 3)).detach()
        out = F.conv2d(a, wb, None, stride=self.stride, padding=1)
        return out * alpha.view(1, -1, 1, 1)


class BasicBlock(nn.Module):
    def __init__(self, inplanes: int, planes: int, stride: int, variant: str):
        super().__init__()
        self.binary_conv = HardBinaryConv(inplanes, planes, stride=stride, variant=variant)
        self.bn1 = nn.BatchNorm2d(planes, eps=1e-5, momentum=0.1)
        self.variant = variant
        # Stochastic depth with injected masks (parity tests): None, or (keep/drop mask per sample, rate);
        # the body's output is multiplied by mask / (1 - rate), as timm's drop_path.
        self.drop_mask: Optional[tuple] = None
        self.downsample: Optional[nn.Sequential] = None
        if stride != 1 or inplanes != planes:
            if stride == 1:
                raise ValueError(
                    f"downsample with stride 1 ({inplanes} -> {planes} planes) is not supported: "
                    "AvgPool2d(2, stride 1) would shrink the map; make the stem width equal the first stage width")
            self.downsample = nn.Sequential(
                # Rounds odd maps up (7×7 → 4×4 beside the stride-2 binary convolution), as the Swift model.
                nn.AvgPool2d(kernel_size=2, stride=stride, ceil_mode=True),
                nn.Conv2d(inplanes, planes, kernel_size=1, stride=1, bias=False),
                nn.BatchNorm2d(planes, eps=1e-5, momentum=0.1),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn1(self.binary_conv(x))
        if self.drop_mask is not None and self.training:
            mask, rate = self.drop_mask
            out = out * (mask / (1 - rate)).view(-1, 1, 1, 1)
        residual = x if self.downsample is None else self.downsample(x)
        out = out + residual
        if self.variant == "reference":
            out = F.hardtanh(out)
        return out


@dataclass
class BiRealConfig:
    """Model configuration. ``widths`` are the planes of layer1..layer4; the stem width is widths[0]."""

    blocks: List[int] = field(default_factory=lambda: [6, 8, 12, 6])
    widths: List[int] = field(default_factory=lambda: [64, 128, 256, 512])
    classes: int = 1000
    stem: str = "imagenet"
    variant: str = "reference"

    def validate(self) -> None:
        if len(self.blocks) != 4 or len(self.widths) != 4:
            raise ValueError(f"blocks and widths need 4 entries, found {self.blocks} and {self.widths}")
        if self.stem not in STEMS:
            raise ValueError(f"stem must be one of {STEMS}, found {self.stem!r}")
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, found {self.variant!r}")


def birealnet34_config(classes: int = 1000, variant: str = "reference") -> BiRealConfig:
    return BiRealConfig([6, 8, 12, 6], [64, 128, 256, 512], classes, "imagenet", variant)


def birealnet18_config(classes: int = 1000, variant: str = "reference") -> BiRealConfig:
    return BiRealConfig([4, 4, 4, 4], [64, 128, 256, 512], classes, "imagenet", variant)


class BiRealNet(nn.Module):
    def __init__(self, config: BiRealConfig):
        super().__init__()
        config.validate()
        self.config = config
        w0 = config.widths[0]
        if config.stem == "imagenet":
            self.conv1 = nn.Conv2d(3, w0, kernel_size=7, stride=2, padding=3, bias=False)
            self.maxpool: Optional[nn.Module] = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        else:
            self.conv1 = nn.Conv2d(3, w0, kernel_size=3, stride=1, padding=1, bias=False)
            self.maxpool = None
        self.bn1 = nn.BatchNorm2d(w0, eps=1e-5, momentum=0.1)
        inplanes = w0
        for index, (count, planes, stride) in enumerate(zip(config.blocks, config.widths, (1, 2, 2, 2))):
            blocks = []
            for b in range(count):
                blocks.append(BasicBlock(inplanes, planes, stride if b == 0 else 1, config.variant))
                inplanes = planes
            setattr(self, f"layer{index + 1}", nn.Sequential(*blocks))
        self.bn2: Optional[nn.BatchNorm1d] = (
            nn.BatchNorm1d(inplanes, eps=1e-5, momentum=0.1) if config.variant == "reference" else None)
        self.fc = nn.Linear(inplanes, config.classes, bias=True)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Kaiming normal (fan_in, gain sqrt 2) on conv/linear weights; bias U(+-1/sqrt(fan_in)); BN 1/0."""
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear, HardBinaryConv)):
                nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
                if getattr(module, "bias", None) is not None:
                    fan_in = module.weight[0].numel()
                    bound = 1.0 / math.sqrt(fan_in)
                    nn.init.uniform_(module.bias, -bound, bound)
            elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
                module.reset_running_stats()

    def binary_convs(self) -> List[HardBinaryConv]:
        return [m for m in self.modules() if isinstance(m, HardBinaryConv)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.hardtanh(self.bn1(self.conv1(x)))
        if self.maxpool is not None:
            x = self.maxpool(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = x.mean(dim=(2, 3))
        if self.bn2 is not None:
            x = self.bn2(x)
        return self.fc(x)


def parameter_counts(model: nn.Module) -> dict:
    """Trainable parameter count and BN running-statistic count (running_mean + running_var)."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    running = sum(b.numel() for name, b in model.named_buffers()
                  if name.endswith("running_mean") or name.endswith("running_var"))
    return {"trainable": trainable, "running_stats": running, "total": trainable + running}


def check_birealnet34_counts() -> dict:
    """Builds both Bi-Real Net 34 variants (1000 classes) and checks the documented parameter counts."""
    expected = {"reference": (21_798_696, 18_048), "paper": (21_797_672, 17_024)}
    result = {}
    for variant, (trainable, running) in expected.items():
        counts = parameter_counts(BiRealNet(birealnet34_config(1000, variant)))
        if (counts["trainable"], counts["running_stats"]) != (trainable, running):
            raise AssertionError(f"Bi-Real Net 34 {variant}: expected {trainable} trainable + {running} running "
                                 f"statistics, found {counts['trainable']} + {counts['running_stats']}")
        result[variant] = counts
    return result


if __name__ == "__main__":
    for variant, counts in check_birealnet34_counts().items():
        print(f"Bi-Real Net 34 ({variant}): {counts['trainable']:,} trainable + "
              f"{counts['running_stats']:,} BN running statistics = {counts['total']:,}")
