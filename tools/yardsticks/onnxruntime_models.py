#!/usr/bin/env python3
"""Yardstick: onnxruntime running float ImageNet classifiers on the CPU.

Exports each model asked for (random weights: the timing does not depend on them; nothing is
downloaded) to ONNX in a temporary folder, then times whole-model inference with onnxruntime's CPU
execution provider at 224×224: the fastest of many runs and the median, for each batch size and
thread count asked for (intra-op threads; inter-op 1; graph optimisations on). The models:
torchvision's `resnet18` and `resnet34`, and `mobilenet_v1` (Howard et al. 2017, width 1.0: a 3×3/2
convolution to 32 channels, then 13 depthwise-separable blocks, each a depthwise 3×3 and a pointwise
1×1 convolution with BatchNorm and ReLU, to 1024 channels, global average pooling and a 1000-way
classifier; torchvision has none, so it is built here). `bnn-bench models` compares the packed
engines with these numbers (`--ort-resnet34-ms`, `--ort-resnet18-ms`, `--ort-mobilenet-v1-ms`). Run with
the project's Python environment, e.g.

    /work/venv/bin/python tools/yardsticks/onnxruntime_models.py --model resnet34 --threads 1 --batch 1
    /work/venv/bin/python tools/yardsticks/onnxruntime_models.py --model resnet18,mobilenet_v1 --threads 1,2 --json

Needs torch, torchvision, onnx and onnxruntime (`/work/venv/bin/pip install torchvision` when
missing). Not used by any test.
"""
import argparse
import json
import os
import statistics
import tempfile
import time

import numpy as np
import onnxruntime as ort
import torch
import torchvision


def mobilenet_v1():
    """MobileNet-v1 (width 1.0) as in the paper's Table 1."""
    nn = torch.nn

    def unit(cin, cout, stride, groups):
        kernel = 3 if groups > 1 or cin == 3 else 1
        return [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
                nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

    layers = unit(3, 32, 2, 1)
    plan = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)]
    plan += [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]
    for cin, cout, stride in plan:
        layers += unit(cin, cin, stride, cin) + unit(cin, cout, 1, 1)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 1000))


MODELS = {
    "resnet18": lambda: torchvision.models.resnet18(weights=None),
    "resnet34": lambda: torchvision.models.resnet34(weights=None),
    "mobilenet_v1": mobilenet_v1,
}


def export(name, path):
    torch.manual_seed(0)
    model = MODELS[name]().eval()
    example = torch.randn(1, 3, 224, 224)
    torch.onnx.export(model, (example,), path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17,
                      dynamo=False)


def measure(path, batch, threads, min_runs, min_seconds):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feeds = {"input": np.random.default_rng(0).standard_normal((batch, 3, 224, 224)).astype(np.float32)}
    for _ in range(3):
        session.run(None, feeds)
    times, start = [], time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        session.run(None, feeds)
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), len(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet34",
                        help="models, comma-separated, of " + ", ".join(MODELS) + " (default resnet34)")
    parser.add_argument("--batch", default="1", help="batch sizes, comma-separated (default 1)")
    parser.add_argument("--threads", default="1", help="intra-op thread counts, comma-separated (default 1)")
    parser.add_argument("--seconds", type=float, default=3.0, help="minimum measuring time per row")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    batches = [int(b) for b in args.batch.split(",")]
    thread_counts = [int(t) for t in args.threads.split(",")]
    names = args.model.split(",")
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        parser.error(f"--model: unknown {', '.join(unknown)}; expected some of {', '.join(MODELS)}")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            path = os.path.join(folder, name + ".onnx")
            export(name, path)
            for threads in thread_counts:
                for batch in batches:
                    best, median, runs = measure(path, batch, threads, 10, args.seconds)
                    rows.append({"model": name, "batch": batch, "threads": threads, "fastest_ms": best * 1e3,
                                 "median_ms": median * 1e3, "runs": runs,
                                 "images_per_second": batch / best})
    if args.json:
        print(json.dumps({"onnxruntime": ort.__version__, "torch": torch.__version__, "rows": rows}, indent=2))
        return
    print(f"onnxruntime {ort.__version__}, float models (torchvision {torchvision.__version__}) at 224x224, CPU")
    print(f"{'model':>13} {'N':>3} {'thr':>4} {'fastest ms':>11} {'median ms':>10} {'img/s':>8} {'runs':>5}")
    for r in rows:
        print(f"{r['model']:>13} {r['batch']:>3} {r['threads']:>4} {r['fastest_ms']:>11.2f} {r['median_ms']:>10.2f} "
              f"{r['images_per_second']:>8.1f} {r['runs']:>5}")


if __name__ == "__main__":
    main()
