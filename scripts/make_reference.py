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
  reference_tf32_cuda_spread.safetensors
                        where PyTorch finds a GPU that runs TF32 (compute capability 8.0): how far
                        torchvision with both of PyTorch's TF32 switches on lands from float64, the
                        worst of the same eight runs, in both batch-norm modes: "<mode>/logits",
                        "<mode>/loss", "<mode>/grad/<name>" and "<mode>/gradients_together" for
                        mode train and eval. The yardstick of the tf32 precision.
  reference_bf16_spread.safetensors
                        the same keys for torchvision under torch.autocast in bfloat16 on the CPU:
                        the yardstick of the bf16 precision (and, scaled by the ratio of the two
                        formats' unit roundoffs, of fp16 where no GPU gives its own).
  reference_bf16_cuda_spread.safetensors, reference_fp16_cuda_spread.safetensors
                        the same under torch.autocast on the GPU, in bfloat16 (compute capability
                        8.0) and float16, where PyTorch finds one.
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


def gradients_together(results, truth, names):
    """The relative error of every gradient in `names` taken as one vector."""
    difference = sum(float(((results[n].double() - truth[n]) ** 2).sum()) for n in names)
    reference = sum(float((truth[n] ** 2).sum()) for n in names)
    return (difference / reference) ** 0.5


def equally_valid_inputs(images):
    """The eight inputs the spreads run: NCHW and channels_last memory (another summation order),
    each the input as given and three copies with every value moved by at most one unit in the
    last place (float32 rounding of the input)."""
    for memory_format in (torch.contiguous_format, torch.channels_last):
        for perturbation in range(4):
            x = images.clone()
            if perturbation:
                steps = torch.randint(-1, 2, x.shape, generator=torch.Generator().manual_seed(perturbation))
                x = x * (1 + steps.float() * 2.0 ** -24)
            yield memory_format, x


def float32_spread(model, state, images, labels, truth, device="cpu"):
    """The worst relative error of torchvision's float32 gradients over eight float32 runs
    (equally_valid_inputs). Under batch statistics, deep ReLU inputs lie within float32's forward
    error of zero, so which of them flip, and the gradients below them, depends on rounding; a
    single float32 run is one draw from that spread, not its bound."""
    worst, together = {}, 0.0
    for memory_format, x in equally_valid_inputs(images):
        model.load_state_dict(state)
        model.float().to(device=device, memory_format=memory_format)
        results = run(model, x.to(device).contiguous(memory_format=memory_format), labels.to(device), train=True)
        results = {name: tensor.detach().cpu() for name, tensor in results.items()}
        names = [name for name in results if name.startswith("grad/")]
        together = max(together, gradients_together(results, truth, names))
        for name in names:
            worst[name] = max(worst.get(name, 0.0), relative_error(results[name], truth[name]))
    spread = {name: torch.tensor([error], dtype=torch.float64) for name, error in worst.items()}
    spread["gradients_together"] = torch.tensor([together], dtype=torch.float64)
    return spread


def record_worst(worst, mode, results, truth):
    """Keeps in `worst` each result's largest relative error from `truth` so far, and that of the
    gradients together, under "<mode>/<name>"."""
    results = {name: tensor.detach().cpu() for name, tensor in results.items()}
    names = [name for name in results if name.startswith("grad/")]
    errors = {name: relative_error(results[name], truth[name]) for name in names + ["logits", "loss"]}
    errors["gradients_together"] = gradients_together(results, truth, names)
    for name, error in errors.items():
        key = mode + "/" + name
        worst[key] = max(worst.get(key, 0.0), error)


def tf32_spread(model, state, images, labels, truths):
    """torchvision's TF32 on the GPU against float64, per result and batch-norm mode: the worst
    relative error over the same eight equally valid runs as float32_spread. TF32 rounds every convolution and
    GEMM operand to a 10-bit mantissa, so these are about a thousand times float32's."""
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    worst = {}
    for mode, truth in truths.items():
        for memory_format, x in equally_valid_inputs(images):
            model.load_state_dict(state)
            model.float().to(device="cuda", memory_format=memory_format)
            results = run(model, x.cuda().contiguous(memory_format=memory_format), labels.cuda(),
                          train=mode == "train")
            record_worst(worst, mode, results, truth)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    model.cpu()
    return {name: torch.tensor([error], dtype=torch.float64) for name, error in worst.items()}


def amp_spread(model, state, images, labels, truths, device, dtype):
    """torchvision under torch.autocast in `dtype` (bfloat16, or float16 on the GPU) against float64,
    per result and batch-norm mode: the worst relative error over the eight equally valid runs of
    float32_spread. Autocast runs convolutions and the classifier in `dtype` from float32 weights and
    batch norm in float32, as the mixed precisions of resnet50-bench do. float16 gradients are taken
    through GradScaler's first scale (halved while any is not finite), then unscaled."""
    worst = {}
    for mode, truth in truths.items():
        for memory_format, x in equally_valid_inputs(images):
            model.load_state_dict(state)
            model.float().to(device=device, memory_format=memory_format)
            model.train(mode == "train")
            x = x.to(device).contiguous(memory_format=memory_format)
            scale = 65536.0 if dtype == torch.float16 else 1.0
            while True:
                model.load_state_dict(state)
                model.zero_grad(set_to_none=True)
                with torch.autocast(device_type=device, dtype=dtype):
                    logits = model(x)
                loss = torch.nn.functional.cross_entropy(logits.float(), labels.to(device))
                (loss * scale).backward()
                grads = {"grad/" + name: p.grad.double() / scale for name, p in model.named_parameters()}
                if all(bool(torch.isfinite(g).all()) for g in grads.values()):
                    break
                scale /= 2
            record_worst(worst, mode, {"logits": logits.detach().double(), "loss": loss.detach().double().reshape(1),
                                       **grads}, truth)
    model.cpu()
    return {name: torch.tensor([error], dtype=torch.float64) for name, error in worst.items()}


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

    truths = {}  # float64's results per batch-norm mode
    for dtype, suffix in ((torch.float64, "f64"), (torch.float32, "f32")):
        for train in (True, False):
            model.load_state_dict(state)
            model.to(dtype)
            results = run(model, images.to(dtype), labels, train)
            if dtype == torch.float64:
                truths["train" if train else "eval"] = {name: tensor.detach().clone() for name, tensor in results.items()}
            name = "reference_%s_%s.safetensors" % ("train" if train else "eval", suffix)
            write_safetensors(os.path.join(args.outdir, name), results)
    write_safetensors(os.path.join(args.outdir, "reference_train_f32_spread.safetensors"),
                      float32_spread(model, state, images, labels, truths["train"]))
    write_safetensors(os.path.join(args.outdir, "reference_bf16_spread.safetensors"),
                      amp_spread(model, state, images, labels, truths, "cpu", torch.bfloat16))
    if torch.cuda.is_available():
        # fp32 means IEEE fp32 on the GPU too: PyTorch's cuDNN default would allow TF32.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        write_safetensors(os.path.join(args.outdir, "reference_train_f32_cuda_spread.safetensors"),
                          float32_spread(model, state, images, labels, truths["train"], device="cuda"))
        model.cpu()
        if torch.cuda.get_device_capability() >= (8, 0):
            write_safetensors(os.path.join(args.outdir, "reference_tf32_cuda_spread.safetensors"),
                              tf32_spread(model, state, images, labels, truths))
            write_safetensors(os.path.join(args.outdir, "reference_bf16_cuda_spread.safetensors"),
                              amp_spread(model, state, images, labels, truths, "cuda", torch.bfloat16))
        write_safetensors(os.path.join(args.outdir, "reference_fp16_cuda_spread.safetensors"),
                          amp_spread(model, state, images, labels, truths, "cuda", torch.float16))
    print("torch %s, torchvision %s: wrote %s" % (torch.__version__, torchvision.__version__, args.outdir))


if __name__ == "__main__":
    main()
