"""PyTorch reference of ReActNet's semantics (Liu et al., ECCV 2020), written from the authors' description
and their code's behaviour (liuzechun/ReActNet), with their state_dict names:

- ReActNet-A (`ReActNetA`): feature.0 = first conv (conv1, bn1); feature.i = blocks with move11, binary_3x3,
  bn1, move12, prelu1, move13, move21, binary_pw + bn2 (same width) or binary_pw_down1/2 + bn2_1/2 (width
  doubles, outputs concatenated), move22, prelu2, move23; pool1; fc. Binary weights are flat `weights`
  [O*I*k*k, 1] as in the authors' mobilenet code.
- ReAct-ResNet-18 (`ReActResNet`): conv1, bn1, maxpool (ImageNet stem only, no activation), layer1..4 of
  blocks move0, binary_conv, bn1, downsample (AvgPool2d, conv1x1, BN), move1, prelu, move2; avgpool; fc.

Sign activations: sign forward (sign(0) = 0), derivative of the piecewise polynomial -1; x^2+2x; -x^2+2x; 1
backward. Binary weights: alpha * sign(W) forward with alpha = mean|W| per output channel (no gradient), the
gradient of clamp(W, -1, 1) backward (alpha not included). Small stem: 3x3 stride 1 convolution, no pooling.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def approx_sign(x: torch.Tensor) -> torch.Tensor:
    """sign(x) with the gradient of Bi-Real Net's piecewise polynomial."""
    poly = torch.where(x < -1, -torch.ones_like(x),
                       torch.where(x < 0, x * x + 2 * x, torch.where(x < 1, -x * x + 2 * x, torch.ones_like(x))))
    return torch.sign(x).detach() - poly.detach() + poly


class LearnableBias(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x):
        return x + self.bias


class HardBinaryConv(nn.Module):
    def __init__(self, inputs: int, outputs: int, kernel: int, stride: int = 1, flat: bool = False):
        super().__init__()
        self.stride, self.padding, self.flat = stride, kernel // 2, flat
        self.shape = (outputs, inputs, kernel, kernel)
        count = outputs * inputs * kernel * kernel
        if flat:
            self.weights = nn.Parameter(torch.randn(count, 1) * 0.5)
        else:
            self.weight = nn.Parameter(torch.randn(self.shape) * 0.5)

    def forward(self, x):
        w = self.weights.view(self.shape) if self.flat else self.weight
        alpha = w.abs().mean(dim=(1, 2, 3), keepdim=True).detach()
        clipped = torch.clamp(w, -1.0, 1.0)
        binary = (alpha * torch.sign(w)).detach() - clipped.detach() + clipped
        return F.conv2d(approx_sign(x), binary, stride=self.stride, padding=self.padding)


class ReActABlock(nn.Module):
    def __init__(self, inputs: int, outputs: int, stride: int):
        super().__init__()
        self.move11 = LearnableBias(inputs)
        self.binary_3x3 = HardBinaryConv(inputs, inputs, 3, stride, flat=True)
        self.bn1 = nn.BatchNorm2d(inputs)
        self.move12, self.prelu1, self.move13 = LearnableBias(inputs), nn.PReLU(inputs), LearnableBias(inputs)
        self.move21 = LearnableBias(inputs)
        self.same = inputs == outputs
        if self.same:
            self.binary_pw = HardBinaryConv(inputs, inputs, 1, flat=True)
            self.bn2 = nn.BatchNorm2d(inputs)
        else:
            assert outputs == 2 * inputs
            self.binary_pw_down1 = HardBinaryConv(inputs, inputs, 1, flat=True)
            self.binary_pw_down2 = HardBinaryConv(inputs, inputs, 1, flat=True)
            self.bn2_1, self.bn2_2 = nn.BatchNorm2d(inputs), nn.BatchNorm2d(inputs)
        self.move22, self.prelu2, self.move23 = LearnableBias(outputs), nn.PReLU(outputs), LearnableBias(outputs)
        self.stride = stride

    def forward(self, x):
        shortcut = F.avg_pool2d(x, 2, 2) if self.stride == 2 else x
        out1 = self.move13(self.prelu1(self.move12(self.bn1(self.binary_3x3(self.move11(x))) + shortcut)))
        z = self.move21(out1)
        if self.same:
            out2 = self.bn2(self.binary_pw(z)) + out1
        else:
            out2 = torch.cat([self.bn2_1(self.binary_pw_down1(z)) + out1, self.bn2_2(self.binary_pw_down2(z)) + out1], 1)
        return self.move23(self.prelu2(self.move22(out2)))


class FirstConv(nn.Module):
    def __init__(self, outputs: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(3, outputs, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(outputs)

    def forward(self, x):
        return self.bn1(self.conv1(x))


class ReActNetA(nn.Module):
    def __init__(self, widths: list[int], classes: int, small_stem: bool):
        super().__init__()
        self.feature = nn.ModuleList([FirstConv(widths[0], 1 if small_stem else 2)])
        for i in range(1, len(widths)):
            stride = 2 if widths[i] != widths[i - 1] and i != 1 else 1
            self.feature.append(ReActABlock(widths[i - 1], widths[i], stride))
        self.pool1 = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[-1], classes)

    def forward(self, x):
        for block in self.feature:
            x = block(x)
        return self.fc(self.pool1(x).flatten(1))


class ReActResBlock(nn.Module):
    def __init__(self, inputs: int, outputs: int, stride: int):
        super().__init__()
        self.move0 = LearnableBias(inputs)
        self.binary_conv = HardBinaryConv(inputs, outputs, 3, stride)
        self.bn1 = nn.BatchNorm2d(outputs)
        self.move1, self.prelu, self.move2 = LearnableBias(outputs), nn.PReLU(outputs), LearnableBias(outputs)
        self.downsample = None
        if stride != 1 or inputs != outputs:
            self.downsample = nn.Sequential(nn.AvgPool2d(2, stride), nn.Conv2d(inputs, outputs, 1, bias=False),
                                            nn.BatchNorm2d(outputs))

    def forward(self, x):
        residual = x if self.downsample is None else self.downsample(x)
        out = self.bn1(self.binary_conv(self.move0(x))) + residual
        return self.move2(self.prelu(self.move1(out)))


class ReActResNet(nn.Module):
    def __init__(self, blocks: list[int], widths: list[int], classes: int, small_stem: bool):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3 if small_stem else 7, 1 if small_stem else 2, 1 if small_stem else 3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.maxpool = nn.Identity() if small_stem else nn.MaxPool2d(3, 2, 1)
        inputs = widths[0]
        for stage, (count, width) in enumerate(zip(blocks, widths)):
            layers = []
            for index in range(count):
                layers.append(ReActResBlock(inputs, width, 2 if stage > 0 and index == 0 else 1))
                inputs = width
            setattr(self, f"layer{stage + 1}", nn.Sequential(*layers))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inputs, classes)

    def forward(self, x):
        x = self.maxpool(self.bn1(self.conv1(x)))
        for stage in range(4):
            x = getattr(self, f"layer{stage + 1}")(x)
        return self.fc(self.avgpool(x).flatten(1))
