#!/usr/bin/env python3
"""Convert Fashion-MNIST (Debian package `dataset-fashion-mnist`) into an image folder for birealnet-train.

    apt-get install dataset-fashion-mnist
    python3 tools/datasets/fashion_mnist_to_folder.py /tmp/fashion-mnist
    swift run -c release birealnet-train --data /tmp/fashion-mnist --image-size 28 ...

Writes OUT/train/<class>/<index>.png (60,000 images) and OUT/val/<class>/<index>.png (the 10,000 test
images), 28x28 grayscale PNG. Class folders are named `<label>_<name>` so that sorting them keeps the
dataset's label order. Uses only the Python standard library.
"""
import argparse
import gzip
import os
import struct
import sys
import zlib

CLASSES = ["0_t-shirt_top", "1_trouser", "2_pullover", "3_dress", "4_coat",
           "5_sandal", "6_shirt", "7_sneaker", "8_bag", "9_ankle_boot"]


def read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        data = f.read()
    found, count = struct.unpack(">II", data[:8])
    if found != magic:
        sys.exit(f"{path}: not an IDX file with magic {magic:#x} (found {found:#x})")
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        return [data[16 + i * rows * cols:16 + (i + 1) * rows * cols] for i in range(count)], rows, cols
    return list(data[8:8 + count]), None, None


def png_gray(pixels, width, height):
    raw = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))

    def chunk(kind, payload):
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="output folder")
    parser.add_argument("--source", default="/usr/share/datasets/fashion-mnist", help="folder with the .gz IDX files")
    args = parser.parse_args()
    for split, prefix in [("train", "train"), ("val", "t10k")]:
        images, rows, cols = read_idx(os.path.join(args.source, f"{prefix}-images-idx3-ubyte.gz"), 0x803)
        labels, _, _ = read_idx(os.path.join(args.source, f"{prefix}-labels-idx1-ubyte.gz"), 0x801)
        if len(images) != len(labels):
            sys.exit(f"{prefix}: {len(images)} images but {len(labels)} labels")
        for name in CLASSES:
            os.makedirs(os.path.join(args.out, split, name), exist_ok=True)
        for index, (pixels, label) in enumerate(zip(images, labels)):
            path = os.path.join(args.out, split, CLASSES[label], f"{index:05d}.png")
            with open(path, "wb") as f:
                f.write(png_gray(pixels, cols, rows))
        print(f"{split}: {len(images)} images in {os.path.join(args.out, split)}")


if __name__ == "__main__":
    main()
