#!/usr/bin/env python3
"""Write torchvision's ResNet-50 results for the numerics tests.

usage: make_reference.py OUTDIR [--batch 8] [--size 64] [--classes 101] [--seed 0]

Writes into OUTDIR:
  weights.safetensors   a torchvision resnet50 state_dict, float32, random, with batch-norm
                        gamma, beta and running statistics randomised so no layer is an identity
  input.safetensors     images (float32 [N, 3, S, S], normalised) and labels (int64 [N])
  reference_{train,eval}_{f64,f32}.safetensors
                        one forward and backward without any update, in float64 (the ground
                        truth) and float32 (the yardstick): logits, loss, grad/<name> for every
                        parameter and, with batch statistics (train), state/<name> for the updated
                        running statistics and batch counters.
  reference_train_f32_spread.safetensors
                        how far torchvision's float32 lands from float64 under batch statistics,
                        as the worst of several equally valid float32 runs (see float32_spread):
                        F64 [1] per gradient, "grad/<name>", and "gradients_together".
  reference_train_f32_cuda_spread.safetensors
                        the same for torchvision's float32 on the GPU (cuDNN's own choice of
                        algorithms, TF32 off), where PyTorch finds one: the yardstick for a GPU
                        backend, whose convolution algorithms round differently from the CPU's.
"""
import argparse
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_interpreter import ensure_torchvision  # noqa: E402

ensure_torchvision()
import torch  # noqa: E402
import torchvision  # noqa: E402

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32"}


def write_safetensors(path, tensors):
    """The safetensors format, written by hand: Debian has no python3-safetensors."""
    header, chunks, offset = {}, [], 0
    for name, tensor in tensors.items():
        data = tensor.detach().cpu().contiguous().numpy().tobytes()
        header[name] = {"dtype": DTYPES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as out:
        out.write(struct.pack("<Q", len(text)))
        out.write(text)
        for chunk in chunks:
            out.write(chunk)
    os.replace(tmp, path)


def randomised_model(classes, generator):
    """torchvision's resnet50 with its own initialisation, then every batch norm's gamma, beta and
    running statistics drawn at random, so that no layer is an identity. Under running statistics
    the activations grow through the network and the softmax saturates: float32 stays close to
    float64 there (about 1e-6 on the logits), which makes that mode the sharp numerics check."""
    model = torchvision.models.resnet50(weights=None, num_classes=classes)
    with torch.no_grad():
        for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            bn.weight.uniform_(0.5, 1.5, generator=generator)
            bn.bias.normal_(0.0, 0.1, generator=generator)
            bn.running_mean.normal_(0.0, 0.1, generator=generator)
            bn.running_var.uniform_(0.5, 1.5, generator=generator)
            bn.num_batches_tracked.fill_(int(torch.randint(0, 1000, (1,), generator=generator)))
    return model


def run(model, images, labels, train):
    """One forward and backward, no parameter update; returns the tensors resnet50_verify writes."""
    model.train(train)
    model.zero_grad(set_to_none=True)
    logits = model(images)
    loss = torch.nn.functional.cross_entropy(logits, labels)
    loss.backward()
    results = {"logits": logits, "loss": loss.reshape(1)}
    for name, parameter in model.named_parameters():
        results["grad/" + name] = parameter.grad
    if train:
        for name, buffer in model.named_buffers():
            results["state/" + name] = buffer
    return results


def relative_error(a, b):
    return float((a.double() - b).norm() / b.norm()) if float(b.norm()) > 0 else float((a.double() - b).norm())


def float32_spread(model, state, images, labels, truth, device="cpu"):
    """The worst relative error of torchvision's float32 gradients over eight float32 runs: NCHW
    and channels_last memory (another summation order), each on the input as given and on three
    copies with every value moved by at most one unit in the last place (float32 rounding of the
    input). Under batch statistics, deep ReLU inputs lie within float32's forward error of zero,
    so which of them flip, and the gradients below them, depends on rounding; a single float32
    run is one draw from that spread, not its bound."""
    worst, together = {}, 0.0
    for memory_format in (torch.contiguous_format, torch.channels_last):
        for perturbation in range(4):
            x = images.clone()
            if perturbation:
                steps = torch.randint(-1, 2, x.shape, generator=torch.Generator().manual_seed(perturbation))
                x = x * (1 + steps.float() * 2.0 ** -24)
            model.load_state_dict(state)
            model.float().to(device=device, memory_format=memory_format)
            results = run(model, x.to(device).contiguous(memory_format=memory_format), labels.to(device),
                          train=True)
            results = {name: tensor.detach().cpu() for name, tensor in results.items()}
            names = [name for name in results if name.startswith("grad/")]
            difference = sum(float(((results[n].double() - truth[n]) ** 2).sum()) for n in names)
            reference = sum(float((truth[n] ** 2).sum()) for n in names)
            together = max(together, (difference / reference) ** 0.5)
            for name in names:
                worst[name] = max(worst.get(name, 0.0), relative_error(results[name], truth[name]))
    spread = {name: torch.tensor([error], dtype=torch.float64) for name, error in worst.items()}
    spread["gradients_together"] = torch.tensor([together], dtype=torch.float64)
    return spread


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("outdir")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--classes", type=int, default=101)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)

    model = randomised_model(args.classes, generator)
    state = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    write_safetensors(os.path.join(args.outdir, "weights.safetensors"), state)

    images = torch.randn(args.batch, 3, args.size, args.size, generator=generator)
    labels = torch.randint(0, args.classes, (args.batch,), generator=generator)
    write_safetensors(os.path.join(args.outdir, "input.safetensors"), {"images": images, "labels": labels})

    truth = {}
    for dtype, suffix in ((torch.float64, "f64"), (torch.float32, "f32")):
        for train in (True, False):
            model.load_state_dict(state)
            model.to(dtype)
            results = run(model, images.to(dtype), labels, train)
            if dtype == torch.float64 and train:
                truth = {name: tensor.detach().clone() for name, tensor in results.items()}
            name = "reference_%s_%s.safetensors" % ("train" if train else "eval", suffix)
            write_safetensors(os.path.join(args.outdir, name), results)
    write_safetensors(os.path.join(args.outdir, "reference_train_f32_spread.safetensors"),
                      float32_spread(model, state, images, labels, truth))
    if torch.cuda.is_available():
        # fp32 means IEEE fp32 on the GPU too: PyTorch's cuDNN default would allow TF32.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        write_safetensors(os.path.join(args.outdir, "reference_train_f32_cuda_spread.safetensors"),
                          float32_spread(model, state, images, labels, truth, device="cuda"))
        model.cpu()
    print("torch %s, torchvision %s: wrote %s" % (torch.__version__, torchvision.__version__, args.outdir))


if __name__ == "__main__":
    main()
