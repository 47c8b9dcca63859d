#!/usr/bin/env python3
"""Yardstick for BNNData throughput: Pillow decode + torchvision training transform, per core.

Per image, as torchvision's ImageFolder + the reference training transform do:
  Image.open(bytes).convert("RGB") -> RandomResizedCrop(224) -> RandomHorizontalFlip
  -> ToTensor -> Normalize(ImageNet mean/std)
Files are read into memory first (no disk I/O in the timing), torch uses one thread, and the work runs in
one process (one core) unless --processes N is given (then N worker processes, as DataLoader workers).
Printed: images/s of wall-clock time, and images per CPU second (process CPU time; robust to other load).

With --randaugment: timm's create_transform(224, auto_augment="rand-m9-mstd0.5-inc1", interpolation="bicubic").

Usage: /work/venv/bin/python tools/yardsticks/pillow_pipeline.py DIR [--repeat 2] [--processes 1] [--eval] [--randaugment]
"""
import argparse
import glob
import io
import multiprocessing as mp
import os
import time


def build_transform(evaluate, randaugment=False):
    import torchvision.transforms as T
    normalize = T.Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
    if randaugment:
        # timm's training transform with auto_augment rand-m9-mstd0.5-inc1 and bicubic resizing.
        from timm.data import create_transform
        return create_transform(224, is_training=True, auto_augment="rand-m9-mstd0.5-inc1", interpolation="bicubic",
                                color_jitter=None, re_prob=0.0, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
    if evaluate:
        return T.Compose([T.Resize(256, interpolation=T.InterpolationMode.BILINEAR), T.CenterCrop(224),
                          T.ToTensor(), normalize])
    return T.Compose([T.RandomResizedCrop(224, interpolation=T.InterpolationMode.BILINEAR),
                      T.RandomHorizontalFlip(), T.ToTensor(), normalize])


def work(args):
    blobs, repeat, evaluate, randaugment = args
    import torch
    from PIL import Image
    torch.set_num_threads(1)
    torch.manual_seed(0)
    transform = build_transform(evaluate, randaugment)
    for b in blobs[:4]:  # warm-up
        transform(Image.open(io.BytesIO(b)).convert("RGB"))
    start, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        for b in blobs:
            transform(Image.open(io.BytesIO(b)).convert("RGB"))
    return len(blobs) * repeat, time.perf_counter() - start, time.process_time() - start_cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--eval", action="store_true")
    parser.add_argument("--randaugment", action="store_true", help="timm rand-m9-mstd0.5-inc1 with bicubic")
    args = parser.parse_args()
    files = sorted(glob.glob(os.path.join(args.dir, "*.jpg")) + glob.glob(os.path.join(args.dir, "*.JPEG")))
    blobs = [open(f, "rb").read() for f in files]
    if args.processes == 1:
        results = [work((blobs, args.repeat, args.eval, args.randaugment))]
    else:
        chunks = [blobs[i::args.processes] for i in range(args.processes)]
        with mp.Pool(args.processes) as pool:
            results = pool.map(work, [(c, args.repeat, args.eval, args.randaugment) for c in chunks])
    images = sum(r[0] for r in results)
    rate = images / max(r[1] for r in results)
    cpu_rate = images / sum(r[2] for r in results)
    kind = 'eval' if args.eval else 'train+RA (timm)' if args.randaugment else 'train'
    print(f"pillow+torchvision {kind}: {images} images, {args.processes} process(es): "
          f"{rate:.1f} images/s wall, {rate / args.processes:.1f} per process, {cpu_rate:.1f} images per CPU second")


if __name__ == "__main__":
    main()
