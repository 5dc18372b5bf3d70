"""Independent reader for files written by exporters::io::write_safetensors.

Checks the layout rules (8-byte header length, header padded with spaces to a
multiple of 8, __metadata__.format == "pt", data stored contiguously in
sorted name order and nothing after it) and prints every tensor as JSON
{name: {"dtype", "shape", "values"}, "__metadata__": {...}} for the C++ test
to compare. Exits 1 with a message on the first violated rule.
"""
import json
import struct
import sys

CODES = {"F32": ("f", 4), "F16": ("e", 2), "I32": ("i", 4), "I64": ("q", 8),
         "BOOL": ("?", 1), "I8": ("b", 1), "U8": ("B", 1)}


def fail(msg):
    print("layout error: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    raw = open(sys.argv[1], "rb").read()
    if len(raw) < 8:
        fail("shorter than 8 bytes")
    (n,) = struct.unpack("<Q", raw[:8])
    if n % 8 != 0:
        fail("header length %d is not a multiple of 8" % n)
    text = raw[8:8 + n].decode("utf-8")
    stripped = text.rstrip(" ")
    if not stripped.endswith("}"):
        fail("header padding is not spaces after the JSON object")
    header = json.loads(stripped)
    meta = header.pop("__metadata__", None)
    if not meta or meta.get("format") != "pt":
        fail("__metadata__.format is not 'pt': %r" % (meta,))
    data = raw[8 + n:]
    pos = 0
    out = {"__metadata__": meta}
    for name in sorted(header):
        entry = header[name]
        begin, end = entry["data_offsets"]
        if begin != pos:
            fail("tensor %r starts at %d, expected %d (sorted, contiguous)" % (name, begin, pos))
        code, size = CODES[entry["dtype"]]
        count = 1
        for d in entry["shape"]:
            count *= d
        if end - begin != count * size:
            fail("tensor %r spans %d bytes, expected %d" % (name, end - begin, count * size))
        values = list(struct.unpack("<%d%s" % (count, code), data[begin:end]))
        out[name] = {"dtype": entry["dtype"], "shape": entry["shape"],
                     "values": [float(v) if code in "fe" else int(v) for v in values]}
        pos = end
    if pos != len(data):
        fail("%d bytes after the last tensor" % (len(data) - pos))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
