#!/usr/bin/env python3
"""Write torchvision's resize results on PIL images for the augmentation comparison test.

usage: make_augment_reference.py OUTDIR

Writes into OUTDIR two photo-like sources (landscape.ppm, portrait.ppm: gradients, edges and
noise), one expected result per case (case_<n>.ppm) and cases.txt, one case a line:
  crop SOURCE X Y WIDTH HEIGHT OUT_WIDTH OUT_HEIGHT EXPECTED   F.resized_crop, bilinear
  eval SOURCE SIZE EXPECTED                                   Resize(SIZE*256//224), CenterCrop(SIZE)
torchvision resizes PIL images with PIL's antialiased bilinear filter: the numbers src/data/
augment.cpp must reproduce. Fails, never skips, where no Python imports torchvision and PIL.
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_interpreter import ensure_torchvision  # noqa: E402

ensure_torchvision()
import torchvision.transforms as T  # noqa: E402
import torchvision.transforms.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

BILINEAR = T.InterpolationMode.BILINEAR


def photo_like(width, height, seed):
    """Smooth colour gradients, a sharp-edged disc and per-pixel noise, so that both the filter's
    averaging and its edge handling show up in the result."""
    rng = random.Random(seed)
    data = bytearray()
    cx, cy, r2 = width * 0.6, height * 0.4, (min(width, height) * 0.3) ** 2
    for y in range(height):
        for x in range(width):
            inside = (x - cx) ** 2 + (y - cy) ** 2 < r2
            base = (30 + 180 * x // width, 30 + 180 * y // height, 220 if inside else 40)
            data.extend(max(0, min(255, v + rng.randint(-20, 20))) for v in base)
    return Image.frombytes("RGB", (width, height), bytes(data))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    sources = {"landscape.ppm": photo_like(317, 211, 1), "portrait.ppm": photo_like(151, 263, 2)}
    for name, image in sources.items():
        image.save(os.path.join(out, name))

    # (source, x, y, width, height, out_width, out_height): shrinking by integer and fractional
    # factors, enlarging, a crop touching the far edges, one axis shrunk while the other grows,
    # a same-size copy, a few pixels blown up.
    crops = [
        ("landscape.ppm", 0, 0, 317, 211, 64, 64),
        ("landscape.ppm", 7, 5, 301, 199, 97, 61),
        ("landscape.ppm", 20, 30, 150, 100, 224, 224),
        ("landscape.ppm", 200, 111, 117, 100, 56, 48),
        ("landscape.ppm", 3, 90, 311, 20, 31, 100),
        ("portrait.ppm", 11, 13, 40, 30, 40, 30),
        ("portrait.ppm", 70, 100, 3, 2, 50, 40),
        ("portrait.ppm", 0, 0, 151, 263, 224, 224),
    ]
    evals = [("landscape.ppm", 224), ("portrait.ppm", 224), ("landscape.ppm", 160),
             ("portrait.ppm", 96)]

    lines = []
    for n, (source, x, y, w, h, ow, oh) in enumerate(crops):
        expected = "case_%d.ppm" % n
        F.resized_crop(sources[source], y, x, h, w, [oh, ow], BILINEAR).save(os.path.join(out, expected))
        lines.append("crop %s %d %d %d %d %d %d %s" % (source, x, y, w, h, ow, oh, expected))
    for n, (source, size) in enumerate(evals, start=len(crops)):
        expected = "case_%d.ppm" % n
        pipeline = T.Compose([T.Resize(size * 256 // 224, interpolation=BILINEAR), T.CenterCrop(size)])
        pipeline(sources[source]).save(os.path.join(out, expected))
        lines.append("eval %s %d %s" % (source, size, expected))
    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %d cases into %s" % (len(lines), out))


if __name__ == "__main__":
    main()
