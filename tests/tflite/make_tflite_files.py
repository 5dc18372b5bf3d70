#!/usr/bin/python3
"""Writes small .tflite files byte by byte, independently of the project's
TFLite writer, for the reader tests that must run without ../shared:

  make_tflite_files.py OUT_DIR

A minimal FlatBuffers encoder (below) lays out the tables of the TFLite model
format by their published field numbers (Model, SubGraph, Tensor, Operator,
Buffer, OperatorCode, SignatureDef and the builtin options used here). Every
file comes with <name>.safetensors: the inputs ("input.<name>") and PyTorch's
outputs ("output.<name>") for them. topk.tflite uses an op the reader does not
support (TOPK_V2) and has no expectations.
"""
import json
import os
import struct
import sys

import torch

# --- a forward FlatBuffers encoder ------------------------------------------
# Objects are written after the object that refers to them, so every uoffset
# is positive; vtables sit right before their table.


class Table:
    def __init__(self, *fields):
        # fields: (slot, kind, value); kind is a struct format ("b", "B",
        # "i", "I", "f", "?") or "o" for an offset to Table/Vector/String.
        self.fields = [f for f in fields if f[2] is not None]


class Vector:
    def __init__(self, kind, items, align=4):
        self.kind, self.items, self.align = kind, list(items), align


class String:
    def __init__(self, text):
        self.text = text


class Encoder:
    def __init__(self):
        self.buf = bytearray()

    def pad_to(self, align, extra=0):
        while (len(self.buf) + extra) % align:
            self.buf.append(0)

    def patch_offset(self, at, target):
        struct.pack_into("<I", self.buf, at, target - at)

    def write(self, obj):
        if isinstance(obj, String):
            self.pad_to(4)
            pos = len(self.buf)
            data = obj.text.encode()
            self.buf += struct.pack("<I", len(data)) + data + b"\0"
            return pos
        if isinstance(obj, Vector):
            size = 4 if obj.kind == "o" else struct.calcsize("<" + obj.kind)
            self.pad_to(max(4, size, obj.align), extra=4)
            pos = len(self.buf)
            self.buf += struct.pack("<I", len(obj.items))
            if obj.kind == "o":
                slots = len(self.buf)
                self.buf += bytes(4 * len(obj.items))
                for i, item in enumerate(obj.items):
                    self.patch_offset(slots + 4 * i, self.write(item))
            elif obj.kind == "B" and isinstance(obj.items, (bytes, bytearray)):
                self.buf += obj.items
            else:
                self.buf += struct.pack("<%d%s" % (len(obj.items), obj.kind), *obj.items)
            return pos
        return self.write_table(obj)

    def write_table(self, table):
        # Inline layout: soffset to the vtable, then the fields, largest first.
        layout, offset = {}, 4
        for slot, kind, _ in sorted(table.fields, key=lambda f: -(4 if f[1] == "o" else struct.calcsize(f[1]))):
            size = 4 if kind == "o" else struct.calcsize("<" + kind)
            offset = (offset + size - 1) // size * size
            layout[slot] = offset
            offset += size
        inline_size = (offset + 3) // 4 * 4
        slots = max((f[0] for f in table.fields), default=-1) + 1
        vtable = struct.pack("<HH", 4 + 2 * slots, inline_size)
        vtable += b"".join(struct.pack("<H", layout.get(s, 0)) for s in range(slots))
        self.pad_to(2)
        # vtable then table; the table must start 4-aligned.
        while (len(self.buf) + len(vtable)) % 4:
            self.buf.append(0)
        vpos = len(self.buf)
        self.buf += vtable
        tpos = len(self.buf)
        self.buf += bytes(inline_size)
        struct.pack_into("<i", self.buf, tpos, tpos - vpos)
        children = []
        for slot, kind, value in table.fields:
            if kind == "o":
                children.append((tpos + layout[slot], value))
            else:
                struct.pack_into("<" + kind, self.buf, tpos + layout[slot], value)
        for at, child in children:
            self.patch_offset(at, self.write(child))
        return tpos


def encode_model(model, identifier=b"TFL3"):
    enc = Encoder()
    enc.buf += bytes(8)
    enc.buf[4:8] = identifier
    enc.patch_offset(0, enc.write(model))
    return bytes(enc.buf)


# --- the TFLite tables (published field numbers) -----------------------------
FLOAT32, FLOAT16, INT32 = 0, 1, 2
ADD, DEQUANTIZE, FULLY_CONNECTED, MUL, RESHAPE, SOFTMAX, TANH, TOPK_V2 = 0, 6, 9, 18, 22, 25, 28, 48
OPT_FULLY_CONNECTED, OPT_SOFTMAX, OPT_ADD, OPT_RESHAPE, OPT_MUL = 8, 9, 11, 17, 21
ACT_NONE, ACT_RELU = 0, 1


class ModelBuilder:
    def __init__(self):
        self.buffers = [Table()]  # buffer 0: the empty sentinel
        self.tensors, self.ops, self.codes = [], [], []

    def tensor(self, name, shape, ttype=FLOAT32, data=None):
        buffer = 0
        if data is not None:
            self.buffers.append(Table((0, "o", Vector("B", data, align=16))))
            buffer = len(self.buffers) - 1
        self.tensors.append(Table((0, "o", Vector("i", shape)), (1, "b", ttype), (2, "I", buffer),
                                  (3, "o", String(name))))
        return len(self.tensors) - 1

    def op(self, code, inputs, outputs, options_type=0, options=None):
        if code not in self.codes:
            self.codes.append(code)
        fields = [(0, "I", self.codes.index(code)), (1, "o", Vector("i", inputs)), (2, "o", Vector("i", outputs))]
        if options is not None:
            fields += [(3, "B", options_type), (4, "o", options)]
        self.ops.append(Table(*fields))

    def finish(self, inputs, outputs, names):
        def tensor_maps(ids):
            return Vector("o", [Table((0, "o", String(names[i])), (1, "I", i)) for i in ids])

        subgraph = Table((0, "o", Vector("o", self.tensors)), (1, "o", Vector("i", inputs)),
                         (2, "o", Vector("i", outputs)), (3, "o", Vector("o", self.ops)), (4, "o", String("main")))
        codes = [Table((0, "b", c), (2, "i", 1), (3, "i", c)) for c in self.codes]
        signature = Table((0, "o", tensor_maps(inputs)), (1, "o", tensor_maps(outputs)),
                          (2, "o", String("serving_default")), (4, "I", 0))
        return Table((0, "I", 3), (1, "o", Vector("o", codes)), (2, "o", Vector("o", [subgraph])),
                     (3, "o", String("hand-written by tests/tflite/make_tflite_files.py")),
                     (4, "o", Vector("o", self.buffers)), (7, "o", Vector("o", [signature])))


def f32_bytes(t):
    return t.contiguous().to(torch.float32).numpy().tobytes()


# --- safetensors expectations ------------------------------------------------
DTYPES = {torch.float32: "F32", torch.int32: "I32"}


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        data = tensors[name].contiguous().numpy().tobytes()
        header[name] = {"dtype": DTYPES[tensors[name].dtype], "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text.encode() + b"".join(chunks))


def save(out_dir, name, model, inputs, outputs):
    with open(os.path.join(out_dir, name + ".tflite"), "wb") as f:
        f.write(encode_model(model))
    if inputs is not None:
        ref = {"input." + k: v for k, v in inputs.items()}
        ref.update({"output." + k: v for k, v in outputs.items()})
        write_safetensors(os.path.join(out_dir, name + ".safetensors"), ref)


# --- the models ---------------------------------------------------------------

def add_mul(out_dir, g):
    # out = relu(a + b) * w, w broadcast over the rows
    a, b = torch.randn(2, 3, generator=g), torch.randn(2, 3, generator=g)
    w = torch.tensor([0.5, -2.0, 3.0])
    m = ModelBuilder()
    ta, tb = m.tensor("a", [2, 3]), m.tensor("b", [2, 3])
    tw = m.tensor("w", [3], data=f32_bytes(w))
    ts, to = m.tensor("sum", [2, 3]), m.tensor("out", [2, 3])
    m.op(ADD, [ta, tb], [ts], OPT_ADD, Table((0, "b", ACT_RELU)))
    m.op(MUL, [ts, tw], [to], OPT_MUL, Table((0, "b", ACT_NONE)))
    names = {ta: "a", tb: "b", to: "out"}
    save(out_dir, "add_mul", m.finish([ta, tb], [to], names), {"a": a, "b": b},
         {"out": torch.relu(a + b) * w})


def fc_softmax(out_dir, g):
    # logits = x W^T + bias; probs = softmax(logits); two outputs
    x = torch.randn(2, 4, generator=g)
    w, bias = torch.randn(3, 4, generator=g), torch.randn(3, generator=g)
    m = ModelBuilder()
    tx = m.tensor("x", [2, 4])
    tw, tb = m.tensor("weight", [3, 4], data=f32_bytes(w)), m.tensor("bias", [3], data=f32_bytes(bias))
    tl, tp = m.tensor("logits", [2, 3]), m.tensor("probs", [2, 3])
    m.op(FULLY_CONNECTED, [tx, tw, tb], [tl], OPT_FULLY_CONNECTED, Table((0, "b", ACT_NONE)))
    m.op(SOFTMAX, [tl], [tp], OPT_SOFTMAX, Table((0, "f", 1.0)))
    logits = x @ w.T + bias
    save(out_dir, "fc_softmax", m.finish([tx], [tl, tp], {tx: "x", tl: "logits", tp: "probs"}), {"x": x},
         {"logits": logits, "probs": torch.softmax(logits, dim=-1)})


def fp16_fc_tanh_reshape(out_dir, g):
    # float16 weights widened by DEQUANTIZE, as converters write them;
    # out = reshape(tanh(x W^T + bias), [3, 2])
    x = torch.randn(2, 4, generator=g)
    w16, bias = torch.randn(3, 4, generator=g).to(torch.float16), torch.randn(3, generator=g)
    m = ModelBuilder()
    tx = m.tensor("x", [2, 4])
    tw16 = m.tensor("weight_fp16", [3, 4], FLOAT16, data=w16.contiguous().numpy().tobytes())
    tw, tb = m.tensor("weight", [3, 4]), m.tensor("bias", [3], data=f32_bytes(bias))
    th, tt = m.tensor("fc", [2, 3]), m.tensor("act", [2, 3])
    tshape = m.tensor("new_shape", [2], INT32, data=struct.pack("<2i", 3, 2))
    to = m.tensor("out", [3, 2])
    m.op(DEQUANTIZE, [tw16], [tw])
    m.op(FULLY_CONNECTED, [tx, tw, tb], [th], OPT_FULLY_CONNECTED, Table((0, "b", ACT_NONE)))
    m.op(TANH, [th], [tt])
    m.op(RESHAPE, [tt, tshape], [to], OPT_RESHAPE, Table((0, "o", Vector("i", [3, 2]))))
    expected = torch.tanh(x @ w16.to(torch.float32).T + bias).reshape(3, 2)
    save(out_dir, "fp16_fc_tanh_reshape", m.finish([tx], [to], {tx: "x", to: "out"}), {"x": x}, {"out": expected})


def topk(out_dir, g):
    m = ModelBuilder()
    tx = m.tensor("x", [1, 5])
    tk = m.tensor("k", [], INT32, data=struct.pack("<i", 2))
    tv, ti = m.tensor("values", [1, 2]), m.tensor("indices", [1, 2], INT32)
    m.op(TOPK_V2, [tx, tk], [tv, ti])
    save(out_dir, "topk", m.finish([tx], [tv, ti], {tx: "x", tv: "values", ti: "indices"}), None, None)


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    g = torch.Generator().manual_seed(7)
    for make in (add_mul, fc_softmax, fp16_fc_tanh_reshape, topk):
        make(out_dir, g)


if __name__ == "__main__":
    main()
