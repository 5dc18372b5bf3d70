"""Test data for tests/vision, written at build time.

Usage: make_vision_data.py OUT_DIR

* OUT_DIR/png/: small PNGs of every colour type and bit depth, written here by
  hand (struct + zlib, own filters and Adam7 interlacing), each with the RGB
  bytes it must decode to in <name>.rgb. With Pillow the expectation is
  Image.open(...).convert("RGB"), the reference the decoder follows; without
  it the rules Pillow applies (see core/io/png.hpp). manifest.json lists them.
* OUT_DIR/bad/: corrupt and truncated PNGs (manifest.json: file, what is wrong).
* OUT_DIR/resize/ (Pillow only): random RGB images and Image.resize outputs
  for every filter, shrinking and enlarging, as raw RGB.
* OUT_DIR/processor/ (Pillow only): preprocessor configs, images, and the
  pixel_values transformers 4.36 computes for them (Pillow resize, then its
  crop / rescale / normalise / flip steps in numpy float32) as raw float32.
"""
import json
import os
import random
import struct
import sys
import zlib

try:
    from PIL import Image
    import numpy as np
except ImportError:  # the PNG cases still run, against the rules
    Image = None

out_dir = sys.argv[1]


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pack_row(samples, depth):
    """Samples of one scanline as bytes (MSB first below 8 bits, big-endian at 16)."""
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    if depth == 8:
        return bytes(samples)
    out, acc, bits = bytearray(), 0, 0
    for s in samples:
        acc = (acc << depth) | s
        bits += depth
        if bits == 8:
            out.append(acc)
            acc, bits = 0, 0
    if bits:
        out.append(acc << (8 - bits))
    return bytes(out)


def filter_rows(rows, bpp):
    """Alternates filter 0 (none) and 1 (sub) so the decoder's unfiltering is exercised."""
    data = bytearray()
    for i, row in enumerate(rows):
        if i % 2 == 0:
            data += b"\x00" + row
        else:
            data += b"\x01" + bytes((row[k] - (row[k - bpp] if k >= bpp else 0)) & 0xFF for k in range(len(row)))
    return bytes(data)


CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png_bytes(width, height, depth, color, pixels, palette=None, trns=None, interlace=False):
    """pixels[y][x] is a tuple of samples."""
    ch = CHANNELS[color]
    bpp = max(1, ch * depth // 8)
    if interlace:
        raw = bytearray()
        for x0, y0, dx, dy in ADAM7:
            xs, ys = list(range(x0, width, dx)), list(range(y0, height, dy))
            if not xs or not ys:
                continue
            rows = [pack_row([s for x in xs for s in pixels[y][x]], depth) for y in ys]
            raw += filter_rows(rows, bpp)
    else:
        rows = [pack_row([s for x in range(width) for s in pixels[y][x]], depth) for y in range(height)]
        raw = filter_rows(rows, bpp)
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 1 if interlace else 0))
    if palette is not None:
        out += chunk(b"PLTE", b"".join(bytes(c) for c in palette))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    out += chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    out += chunk(b"IEND", b"")
    return out


def expected_by_rules(depth, color, pixels, palette):
    out = bytearray()
    for row in pixels:
        for px in row:
            if color == 3:
                out += bytes(palette[px[0]])
            elif color in (0, 4):
                g = px[0]
                if depth < 8:
                    g = g * (255 // ((1 << depth) - 1))
                elif depth == 16 and color == 0:
                    g = min(g, 255)  # Pillow opens 16-bit gray as mode I and clips
                elif depth == 16:
                    g >>= 8
                out += bytes([g] * 3)
            else:
                out += bytes((s >> 8) if depth == 16 else s for s in px[:3])
    return bytes(out)


rng = random.Random(5)
os.makedirs(os.path.join(out_dir, "png"), exist_ok=True)
manifest = []
cases = [
    # (name, depth, color, interlace, tRNS)
    ("gray1", 1, 0, False, None), ("gray2", 2, 0, False, None), ("gray4", 4, 0, False, None),
    ("gray8", 8, 0, False, b"\x00\x10"), ("gray16", 16, 0, False, None),
    ("rgb8", 8, 2, False, None), ("rgb16", 16, 2, False, None), ("rgb8_trns", 8, 2, False, b"\x00\x01\x00\x02\x00\x03"),
    ("palette1", 1, 3, False, None), ("palette2", 2, 3, False, None), ("palette4", 4, 3, False, b"\x00\x80"),
    ("palette8", 8, 3, False, None),
    ("gray_alpha8", 8, 4, False, None), ("gray_alpha16", 16, 4, False, None),
    ("rgba8", 8, 6, False, None), ("rgba16", 16, 6, False, None),
    ("rgb8_interlaced", 8, 2, True, None), ("gray2_interlaced", 2, 0, True, None),
    ("rgba16_interlaced", 16, 6, True, None),
]
for name, depth, color, interlace, trns in cases:
    width, height = rng.randint(9, 21), rng.randint(5, 17)
    top = (1 << depth) - 1
    palette = None
    if color == 3:
        palette = [tuple(rng.randrange(256) for _ in range(3)) for _ in range(1 << depth)]
    pixels = []
    for y in range(height):
        row = []
        for x in range(width):
            if color == 3:
                row.append((rng.randrange(len(palette)),))
            elif depth == 16 and color == 0 and (x + y) % 3 == 0:
                row.append((rng.randrange(256),))  # some gray values below 256, where Pillow keeps them
            else:
                row.append(tuple(rng.randint(0, top) for _ in range(CHANNELS[color])))
        pixels.append(row)
    data = png_bytes(width, height, depth, color, pixels, palette, trns, interlace)
    path = os.path.join(out_dir, "png", name + ".png")
    with open(path, "wb") as f:
        f.write(data)
    if Image is not None:
        expected, source = Image.open(path).convert("RGB").tobytes(), "Pillow " + Image.__version__
    else:
        expected, source = expected_by_rules(depth, color, pixels, palette), "rules"
    with open(os.path.join(out_dir, "png", name + ".rgb"), "wb") as f:
        f.write(expected)
    manifest.append({"file": name + ".png", "expected": name + ".rgb", "width": width, "height": height,
                     "bit_depth": depth, "color_type": color, "interlaced": interlace, "source": source})
with open(os.path.join(out_dir, "png", "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)

# Corrupt files.
os.makedirs(os.path.join(out_dir, "bad"), exist_ok=True)
good = png_bytes(12, 10, 8, 2, [[(x * 20, y * 20, 7) for x in range(12)] for y in range(10)])
idat = good.index(b"IDAT")
bad = {
    "truncated_header.png": (good[:20], "ends inside IHDR"),
    "truncated_data.png": (good[: idat + 20], "ends inside IDAT"),
    "no_iend.png": (good[: good.index(b"IEND") - 4], "no IEND chunk"),
    "bad_crc.png": (good[: idat + 10] + bytes([good[idat + 10] ^ 0xFF]) + good[idat + 11:], "IDAT CRC does not match"),
    "not_png.png": (b"this is not a PNG file at all\n", "no signature"),
    "empty.png": (b"", "empty"),
    "bad_zlib.png": (good[:8] + chunk(b"IHDR", struct.pack(">IIBBBBB", 12, 10, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", b"\x78\x9c" + bytes(range(40))) + chunk(b"IEND", b""), "IDAT is not zlib data"),
    "bad_palette_index.png": (png_bytes(4, 2, 8, 3, [[(0,), (1,), (5,), (0,)], [(1,)] * 4], [(1, 2, 3), (4, 5, 6)]),
                              "index 5 in a 2-colour palette"),
}
for name, (data, why) in bad.items():
    with open(os.path.join(out_dir, "bad", name), "wb") as f:
        f.write(data)
with open(os.path.join(out_dir, "bad", "manifest.json"), "w") as f:
    json.dump([{"file": k, "why": v[1]} for k, v in bad.items()], f, indent=1)

if Image is None:
    sys.exit(0)


def random_image(width, height, seed):
    r = random.Random(seed)
    # Smooth gradients plus noise: rounding matters both in flat and busy areas.
    data = bytearray()
    for y in range(height):
        for x in range(width):
            data += bytes(min(255, max(0, (x * 255 // max(1, width - 1) + c * 40 + r.randint(-60, 60)) % 300))
                          for c in range(3))
    return Image.frombytes("RGB", (width, height), bytes(data))


# Resize cases: Pillow's output for each filter, shrinking, enlarging, mixed.
os.makedirs(os.path.join(out_dir, "resize"), exist_ok=True)
resize_cases = []
sources = [(37, 23), (80, 72), (5, 3)]
targets = {(37, 23): [(17, 11), (53, 41), (50, 15), (37, 10), (12, 23), (4, 4)],
           (80, 72): [(81, 73), (32, 32), (64, 64), (160, 9)],
           (5, 3): [(16, 12), (1, 1), (7, 2)]}
for si, (w, h) in enumerate(sources):
    img = random_image(w, h, si)
    src = f"src{si}.rgb"
    with open(os.path.join(out_dir, "resize", src), "wb") as f:
        f.write(img.tobytes())
    for (tw, th) in targets[(w, h)]:
        for flt in range(6):
            name = f"src{si}_{tw}x{th}_f{flt}.rgb"
            with open(os.path.join(out_dir, "resize", name), "wb") as f:
                f.write(img.resize((tw, th), flt).tobytes())
            resize_cases.append({"source": src, "width": w, "height": h, "out_width": tw, "out_height": th,
                                 "filter": flt, "expected": name})
with open(os.path.join(out_dir, "resize", "manifest.json"), "w") as f:
    json.dump(resize_cases, f, indent=1)


# Processor cases: transformers' steps on a Pillow image.
def hf_short_edge_size(width, height, short, max_long=None):
    s, l = (width, height) if width <= height else (height, width)
    new_s, new_l = short, int(short * l / s)
    if max_long is not None and new_l > max_long:
        new_s, new_l = int(max_long * new_s / new_l), max_long
    return (new_l, new_s) if width <= height else (new_s, new_l)  # (height, width)


def hf_center_crop(a, ch, cw):
    h, w = a.shape[:2]
    top, left = (h - ch) // 2, (w - cw) // 2
    if top >= 0 and left >= 0 and top + ch <= h and left + cw <= w:
        return a[top:top + ch, left:left + cw]
    nh, nw = max(ch, h), max(cw, w)
    canvas = np.zeros((nh, nw, 3), dtype=a.dtype)
    tp, lp = -(-(nh - h) // 2), -(-(nw - w) // 2)
    canvas[tp:tp + h, lp:lp + w] = a
    top, left = top + tp, left + lp
    return canvas[max(0, top):min(nh, top + ch), max(0, left):min(nw, left + cw)]


def hf_process(cfg, img):
    kind = cfg["image_processor_type"]
    size, resample = cfg["size"], cfg.get("resample", 2)
    a = img
    if kind == "ConvNextImageProcessor":
        se = size["shortest_edge"]
        if se < 384:
            h, w = hf_short_edge_size(img.width, img.height, int(se / cfg["crop_pct"]))
            a = hf_center_crop(np.array(img.resize((w, h), resample)), se, se)
        else:
            a = np.array(img.resize((se, se), resample))
    elif "shortest_edge" in size:
        h, w = hf_short_edge_size(img.width, img.height, size["shortest_edge"], size.get("longest_edge"))
        a = np.array(img.resize((w, h), resample))
    else:
        a = np.array(img.resize((size["width"], size["height"]), resample))
    if cfg.get("do_center_crop"):
        a = hf_center_crop(a, cfg["crop_size"]["height"], cfg["crop_size"]["width"])
    uint8 = a.copy()
    x = (a * cfg["rescale_factor"]).astype(np.float32)
    if cfg.get("do_normalize"):
        x = (x - np.array(cfg["image_mean"], dtype=np.float32)) / np.array(cfg["image_std"], dtype=np.float32)
    if cfg.get("do_flip_channel_order"):
        x = x[..., ::-1]
    return uint8, np.ascontiguousarray(x.transpose(2, 0, 1)).astype(np.float32)


configs = {
    "vit_bicubic": {"image_processor_type": "ViTImageProcessor", "do_resize": True, "size": {"height": 24, "width": 20},
                    "resample": 3, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
                    "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]},
    "convnext": {"image_processor_type": "ConvNextImageProcessor", "crop_pct": 0.875, "do_resize": True,
                 "size": {"shortest_edge": 20}, "resample": 2, "do_rescale": True, "rescale_factor": 1 / 255,
                 "do_normalize": True, "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225]},
    "convnext_large": {"image_processor_type": "ConvNextImageProcessor", "crop_pct": 0.875, "do_resize": True,
                       "size": {"shortest_edge": 384}, "resample": 3, "do_rescale": True, "rescale_factor": 1 / 255,
                       "do_normalize": True, "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225]},
    "mobilevit": {"image_processor_type": "MobileViTImageProcessor", "do_resize": True, "size": {"shortest_edge": 26},
                  "resample": 5, "do_center_crop": True, "crop_size": {"height": 20, "width": 24}, "do_rescale": True,
                  "rescale_factor": 1 / 255, "do_flip_channel_order": True},
    "mobilevit_pad": {"image_processor_type": "MobileViTImageProcessor", "do_resize": True, "size": {"shortest_edge": 12},
                      "resample": 1, "do_center_crop": True, "crop_size": {"height": 17, "width": 30}, "do_rescale": True,
                      "rescale_factor": 1 / 255, "do_flip_channel_order": True},
    "segformer_nearest": {"image_processor_type": "SegformerImageProcessor", "do_resize": True,
                          "size": {"height": 16, "width": 16}, "resample": 0, "do_rescale": True,
                          "rescale_factor": 1 / 255, "do_normalize": True, "image_mean": [0.485, 0.456, 0.406],
                          "image_std": [0.229, 0.224, 0.225]},
    "segformer_box_longest": {"image_processor_type": "SegformerImageProcessor", "do_resize": True,
                              "size": {"shortest_edge": 18, "longest_edge": 22}, "resample": 4, "do_rescale": True,
                              "rescale_factor": 1 / 255, "do_normalize": True, "image_mean": [0.5, 0.4, 0.3],
                              "image_std": [0.2, 0.25, 0.3]},
}
os.makedirs(os.path.join(out_dir, "processor"), exist_ok=True)
processor_cases = []
images = {"landscape": random_image(50, 31, 11), "portrait": random_image(27, 45, 12)}
for iname, img in images.items():
    img.save(os.path.join(out_dir, "processor", iname + ".png"))
for cname, cfg in configs.items():
    cfg_file = cname + ".json"
    with open(os.path.join(out_dir, "processor", cfg_file), "w") as f:
        json.dump(cfg, f)
    for iname, img in images.items():
        uint8, pixels = hf_process(cfg, img)
        base = f"{cname}_{iname}"
        with open(os.path.join(out_dir, "processor", base + ".u8"), "wb") as f:
            f.write(uint8.tobytes())
        with open(os.path.join(out_dir, "processor", base + ".f32"), "wb") as f:
            f.write(pixels.astype("<f4").tobytes())
        processor_cases.append({"config": cfg_file, "image": iname + ".png", "uint8": base + ".u8",
                                "pixel_values": base + ".f32", "height": int(uint8.shape[0]),
                                "width": int(uint8.shape[1])})
with open(os.path.join(out_dir, "processor", "manifest.json"), "w") as f:
    json.dump(processor_cases, f, indent=1)
