#!/usr/bin/python3
# usage: fuzz/make_corpus.py [OUT_DIR]   (default: fuzz/corpus, the committed seed corpus)
# Writes the fuzz targets' seed corpora: small JPEGs and PNGs cut from a real photograph
# (matplotlib's grace_hopper.jpg, Debian's python-matplotlib-data), each a different encoding or a
# different way to be wrong; Food-101 indexes; safetensors files. Needs Pillow (python3-pil).
# Files named found_* are inputs the fuzzers found, kept as they were; this script leaves them be.
import io
import json
import os
import struct
import sys

from PIL import Image

PHOTO = "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg"


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def encode(image, fmt, **options):
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def with_size(jpeg, width, height):
    """The JPEG with its frame header (SOF0/SOF2) claiming another size."""
    data = bytearray(jpeg)
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = data.find(marker)
        if at >= 0:
            struct.pack_into(">HH", data, at + 5, height, width)
            return bytes(data)
    raise ValueError("no frame header")


def decode_seeds(out):
    photo = Image.open(PHOTO).convert("RGB")
    face = photo.crop((150, 60, 400, 300))
    small = face.resize((33, 25), Image.BILINEAR)  # odd sizes: partial MCUs at both edges
    baseline = encode(small, "JPEG", quality=75, subsampling=2)
    write(f"{out}/baseline_420_q75.jpg", baseline)
    write(f"{out}/progressive_444_q90.jpg",
          encode(face.resize((40, 31)), "JPEG", quality=90, subsampling=0, progressive=True))
    write(f"{out}/baseline_422_q60_optimized.jpg",
          encode(face.resize((18, 40)), "JPEG", quality=60, subsampling=1, optimize=True))
    write(f"{out}/grayscale_q50.jpg", encode(face.resize((17, 23)).convert("L"), "JPEG", quality=50))
    write(f"{out}/cmyk_q80.jpg", encode(face.resize((12, 9)).convert("CMYK"), "JPEG", quality=80))
    write(f"{out}/truncated.jpg", baseline[: len(baseline) // 2])
    write(f"{out}/over_budget_2048x1024.jpg", with_size(baseline, 2048, 1024))
    write(f"{out}/trailing_bytes.jpg", baseline + b"\x00\x01 after the end-of-image marker")
    # A progressive 4:2:0 JPEG whose scans after the first are missing: libjpeg estimates the
    # unknown coefficients from neighbouring blocks, which a crop must keep to decode the same.
    progressive = encode(face.resize((144, 108)), "JPEG", quality=60, subsampling=2, progressive=True)
    scans = [i for i in range(len(progressive) - 1) if progressive[i : i + 2] == b"\xff\xda"]
    write(f"{out}/progressive_420_scans_missing.jpg", progressive[: scans[1]] + b"\xff\xd9")
    png = encode(face.resize((9, 7)), "PNG")
    write(f"{out}/rgb.png", png)
    # An IDAT chunk claiming 2 GiB in a file of a few hundred bytes: stb_image 2.27 would allocate it.
    idat = png.find(b"IDAT") - 4
    write(f"{out}/png_idat_length_2gib.png", png[:idat] + struct.pack(">I", 0x7FFFFFF0) + png[idat + 4 :])
    # An empty IDAT chunk before the one with the data: stb_image 2.27 would memcpy from a null pointer.
    write(f"{out}/png_empty_first_idat.png", png[:idat] + struct.pack(">I", 0) + b"IDAT" + b"\x35\xaf\x06\x1e" + png[idat:])
    write(f"{out}/rgba_interlaced.png", encode(face.resize((10, 6)).convert("RGBA"), "PNG", interlace=1))
    write(f"{out}/not_an_image.txt", b"apple_pie/1005649\n")

    # Huffman code counts that add up to more than 256: libjpeg refuses the table, and stb_image
    # 2.27 would write past its arrays.
    sof = baseline.find(b"\xff\xc0")
    dht = baseline.find(b"\xff\xc4")
    write(f"{out}/huffman_counts_over_256.jpg", baseline[: dht + 18] + b"\xff\xff" + baseline[dht + 20 :])
    # A second frame header after the scan: the whole decode fails on it when it reads the file to
    # its end, and so must a crop that ends above the last row.
    sof_segment = baseline[sof : sof + 2 + (baseline[sof + 2] << 8 | baseline[sof + 3])]
    write(f"{out}/second_frame_after_scan.jpg", baseline[:-2] + sof_segment + baseline[-2:])
    # Replayed in name order in one process: a JPEG that lacks its quantization table 0 (its DQT
    # segment turned into a comment), after one that defines it and one that both libjpeg readers
    # refuse (no components), must decode as it does alone, not with the tables left behind.
    write(f"{out}/tables_0_defined.jpg", baseline)
    write(f"{out}/tables_1_refused.jpg", baseline[: sof + 9] + b"\x00" + baseline[sof + 10 :])
    dqt = baseline.find(b"\xff\xdb")
    write(f"{out}/tables_2_lacks_one.jpg", baseline[:dqt] + b"\xff\xfe" + baseline[dqt + 2 :])


def food101_seeds(out):
    classes = "apple_pie\nbaby_back_ribs\nbaklava\n"
    seeds = {
        "good.txt": classes + "\0baklava/1\napple_pie/22\nbaby_back_ribs/333\n",
        "bad_lines.txt": classes + "\0apple_pie/1\n\n../apple_pie/2\n/etc/passwd\nsushi/3\n"
                         "baklava/../../x\n  baklava/4  \r\n",
        # images/ holds pie -> apple_pie (inside), out -> ../.. and apple_pie/passwd.jpg -> /etc/passwd
        "links.txt": "apple_pie\npie\nout\n\0pie/1\nout/meta/classes\napple_pie/passwd\napple_pie/x/y\n",
        "crlf_no_final_newline.txt": "apple_pie\r\nbaklava\r\n\0baklava/7\r\napple_pie/8",
        "duplicate_class.txt": "apple_pie\nbaklava\napple_pie\n\0apple_pie/1\n",
        "no_split_file.txt": classes,
    }
    for name, text in seeds.items():
        write(f"{out}/{name}", text.encode())


def safetensors(tensors, metadata=None, header_extra=None):
    """tensors: (name, dtype, shape, bytes); the data section in the order given."""
    header, data, offset = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, payload in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(payload)]}
        data += payload
        offset += len(payload)
    header.update(header_extra or {})
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def safetensors_seeds(out):
    f32 = struct.pack("<6f", 1, 2, 3, 4, 5, 6)
    write(f"{out}/f32_i64_metadata.safetensors",
          safetensors([("conv1.weight", "F32", [2, 3], f32), ("labels", "I64", [2], struct.pack("<2q", 3, -1))],
                      metadata={"format": "pt"}))
    write(f"{out}/scalar_and_empty.safetensors",
          safetensors([("scale", "F16", [], b"\x00\x3c"), ("none", "U8", [0], b""), ("b", "BF16", [1, 1], b"\x80\x3f")]))
    write(f"{out}/f64_i32_names_unsorted.safetensors",
          safetensors([("z", "F64", [1], struct.pack("<d", 0.5)), ("a", "I32", [2], struct.pack("<2i", 7, 8))]))
    overlapping = bytearray(safetensors([("a", "F32", [1], f32[:4]), ("b", "F32", [1], f32[4:8])]))
    write(f"{out}/overlapping.safetensors", bytes(overlapping).replace(b"[4,8]", b"[0,4]"))
    write(f"{out}/header_not_json.safetensors", struct.pack("<Q", 8) + b'{"a":[1,')
    write(f"{out}/header_too_long.safetensors", struct.pack("<Q", 1 << 40) + b"{}")


if __name__ == "__main__":
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    decode_seeds(f"{root}/decode")
    food101_seeds(f"{root}/food101_index")
    safetensors_seeds(f"{root}/safetensors")
