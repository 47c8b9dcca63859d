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


def bnnpack_checksum(metadata, tensors):
    """FNV-1a 64 of the Packed Model Format article: metadata but `checksum`, then tensors, each in
    byte order of its key or name, every key, value, name and data preceded by its length (u64 LE)."""
    state = 0xCBF29CE484222325

    def field(data):
        nonlocal state
        for byte in struct.pack("<Q", len(data)) + data:
            state = ((state ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF

    for key in sorted(metadata, key=lambda k: k.encode()):
        if key != "checksum":
            field(key.encode())
            field(metadata[key].encode())
    for name in sorted(tensors, key=lambda n: n.encode()):
        field(name.encode())
        field(tensors[name][2])
    return "fnv1a64:%016x" % state


def bnnpack(graph, tensors, input_size, class_names, architecture):
    """A .bnnpack file (format version 2) of a graph (list of step dicts) and its tensors."""
    height, width, channels = input_size
    metadata = {"format": "bnn-packed-model", "format_version": "2", "input_height": str(height),
                "input_width": str(width), "input_channels": str(channels), "architecture": architecture,
                "class_names": json.dumps(class_names), "graph": json.dumps(graph, separators=(",", ":"))}
    metadata["checksum"] = bnnpack_checksum(metadata, tensors)
    return safetensors(tensors, metadata)


def f32(shape, start=0.25):
    count = 1
    for extent in shape:
        count *= extent
    return ("F32", shape, struct.pack("<%df" % count, *[start + 0.5 * (i % 5) - 1 for i in range(count)]))


def sign_bits(rows, channels, negative):
    """U8 rows of ceil(channels/64) little-endian words; bit c of row r set when negative(r, c)."""
    words = (channels + 63) // 64
    data = b""
    for r in range(rows):
        bits = sum(1 << c for c in range(channels) if negative(r, c))
        data += bits.to_bytes(8 * words, "little")
    return data


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

# .bnnpack seeds: one float net, one binary net with a zero mask, one of pooling and per-channel steps.
write("bnnpack", "float", bnnpack([
    {"kind": "convolution", "name": "conv", "input_channels": 1, "output_channels": 2, "kernel_size": 1, "stride": 1,
     "padding": 0, "groups": 1, "weight": "steps.0.weight", "scale": "steps.0.scale", "shift": "steps.0.shift"},
    {"kind": "relu"}, {"kind": "global_average_pool"},
    {"kind": "linear", "name": "fc", "input_features": 2, "output_features": 2, "weight": "steps.3.weight",
     "scale": "steps.3.scale", "shift": "steps.3.shift"},
], {"steps.0.weight": f32([2, 1, 1, 1]), "steps.0.scale": f32([2], 1), "steps.0.shift": f32([2]),
    "steps.3.weight": f32([2, 2]), "steps.3.scale": f32([2], 1), "steps.3.shift": f32([2])},
    (2, 2, 1), ["a", "b"], "make_seeds float"))
write("bnnpack", "binary", bnnpack([
    {"kind": "residual", "body": [
        {"kind": "binary_convolution", "name": "block.conv", "input_channels": 2, "output_channels": 2, "kernel_size": 3,
         "stride": 1, "padding": 1, "groups": 1, "weight": "steps.0.body.0.weight",
         "zero_mask": "steps.0.body.0.weight_zero_mask", "scale": "steps.0.body.0.scale", "shift": "steps.0.body.0.shift"},
        {"kind": "clamp", "minimum": -1.0, "maximum": 1.0}], "shortcut": [], "post": [{"kind": "relu"}]},
    {"kind": "flatten"},
    {"kind": "binary_linear", "name": "fc", "input_features": 18, "output_features": 3, "weight": "steps.2.weight",
     "scale": "steps.2.scale", "shift": "steps.2.shift"},
], {"steps.0.body.0.weight": ("U8", [2, 3, 3, 8], sign_bits(18, 2, lambda r, c: (r + c) % 3 == 0)),
    "steps.0.body.0.weight_zero_mask": ("U8", [2, 3, 3, 8], sign_bits(18, 2, lambda r, c: r == 4 and c == 1)),
    "steps.0.body.0.scale": f32([2], 1), "steps.0.body.0.shift": f32([2]),
    "steps.2.weight": ("U8", [3, 8], sign_bits(3, 18, lambda r, c: (r * c) % 2 == 1)),
    "steps.2.scale": f32([3], 1), "steps.2.shift": f32([3])},
    (3, 3, 2), ["x", "y", "z"], "make_seeds binary"))
write("bnnpack", "pooling", bnnpack([
    {"kind": "convolution", "name": "grouped", "input_channels": 2, "output_channels": 4, "kernel_size": 1, "stride": 1,
     "padding": 0, "groups": 2, "weight": "steps.0.weight", "scale": "steps.0.scale", "shift": "steps.0.shift"},
    {"kind": "add_bias", "bias": "steps.1.bias"}, {"kind": "prelu", "slopes": "steps.2.slopes"},
    {"kind": "scale_shift", "scale": "steps.3.scale", "shift": "steps.3.shift"}, {"kind": "sign"},
    {"kind": "concatenate", "branches": [
        [{"kind": "max_pool", "kernel_size": 3, "stride": 2, "padding": 1}],
        [{"kind": "average_pool", "kernel_size": 2, "stride": 2, "padding": 0, "ceil_mode": True}]]},
    {"kind": "global_average_pool"},
    {"kind": "linear", "name": "fc", "input_features": 8, "output_features": 2, "weight": "steps.7.weight",
     "scale": "steps.7.scale", "shift": "steps.7.shift"},
], {"steps.0.weight": f32([4, 1, 1, 1]), "steps.0.scale": f32([4], 1), "steps.0.shift": f32([4]),
    "steps.1.bias": f32([4]), "steps.2.slopes": f32([4], 0.1), "steps.3.scale": f32([4], 1), "steps.3.shift": f32([4]),
    "steps.7.weight": f32([2, 8]), "steps.7.scale": f32([2], 1), "steps.7.shift": f32([2])},
    (5, 5, 2), ["p", "q"], "make_seeds pooling"))
