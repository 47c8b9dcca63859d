"""Generates the drop-path parity fixture: the reduced Bi-Real Net of make_parity_fixtures.py (reference
variant, same initial weights and batch) trained one forward/backward pass with stochastic depth whose
per-sample masks are fixed, so both sides drop the same branches.

Drop rates are linear in depth as timm's (and BiRealNet's): block i of n gets RATE * i / (n - 1); block 0
has rate 0 and no drop path. The mask of block i, sample j is 0 when (i + j) % 3 == 0 (for i > 0), else 1.

Writes birealnet_small_droppath.safetensors (< 200 kB): masks (blocks x batch), train_logits, loss and the
gradients of a few tensors (grad.*). The weights and the input come from birealnet_small_reference.safetensors.
Usage: python tools/reference/make_droppath_fixture.py [--out Tests/BiRealNetTests/Fixtures]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_parity_fixtures import SEED, make_batch, make_initial_state, make_model, train_forward_backward  # noqa: E402

RATE = 0.2
GRADIENTS = ["conv1.weight", "bn1.weight", "layer1.1.binary_conv.weight", "layer2.0.downsample.1.weight",
             "layer3.2.binary_conv.weight", "layer4.3.bn1.weight", "bn2.weight", "fc.weight", "fc.bias"]


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "..", "Tests", "BiRealNetTests", "Fixtures"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=default_out, help="output directory (default: %(default)s)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    state = make_initial_state("reference")
    x, labels = make_batch()
    model = make_model("reference", torch.float32, state)
    blocks = [b for layer in (model.layer1, model.layer2, model.layer3, model.layer4) for b in layer]
    n = len(blocks)
    masks = torch.ones(n, x.shape[0])
    for i, block in enumerate(blocks):
        if i == 0:
            continue
        for j in range(x.shape[0]):
            masks[i, j] = 0.0 if (i + j) % 3 == 0 else 1.0
        block.drop_mask = (masks[i], RATE * i / (n - 1))
    logits, loss = train_forward_backward(model, x, labels)
    params = dict(model.named_parameters())
    tensors = {"masks": masks, "train_logits": logits, "loss": loss.reshape(())}
    tensors.update({f"grad.{name}": params[name].grad.detach().clone() for name in GRADIENTS})
    info = {"variant": "reference", "seed": SEED, "drop_path_rate": RATE, "torch_version": torch.__version__,
            "masks": "block i, sample j: 0 when (i + j) % 3 == 0 and i > 0, else 1"}
    path = os.path.join(args.out, "birealnet_small_droppath.safetensors")
    save_file({k: v.contiguous() for k, v in tensors.items()}, path,
              metadata={"fixture_info": json.dumps(info, sort_keys=True, indent=1)})
    print(f"wrote {path} ({os.path.getsize(path)} bytes), loss {float(loss):.6f}")


if __name__ == "__main__":
    main()
