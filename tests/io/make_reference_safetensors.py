"""Writes safetensors files byte by byte (struct + json, no safetensors
library) with values the C++ test knows independently. Used at build time.

known_values.safetensors: every supported dtype, a scalar, an empty tensor,
  extra metadata, data stored in an order that differs from the names.
unaligned.safetensors: an unpadded header, so tensor data starts at an odd
  offset in the file (readers must not assume alignment).
"""
import json
import struct
import sys
from pathlib import Path

# name -> (safetensors dtype, shape, struct code, values)
KNOWN = {
    "f32": ("F32", [2, 3], "f", [0.5, -1.25, 3.0, 1e-3, -0.0, 65504.0]),
    "f16": ("F16", [5], "e", [1.0, -2.5, 2.0 ** -14, 65504.0, 2.0 ** -24]),
    "i32": ("I32", [3], "i", [-2147483648, 0, 2147483647]),
    "i64": ("I64", [2, 2], "q", [-(2 ** 62), 1, 2 ** 40 + 7, -3]),
    "mask": ("BOOL", [4], "?", [True, False, False, True]),
    "i8": ("I8", [3], "b", [-128, 0, 127]),
    "u8": ("U8", [2], "B", [0, 255]),
    "scalar": ("F32", [], "f", [42.0]),
    "empty": ("I64", [0, 3], "q", []),
}

UNALIGNED = {
    "a_f32": ("F32", [3], "f", [1.5, 2.5, -3.5]),
    "b_i64": ("I64", [2], "q", [123456789012, -5]),
    "c_f16": ("F16", [2], "e", [0.5, -1024.0]),
}


def write(path, entries, data_order, metadata, pad):
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name in data_order:
        dtype, shape, code, values = entries[name]
        blob = struct.pack("<%d%s" % (len(values), code), *values)
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode("utf-8")
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    elif (8 + len(text)) % 2 == 0:
        text += b" "  # make the data section start at an odd file offset
    Path(path).write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    write(out / "known_values.safetensors", KNOWN, sorted(KNOWN, reverse=True),
          {"format": "pt", "written_by": "make_reference_safetensors.py"}, pad=True)
    write(out / "unaligned.safetensors", UNALIGNED, sorted(UNALIGNED), {"format": "pt"},
          pad=False)


if __name__ == "__main__":
    main()
