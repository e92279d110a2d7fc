#!/usr/bin/env python3
"""torchvision's resnet50 trained the way bench_resnet50 trains it, for a side-by-side figure.

usage: peer_pytorch.py [--device cpu|cuda] [--batch-size 8] [--image-size 224] [--steps 5]
                       [--warmup 2] [--threads N] [--classes 101] [--precision fp32|tf32|fp16|bf16]
                       [--channels-last] [--compile] [--json FILE]

Synthetic data that stays on the device, cross-entropy, torch.optim.SGD (lr 0.1*batch/256,
momentum 0.9, weight decay 1e-4; on CUDA its fused form, one kernel for every parameter as
bench_resnet50's update, where this PyTorch has it): the same work as bench_resnet50's train_step
benchmark, eager mode. With fp16 the fused form also spares GradScaler a read of the overflow flag
on the host at every step, which bench_resnet50 never makes. --precision sets PyTorch's two TF32 switches explicitly for every precision (its cuDNN
default allows TF32): tf32 turns both on, the others off; fp16 and bf16 are automatic mixed
precision (torch.autocast, fp32 master weights; fp16 with a GradScaler's dynamic loss scaling).
--channels-last runs the model and the images in NHWC, PyTorch's fast path on tensor cores.
--compile wraps the model in torch.compile (its compilation, minutes, runs in the warm-up steps,
which are never timed). Prints images/s and peak memory; --json writes them with the settings.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_interpreter import ensure_torchvision  # noqa: E402

ensure_torchvision()
import torch  # noqa: E402
import torchvision  # noqa: E402


def grad_scaler(device_type, enabled):
    """A GradScaler: torch.amp's where this PyTorch has it (2.3 on), CUDA's before."""
    if hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler(device_type, enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)


def sgd(model, lr, device):
    """torch.optim.SGD as bench_resnet50 updates, and the name of its form: fused on CUDA where
    this PyTorch has that, its default (foreach on CUDA) otherwise."""
    settings = dict(lr=lr, momentum=0.9, weight_decay=1e-4)
    if device.type == "cuda":
        try:
            return torch.optim.SGD(model.parameters(), fused=True, **settings), "fused"
        except (TypeError, RuntimeError, ValueError):
            pass
    return torch.optim.SGD(model.parameters(), **settings), "default"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--classes", type=int, default=101)
    parser.add_argument("--precision", choices=["fp32", "tf32", "fp16", "bf16"], default="fp32")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    # fp32 means IEEE fp32: PyTorch's cuDNN default would allow TF32.
    tf32 = args.precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = torchvision.models.resnet50(weights=None, num_classes=args.classes).to(device, memory_format=memory_format).train()
    optimizer, optimizer_form = sgd(model, 0.1 * args.batch_size / 256, device)
    forward = torch.compile(model) if args.compile else model
    autocast_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(args.precision)
    scaler = grad_scaler(device.type, enabled=args.precision == "fp16")
    images = torch.randn(args.batch_size, 3, args.image_size, args.image_size, device=device).to(
        memory_format=memory_format)
    labels = torch.randint(0, args.classes, (args.batch_size,), device=device)

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            loss = torch.nn.functional.cross_entropy(forward(images), labels)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        return loss

    def synchronize():
        if device.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(args.warmup):
        step()
    synchronize()
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    synchronize()
    seconds = time.perf_counter() - start
    result = {
        "peer": "pytorch", "torch": torch.__version__, "torchvision": torchvision.__version__,
        "device": args.device, "threads": torch.get_num_threads(), "batch_size": args.batch_size,
        "image_size": args.image_size, "steps": args.steps, "precision": args.precision,
        "memory_format": "channels_last" if args.channels_last else "contiguous", "compiled": args.compile,
        "optimizer": "SGD, " + optimizer_form,
        "images_per_second": args.steps * args.batch_size / seconds,
        "ms_per_step": 1e3 * seconds / args.steps, "final_loss": float(loss.detach()),
    }
    if device.type == "cuda":
        result["gpu_name"] = torch.cuda.get_device_name(device)
        result["peak_allocated_bytes"] = torch.cuda.max_memory_allocated(device)
    print("pytorch %s on %s (%d threads), %s %s%s, %s: %.2f images/s, %.1f ms per step" % (
        torch.__version__, args.device, result["threads"], args.precision, result["memory_format"],
        ", compiled" if args.compile else "", result["optimizer"], result["images_per_second"],
        result["ms_per_step"]))
    if args.json:
        with open(args.json + ".tmp", "w") as out:
            json.dump(result, out, indent=2)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
