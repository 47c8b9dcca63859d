#!/usr/bin/env python3
"""Yardstick: onnxruntime's float convolution on the distinct conv shapes of Bi-Real Net 34.

Times one ONNX `Conv` node per shape (NCHW float32, random weights, no bias) with onnxruntime on
the CPU, the fastest of many runs, so `bnn-bench` numbers can be compared with a tuned float
library on this machine. Run with the project's Python environment, e.g.

    /work/venv/bin/python tools/yardsticks/onnxruntime_conv.py --threads 1 --batch 1
    /work/venv/bin/python tools/yardsticks/onnxruntime_conv.py --json > ort.json

Needs numpy, onnx and onnxruntime. Not used by any test.
"""
import argparse
import json
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

# name, input size, in channels, out channels, kernel, stride, padding (same table as bnn-bench)
SHAPES = [
    ("stem 7x7/2 224²×3→64", 224, 3, 64, 7, 2, 3),
    ("3x3/1 56²×64→64", 56, 64, 64, 3, 1, 1),
    ("3x3/2 56²×64→128", 56, 64, 128, 3, 2, 1),
    ("1x1 28²×64→128", 28, 64, 128, 1, 1, 0),
    ("3x3/1 28²×128→128", 28, 128, 128, 3, 1, 1),
    ("3x3/2 28²×128→256", 28, 128, 256, 3, 2, 1),
    ("1x1 14²×128→256", 14, 128, 256, 1, 1, 0),
    ("3x3/1 14²×256→256", 14, 256, 256, 3, 1, 1),
    ("3x3/2 14²×256→512", 14, 256, 512, 3, 2, 1),
    ("1x1 7²×256→512", 7, 256, 512, 1, 1, 0),
    ("3x3/1 7²×512→512", 7, 512, 512, 3, 1, 1),
]


def conv_model(batch, size, cin, cout, k, stride, pad, rng):
    weight = numpy_helper.from_array(rng.standard_normal((cout, cin, k, k)).astype(np.float32) * 0.05, "w")
    node = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[k, k], strides=[stride, stride],
                            pads=[pad, pad, pad, pad])
    out = (size + 2 * pad - k) // stride + 1
    graph = helper.make_graph(
        [node], "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, cin, size, size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, cout, out, out])],
        initializer=[weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, out


def fastest(session, feeds, min_runs, min_seconds):
    session.run(None, feeds)
    best, runs, start = float("inf"), 0, time.perf_counter()
    while runs < min_runs or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        session.run(None, feeds)
        best = min(best, time.perf_counter() - t0)
        runs += 1
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[1], help="batch sizes (default 1)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1], help="intra-op threads (default 1)")
    parser.add_argument("--layer", default="", help="only layers whose name contains this text")
    parser.add_argument("--seconds", type=float, default=0.5, help="minimum time per measurement")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    rows = []
    for batch in args.batch:
        for name, size, cin, cout, k, stride, pad in SHAPES:
            if args.layer not in name:
                continue
            model, out = conv_model(batch, size, cin, cout, k, stride, pad, rng)
            x = rng.standard_normal((batch, cin, size, size)).astype(np.float32)
            macs = batch * out * out * cout * cin * k * k
            for threads in args.threads:
                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
                seconds = fastest(session, {"x": x}, 5, args.seconds)
                rows.append({"layer": name, "batch": batch, "threads": threads, "seconds": seconds,
                             "gflops": 2 * macs / seconds / 1e9})
    if args.json:
        print(json.dumps({"onnxruntime": ort.__version__, "convolutions": rows}, indent=2))
        return
    print(f"onnxruntime {ort.__version__} float Conv (fastest run)")
    print(f"{'layer':24} {'N':>3} {'thr':>3} {'ms':>9} {'GFLOP/s':>8}")
    for r in rows:
        print(f"{r['layer']:24} {r['batch']:>3} {r['threads']:>3} {r['seconds'] * 1e3:9.3f} {r['gflops']:8.1f}")


if __name__ == "__main__":
    main()
