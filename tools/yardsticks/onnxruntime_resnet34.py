#!/usr/bin/env python3
"""Yardstick: onnxruntime running the float ResNet-34 of torchvision on the CPU.

Exports torchvision's `resnet34` (random weights: the timing does not depend on them; nothing is
downloaded) to ONNX in a temporary folder, then times whole-model inference with onnxruntime's CPU
execution provider at 224×224: the fastest of many runs and the median, for each batch size and
thread count asked for (intra-op threads; inter-op 1; graph optimisations on). `bnn-bench models`
compares the packed Bi-Real Net 34 engine with this number. Run with the project's Python
environment, e.g.

    /work/venv/bin/python tools/yardsticks/onnxruntime_resnet34.py --threads 1 --batch 1
    /work/venv/bin/python tools/yardsticks/onnxruntime_resnet34.py --threads 1,2 --batch 1,8 --json

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


def export_resnet34(path):
    torch.manual_seed(0)
    model = torchvision.models.resnet34(weights=None).eval()
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
    parser.add_argument("--batch", default="1", help="batch sizes, comma-separated (default 1)")
    parser.add_argument("--threads", default="1", help="intra-op thread counts, comma-separated (default 1)")
    parser.add_argument("--seconds", type=float, default=3.0, help="minimum measuring time per row")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    batches = [int(b) for b in args.batch.split(",")]
    thread_counts = [int(t) for t in args.threads.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "resnet34.onnx")
        export_resnet34(path)
        for threads in thread_counts:
            for batch in batches:
                best, median, runs = measure(path, batch, threads, 10, args.seconds)
                rows.append({"model": "resnet34", "batch": batch, "threads": threads, "fastest_ms": best * 1e3,
                             "median_ms": median * 1e3, "runs": runs,
                             "images_per_second": batch / best})
    if args.json:
        print(json.dumps({"onnxruntime": ort.__version__, "torch": torch.__version__, "rows": rows}, indent=2))
        return
    print(f"onnxruntime {ort.__version__}, float ResNet-34 (torchvision {torchvision.__version__}) at 224x224, CPU")
    print(f"{'N':>3} {'thr':>4} {'fastest ms':>11} {'median ms':>10} {'img/s':>8} {'runs':>5}")
    for r in rows:
        print(f"{r['batch']:>3} {r['threads']:>4} {r['fastest_ms']:>11.2f} {r['median_ms']:>10.2f} "
              f"{r['images_per_second']:>8.1f} {r['runs']:>5}")


if __name__ == "__main__":
    main()
