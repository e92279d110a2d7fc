#!/usr/bin/env python3
"""torchvision's input pipeline over a Food-101-layout tree, for a side-by-side figure with bench_loader.

usage: peer_torch_loader.py DIR [--image-size 224] [--batch-size 64] [--batches N] [--epochs 1]
                            [--decode-images 1000] [--seed 0] [--json FILE]

One process, one thread (DataLoader num_workers=0, torch.set_num_threads(1)), so the figures are
per core: PIL decoding alone over --decode-images images spread evenly over meta/train.txt, then
--epochs shuffled epochs (each whole, or --batches batches) of the usual training transform: PIL
decode and convert("RGB"), RandomResizedCrop, RandomHorizontalFlip, ToTensor, batched by the
DataLoader. Each decode pass is repeated --epochs times too.
Prints images/s and source megapixels/s of each; --json writes them with the settings.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_interpreter import ensure_torchvision  # noqa: E402

ensure_torchvision()
import PIL  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
from PIL import Image  # noqa: E402
from torchvision import transforms  # noqa: E402


def read_split(root):
    with open(os.path.join(root, "meta", "classes.txt")) as f:
        classes = [line.strip() for line in f if line.strip()]
    labels = {name: i for i, name in enumerate(classes)}
    with open(os.path.join(root, "meta", "train.txt")) as f:
        names = [line.strip() for line in f if line.strip()]
    return [(os.path.join(root, "images", name + ".jpg"), labels[name.split("/")[0]]) for name in names]


class Food101(torch.utils.data.Dataset):
    """The training split, counting the source pixels it decodes."""

    def __init__(self, entries, transform):
        self.entries, self.transform, self.pixels = entries, transform, 0

    def __len__(self):
        return len(self.entries)

    def __getitem__(self, i):
        path, label = self.entries[i]
        with Image.open(path) as image:
            image = image.convert("RGB")
        self.pixels += image.width * image.height
        return self.transform(image), label


def decode_only(paths, passes):
    pixels, start = 0, time.perf_counter()
    for _ in range(passes):
        for path in paths:
            with Image.open(path) as image:
                image = image.convert("RGB")
            pixels += image.width * image.height
    seconds = time.perf_counter() - start
    images = passes * len(paths)
    return {"name": "decode/pil/threads:1", "images": images, "seconds": seconds,
            "images_per_second": images / seconds, "megapixels_per_second": pixels / 1e6 / seconds}


def pipeline(entries, args):
    transform = transforms.Compose([transforms.RandomResizedCrop(args.image_size),
                                    transforms.RandomHorizontalFlip(), transforms.ToTensor()])
    dataset = Food101(entries, transform)
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=0)
    batches = args.batches or len(loader)
    images, start = 0, time.perf_counter()
    for _ in range(args.epochs):
        for b, (batch, _) in enumerate(loader):
            images += batch.shape[0]
            if b + 1 == batches:
                break
    seconds = time.perf_counter() - start
    return {"name": "torchvision/train/workers:0/bs:%d/img:%d" % (args.batch_size, args.image_size),
            "images": images, "seconds": seconds, "images_per_second": images / seconds,
            "megapixels_per_second": dataset.pixels / 1e6 / seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("dir")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--batches", type=int, default=0, help="0: a full epoch")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--decode-images", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json")
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    try:
        entries = read_split(args.dir)
    except (OSError, KeyError) as error:
        sys.exit("error: %s is not a Food-101-layout tree: %s" % (args.dir, error))
    if not entries:
        sys.exit("error: %s/meta/train.txt lists no image" % args.dir)
    sample = min(args.decode_images, len(entries))
    decode = decode_only([entries[i * len(entries) // sample][0] for i in range(sample)], args.epochs)
    train = pipeline(entries, args)
    result = {"peer": "torchvision", "torch": torch.__version__, "torchvision": torchvision.__version__,
              "pillow": PIL.__version__, "threads": torch.get_num_threads(), "data_dir": args.dir,
              "batch_size": args.batch_size, "image_size": args.image_size, "benchmarks": [decode, train]}
    for row, label in ((decode, "decode alone (PIL), 1 thread"),
                       (train, "torchvision pipeline, num_workers=0, 1 thread")):
        print("%-46s %10.1f images/s %8.1f source MP/s" % (label, row["images_per_second"],
                                                            row["megapixels_per_second"]))
    if args.json:
        with open(args.json + ".tmp", "w") as out:
            json.dump(result, out, indent=2)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
