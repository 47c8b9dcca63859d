"""Measures PyTorch CPU training throughput of the reference Bi-Real Net (the yardstick for the Swift trainer).

Configurations (each run in its own subprocess, so peak RSS is per configuration):
  birealnet34  224x224, 1000 classes, batch 16 and 32, torch threads 1 and 2
  small        Bi-Real 18 layout, widths 64..512, small stem, 32x32, 10 classes, batch 64, threads 1 and 2
  reactnet-a   ReActNet-A (tools/reference/reactnet.py), 224x224, 1000 classes (only with --only / --one)
One training step = forward (train mode) + softmax cross-entropy, backward, Adam step (lr 1e-3), timed separately
with time.perf_counter after --warmup untimed steps; reported are medians over --iters steps, plus the process
CPU time per step (all threads), which is less sensitive to other processes on a shared machine than wall time
(for 1 thread, batch / CPU time is the throughput an idle core would give).
With --autocast bf16 the forward pass and loss run under torch.autocast("cpu", dtype=torch.bfloat16)
(PyTorch's CPU mixed precision: convolutions and linear layers in bfloat16, weights and optimizer fp32).

Usage:
  python tools/reference/pytorch_train_speed.py [--iters 3] [--warmup 1] [--autocast fp32|bf16] [--json results.json]
  python tools/reference/pytorch_train_speed.py --one MODEL BATCH THREADS   (a single configuration)
  python tools/reference/pytorch_train_speed.py --only birealnet34 16 2      (one configuration, in a subprocess)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from birealnet import BiRealConfig, BiRealNet, birealnet34_config  # noqa: E402
from reactnet import ReActNetA  # noqa: E402

REACTNET_A_WIDTHS = [32, 64, 128, 128, 256, 256] + [512] * 6 + [1024, 1024]

CONFIGS = [("birealnet34", 16, 1), ("birealnet34", 16, 2), ("birealnet34", 32, 1), ("birealnet34", 32, 2),
           ("small", 64, 1), ("small", 64, 2)]


def build(model_name: str) -> tuple[torch.nn.Module, int, int]:
    if model_name == "birealnet34":
        return BiRealNet(birealnet34_config(1000)), 224, 1000
    if model_name == "small":
        config = BiRealConfig([4, 4, 4, 4], [64, 128, 256, 512], 10, "small", "reference")
        return BiRealNet(config), 32, 10
    if model_name == "reactnet-a":
        return ReActNetA(REACTNET_A_WIDTHS, 1000, small_stem=False), 224, 1000
    raise ValueError(f"unknown model {model_name!r}; expected birealnet34, small or reactnet-a")


def run_one(model_name: str, batch: int, threads: int, iters: int, warmup: int, autocast: str = "fp32") -> dict:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model, size, classes = build(model_name)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, size, size)
    labels = torch.randint(0, classes, (batch,))
    forward, backward, step, cpu = [], [], [], []
    for i in range(warmup + iters):
        c0 = time.process_time()
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast == "bf16"):
            loss = F.cross_entropy(model(x), labels)
        t1 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        optimizer.step()
        t3 = time.perf_counter()
        c3 = time.process_time()
        if i >= warmup:
            cpu.append(c3 - c0)
            forward.append(t1 - t0)
            backward.append(t2 - t1)
            step.append(t3 - t2)
    f, b, s = (statistics.median(v) for v in (forward, backward, step))
    return {"model": model_name, "image": size, "batch": batch, "threads": threads, "iters": iters, "autocast": autocast,
            "forward_s": f, "backward_s": b, "adam_step_s": s, "step_total_s": f + b + s,
            "images_per_s": batch / (f + b + s), "cpu_s_per_step": statistics.median(cpu),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            "load_average_1min": os.getloadavg()[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    parser.add_argument("--one", nargs=3, metavar=("MODEL", "BATCH", "THREADS"), default=None)
    parser.add_argument("--only", nargs=3, metavar=("MODEL", "BATCH", "THREADS"), default=None,
                        help="measure only this configuration (in a subprocess, like the full list)")
    parser.add_argument("--autocast", choices=["fp32", "bf16"], default="fp32",
                        help="bf16: forward and loss under torch.autocast('cpu', dtype=torch.bfloat16)")
    args = parser.parse_args()

    if args.one:
        model_name, batch, threads = args.one[0], int(args.one[1]), int(args.one[2])
        print(json.dumps(run_one(model_name, batch, threads, args.iters, args.warmup, args.autocast)))
        return 0

    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, autocast {args.autocast}")
    header = f"{'model':<12}{'px':>5}{'batch':>6}{'thr':>4}{'fwd s':>9}{'bwd s':>9}{'adam s':>8}{'img/s':>8}{'cpu s':>8}{'RSS MiB':>9}{'load':>6}"
    print(header)
    results = []
    configs = [(args.only[0], int(args.only[1]), int(args.only[2]))] if args.only else CONFIGS
    for model_name, batch, threads in configs:
        command = [sys.executable, os.path.abspath(__file__), "--one", model_name, str(batch), str(threads),
                   "--iters", str(args.iters), "--warmup", str(args.warmup), "--autocast", args.autocast]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{model_name} batch {batch} threads {threads} failed:\n{done.stderr}", file=sys.stderr)
            return 1
        r = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(r)
        print(f"{r['model']:<12}{r['image']:>5}{r['batch']:>6}{r['threads']:>4}{r['forward_s']:>9.3f}"
              f"{r['backward_s']:>9.3f}{r['adam_step_s']:>8.3f}{r['images_per_s']:>8.2f}{r['cpu_s_per_step']:>8.2f}{r['peak_rss_mib']:>9.0f}{r['load_average_1min']:>6.2f}",
              flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
