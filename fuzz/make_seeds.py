#!/usr/bin/env python3
"""Writes the fuzz harnesses' seed corpora into OUT_DIR/<harness>/ from the
project's own fixtures and outputs, nothing committed: the shared HF
fixtures (model.pt, config files, safetensors, example PNGs), the
tflite-testdata files, files this script writes with the standard library
(zip archives, PNGs of every colour type, safetensors, plugin manifests),
and, when an `exporters` binary is given, the project's own exports of a
small text and a small vision fixture (.mlpackage, .mlmodel, .tflite and
the TFLITE_METADATA inside it).

usage: make_seeds.py OUT_DIR [--shared DIR] [--exporters EXE] [--plugins DIR]
"""
import argparse
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib

SEPARATOR = b"\n--8<--\n"  # fuzz_input.hpp's split_parts
MAX_SEED = 256 * 1024      # larger files only slow the fuzzer down


def put(out, harness, name, data):
    if len(data) > MAX_SEED:
        return
    d = os.path.join(out, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def safetensors_bytes(tensors, metadata=None):
    header, blob = {}, b""
    for name, (dtype, shape, data) in sorted(tensors.items()):
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blob


def png_bytes(width, height, color, depth, rows, interlace=0, palette=None):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, interlace))
    if palette:
        png += chunk(b"PLTE", palette)
    raw = b"".join(b"\0" + r for r in rows)
    return png + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def own_seeds(out):
    # safetensors
    put(out, "fuzz_safetensors", "own_small", safetensors_bytes(
        {"a": ("F32", [2, 3], struct.pack("<6f", *range(6))), "b": ("I64", [2], struct.pack("<2q", 7, -1)),
         "c": ("BOOL", [3], b"\x01\x00\x01"), "d": ("F16", [1], b"\x00\x3c"), "e": ("U8", [0], b"")},
        {"format": "pt"}))
    # PNGs: gray 1/8/16 bit, RGB, palette, gray+alpha, RGBA, interlaced
    put(out, "fuzz_png", "own_gray8", png_bytes(3, 2, 0, 8, [b"\x00\x80\xff", b"\x10\x20\x30"]))
    put(out, "fuzz_png", "own_gray1", png_bytes(9, 1, 0, 1, [b"\xa5\x80"]))
    put(out, "fuzz_png", "own_gray16", png_bytes(2, 1, 0, 16, [b"\x01\x00\xff\xff"]))
    put(out, "fuzz_png", "own_rgb8", png_bytes(2, 2, 2, 8, [bytes(range(6)), bytes(range(6, 12))]))
    put(out, "fuzz_png", "own_palette", png_bytes(2, 1, 3, 8, [b"\x00\x01"], palette=b"\xff\x00\x00\x00\xff\x00"))
    put(out, "fuzz_png", "own_graya", png_bytes(1, 1, 4, 8, [b"\x80\x40"]))
    put(out, "fuzz_png", "own_rgba16", png_bytes(1, 1, 6, 16, [bytes(range(8))]))
    put(out, "fuzz_png", "own_interlaced", png_bytes(8, 8, 0, 8, [bytes(range(8))] * 8, interlace=1))
    # zip archives as torch.jit.save lays them out (stored records) plus deflate and ZIP64
    for name, method, zip64 in (("stored", zipfile.ZIP_STORED, False), ("deflated", zipfile.ZIP_DEFLATED, False),
                                ("zip64", zipfile.ZIP_STORED, True)):
        b = io.BytesIO()
        with zipfile.ZipFile(b, "w", compression=method) as z:
            for entry, data in (("archive/data.pkl", b"\x80\x02}q\x00."), ("archive/code/__torch__.py", b"def forward(self):\n  pass\n"),
                                ("archive/data/0", bytes(range(64)) * 4), ("archive/version", b"3\n")):
                info = zipfile.ZipInfo(entry)
                info.compress_type = method
                with z.open(info, "w", force_zip64=zip64) as f:
                    f.write(data)
        put(out, "fuzz_zip", "own_" + name, b.getvalue())
    # plugin manifests
    put(out, "fuzz_plugin_manifest", "own_hello", json.dumps(
        {"name": "hello", "version": "0.1.0", "abi": 1, "model_types": ["hello"], "library": "libhello.so",
         "tasks": [{"task": "text-classification", "hf_class": "HelloForSequenceClassification"}]}).encode())
    put(out, "fuzz_plugin_manifest", "own_no_tasks", b'{"name":"x","version":"1","abi":1,"model_types":["x","y"],"library":"libx.so"}')
    # image processors the project emulates
    for t, size in (("ConvNextImageProcessor", {"shortest_edge": 6}), ("MobileViTImageProcessor", {"shortest_edge": 4}),
                    ("SegformerImageProcessor", {"height": 4, "width": 3}), ("ViTImageProcessor", 5)):
        pre = {"image_processor_type": t, "size": size, "crop_pct": 0.875, "do_center_crop": t == "MobileViTImageProcessor",
               "crop_size": {"height": 3, "width": 3}, "resample": 3, "do_normalize": True, "image_mean": [0.5, 0.4, 0.3],
               "image_std": 0.25, "do_flip_channel_order": t == "MobileViTImageProcessor"}
        put(out, "fuzz_model_config", "own_" + t, b'{"model_type": "vit", "architectures": ["ViTForImageClassification"]}' +
            SEPARATOR + json.dumps(pre).encode())


def fixture_seeds(out, shared):
    hf = os.path.join(shared, "fixtures", "hf")
    if os.path.isdir(hf):
        for name in sorted(os.listdir(hf)):
            d = os.path.join(hf, name)
            if not os.path.isdir(d):
                continue
            config = os.path.join(d, "config.json")
            pre = os.path.join(d, "preprocessor_config.json")
            if os.path.exists(config):
                put(out, "fuzz_model_config", name, read(config) + SEPARATOR + (read(pre) if os.path.exists(pre) else b"{}"))
            for f in ("reference.safetensors", "model.safetensors"):
                if os.path.exists(os.path.join(d, f)):
                    put(out, "fuzz_safetensors", f"{name}_{f}", read(os.path.join(d, f)))
            if os.path.exists(os.path.join(d, "model.pt")):
                put(out, "fuzz_zip", name + "_model.pt", read(os.path.join(d, "model.pt")))
            for f in sorted(os.listdir(d)):
                if f.endswith(".png"):
                    put(out, "fuzz_png", f"{name}_{f}", read(os.path.join(d, f)))
    tfl = os.path.join(shared, "tflite-testdata")
    for root, _, files in os.walk(tfl):
        for f in sorted(files):
            if f.endswith(".tflite"):
                put(out, "fuzz_tflite", os.path.relpath(os.path.join(root, f), tfl).replace("/", "_"), read(os.path.join(root, f)))


def tflite_metadata(data):
    """The TFLITE_METADATA buffer inside a .tflite: a flatbuffer vector
    [u32 length][root offset][b"M001" ...]."""
    at = data.find(b"M001")
    if at < 8:
        return None
    (n,) = struct.unpack_from("<I", data, at - 8)
    return data[at - 4:at - 4 + n] if at - 4 + n <= len(data) else None


def export_seeds(out, shared, exe):
    hf = os.path.join(shared, "fixtures", "hf")
    with tempfile.TemporaryDirectory() as tmp:
        for fixture in ("distilbert_seqcls", "vit_imgcls"):
            src = os.path.join(hf, fixture)
            if not os.path.isdir(src):
                continue
            runs = {"pkg": ["coreml", "-o", os.path.join(tmp, fixture + ".mlpackage")],
                    "pkg16": ["coreml", "--quantize", "float16", "-o", os.path.join(tmp, fixture + "_16.mlpackage")],
                    "legacy": ["coreml", "--legacy", "-o", os.path.join(tmp, fixture + ".mlmodel")],
                    "tfl": ["tflite", "-o", os.path.join(tmp, fixture + ".tflite")],
                    "tfl8": ["tflite", "--quantize", "dynamic-int8", "-o", os.path.join(tmp, fixture + "_int8.tflite")]}
            for kind, args in runs.items():
                target = args[-1]
                r = subprocess.run([exe] + args[:1] + [src] + args[1:] + ["--no-validate", "--overwrite"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                if r.returncode != 0:
                    print(f"make_seeds: {fixture} {kind}: export failed: {r.stderr.strip()}", file=sys.stderr)
                    continue
                name = os.path.basename(target)
                if target.endswith(".mlpackage"):
                    data = os.path.join(target, "Data", "com.apple.CoreML")
                    put(out, "fuzz_mlpackage", name, read(os.path.join(target, "Manifest.json")) + SEPARATOR +
                        read(os.path.join(data, "model.mlmodel")) + SEPARATOR + read(os.path.join(data, "weights", "weight.bin")))
                elif target.endswith(".mlmodel"):
                    put(out, "fuzz_mlmodel", name, read(target))
                else:
                    data = read(target)
                    put(out, "fuzz_tflite", "own_" + name, data)
                    md = tflite_metadata(data)
                    if md:
                        put(out, "fuzz_tflite_metadata", name, md)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--shared", default=os.path.join(here, "..", "..", "shared"))
    p.add_argument("--exporters", help="an exporters binary: seeds from its exports of two fixtures")
    p.add_argument("--plugins", help="a folder of plugin manifests (a build's plugins/)")
    a = p.parse_args()
    shutil.rmtree(a.out, ignore_errors=True)
    own_seeds(a.out)
    fixture_seeds(a.out, a.shared)
    if a.plugins and os.path.isdir(a.plugins):
        for root, _, files in os.walk(a.plugins):  # <plugins>/<name>/<name>.json
            for f in sorted(files):
                if f.endswith(".json"):
                    put(a.out, "fuzz_plugin_manifest", f, read(os.path.join(root, f)))
    if a.exporters and os.access(a.exporters, os.X_OK):
        export_seeds(a.out, a.shared, a.exporters)
    for h in sorted(os.listdir(a.out)):
        print(f"seeds: {h}: {len(os.listdir(os.path.join(a.out, h)))}")


main()
