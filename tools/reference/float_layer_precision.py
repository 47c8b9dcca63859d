"""How much a trained Bi-Real Net's predictions move when its float layers lose precision.

Evaluates a checkpoint of `birealnet-train` (safetensors with `bnn.configuration`) on an image folder
(`DIR/<class>/*.png|jpg`, images already at the model's input size, e.g. the Fashion-MNIST folder of
tools/datasets/fashion_mnist_to_folder.py) in float32, then with the stem, the 1×1 shortcuts or the
classifier computed from rounded operands, and prints each variant's top-1 accuracy and its top-1
agreement with float32, image by image:

    /work/venv/bin/python tools/reference/float_layer_precision.py RUN/best.safetensors /tmp/fashion-mnist/val

The stem variants separate the rounding of the input from that of the weights and sweep the weights'
significand width (bfloat16 keeps 8 bits); `int N` computes the stem exactly from the 8-bit pixels with
the normalisation folded into N-bit fixed-point weights (one scale per output channel) and exact sums,
the most accurate form a stem of one multiply per MAC can take. Normalisation: ImageNet mean and
standard deviation, as the trainer uses.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from birealnet import BiRealConfig, BiRealNet  # noqa: E402

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def load_model(path: str) -> BiRealNet:
    with safe_open(path, "pt") as f:
        configuration = json.loads((f.metadata() or {}).get("bnn.configuration", "{}"))
    integers = lambda key, default: json.loads(configuration.get(key, json.dumps(default)))  # noqa: E731
    config = BiRealConfig(integers("blocks", [6, 8, 12, 6]), integers("widths", [64, 128, 256, 512]),
                          int(configuration.get("classes", 1000)), configuration.get("stem", "imagenet"),
                          configuration.get("variant", "reference"))
    model = BiRealNet(config)
    state = load_file(path)
    model.load_state_dict({k: v for k, v in state.items() if k in model.state_dict()})
    return model.eval()


def load_images(root: str):
    pixels, labels = [], []
    for label, name in enumerate(sorted(os.listdir(root))):
        for file in sorted(os.listdir(os.path.join(root, name))):
            pixels.append(np.array(Image.open(os.path.join(root, name, file)).convert("RGB")))
            labels.append(label)
    return torch.from_numpy(np.stack(pixels)).permute(0, 3, 1, 2).float(), torch.tensor(labels)


def rounded_to_bits(t: torch.Tensor, bits: int) -> torch.Tensor:
    """`t` with its significand rounded to `bits` bits (bfloat16: 8), to nearest."""
    mantissa, exponent = torch.frexp(t)
    return torch.ldexp(torch.round(mantissa * 2.0 ** bits) / 2.0 ** bits, exponent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("images", help="DIR/<class>/* at the model's input size")
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    model = load_model(args.checkpoint)
    pixels, labels = load_images(args.images)
    inputs = (pixels / 255 - MEAN) / STD
    conv1, weight = model.conv1, model.conv1.weight.detach().clone()
    stride, padding = conv1.stride, conv1.padding
    conv = lambda x, w: F.conv2d(x, w, stride=stride, padding=padding)  # noqa: E731
    # Exact pixels: conv(x) = conv(p, W / (255·std)) − conv(mean/std over the image, W), border included.
    folded = weight / (255 * STD.view(1, 3, 1, 1))
    shift = conv(torch.ones(1, *inputs.shape[1:]) * (MEAN / STD), weight)

    def predictions(stem=None, shortcut=None, classifier=None):
        layers = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m is not conv1]
        saved = [(m, m.weight.data.clone()) for m in layers + [model.fc]]
        if shortcut:
            for m in layers:
                m.weight.data = shortcut(m.weight.data)
        if classifier:
            model.fc.weight.data = classifier(model.fc.weight.data)
        hooks = []
        if shortcut:
            hooks = [m.register_forward_pre_hook(lambda _, x: (shortcut(x[0]),)) for m in layers]
        if classifier:
            hooks.append(model.fc.register_forward_pre_hook(lambda _, x: (classifier(x[0]),)))
        out = []
        with torch.no_grad():
            for i in range(0, len(inputs), args.batch):
                if stem:
                    conv1.forward = lambda x, i=i: stem(i, i + len(x))
                out.append(model(inputs[i:i + args.batch]).argmax(1))
        conv1.forward = lambda x: conv(x, weight)
        for h in hooks:
            h.remove()
        for m, w in saved:
            m.weight.data = w
        return torch.cat(out)

    base = predictions()
    print(f"float32: top-1 {100 * (base == labels).float().mean():.2f}% on {len(labels)} images")
    bf16 = lambda t: t.to(torch.bfloat16).float()  # noqa: E731

    def report(name, **variant):
        p = predictions(**variant)
        print(f"{name:50s} agreement {100 * (p == base).float().mean():6.2f}%   "
              f"top-1 {100 * (p == labels).float().mean():.2f}%")

    report("stem: bfloat16 input and weights", stem=lambda a, b: conv(bf16(inputs[a:b]), bf16(weight)))
    report("stem: bfloat16 input, float32 weights", stem=lambda a, b: conv(bf16(inputs[a:b]), weight))
    for bits in (8, 10, 12, 14, 16):
        report(f"stem: float32 input, {bits}-bit weight significands",
               stem=lambda a, b, bits=bits: conv(inputs[a:b], rounded_to_bits(weight, bits)))
    for bits in (8, 12, 14, 16):
        scale = folded.abs().amax(dim=(1, 2, 3), keepdim=True) / (2 ** (bits - 1) - 1)
        fixed = torch.round(folded / scale).double()
        report(f"stem: exact pixels x int{bits} weights, exact sums",
               stem=lambda a, b, fixed=fixed, scale=scale: (
                   conv(pixels[a:b].double(), fixed).float() * scale.view(1, -1, 1, 1) - shift))
    report("1x1 shortcuts: bfloat16 input and weights", shortcut=bf16)
    report("classifier: bfloat16 input and weights", classifier=bf16)


if __name__ == "__main__":
    main()
