#!/usr/bin/env python3
"""Writes the small seed corpora of the fuzz targets (tools/fuzz/corpus/<target>/); standard library only."""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def safetensors(tensors, metadata=None):
    header, blobs, offset = {}, b"", 0
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs += data
        offset += len(data)
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + blobs


def npy(descr, shape, data, version=1):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    prefix = 10 if version == 1 else 12
    header += " " * ((64 - (prefix + len(header) + 1) % 64) % 64) + "\n"
    length = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode() + data


floats = struct.pack("<6f", 1, -2.5, 3, 0, 0.5, -1)
write("safetensors", "checkpoint", safetensors({
    "fc.weight": ("F32", [2, 3], floats), "fc.bias": ("F16", [2], struct.pack("<2e", 1, -1)),
    "bn.num_batches_tracked": ("I64", [], struct.pack("<q", 7)), "optimizer.fc.weight.exp_avg": ("BF16", [1], b"\x80\x3f"),
}, {"format": "pt", "bnn.extra_tensors": '["optimizer.fc.weight.exp_avg"]',
    "bnn.training_progress": '{"batchInEpoch":0,"epoch":2,"globalStep":8}'}))
write("safetensors", "empty", safetensors({}))
write("safetensors", "bool-u8-f64", safetensors({"b": ("BOOL", [2], b"\x00\x01"), "u": ("U8", [1], b"\x05"),
                                                 "d": ("F64", [1], struct.pack("<d", 1e300)), "i": ("I32", [1], struct.pack("<i", -3))}))
write("npy", "f4", npy("<f4", "(2, 3)", floats))
write("npy", "i8", npy("<i8", "(2,)", struct.pack("<2q", 3, -1)))
write("npy", "f2-v2", npy("<f2", "(1, 2)", struct.pack("<2e", 1, 2), version=2))
write("npy", "u1-scalar", npy("|u1", "()", b"\x07"))
write("yaml", "reference", """# reference configuration excerpt
arch: birealnet34
set: ImageNet
base_lr: 0.001
beta: [0.9, 0.999]
crop_scale: [0.08, 1.0]
is_dynamic_loss_scale: True
epochs: 300
name: 'quoted: text'
empty:
""")
write("yaml", "flow", "blocks: [6, 8, 12, 6]\nwidths: [64,128 , 256,512]\nmin_lr: 1.0e-6\nflag: no\n")
