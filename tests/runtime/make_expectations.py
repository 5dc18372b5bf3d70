#!/usr/bin/python3
"""Writes PyTorch expectations for the reference interpreter's kernel tests.

Usage: make_expectations.py OUT.safetensors OUT.json

Every case is one canonical IR op applied to concrete inputs; the expected
outputs come from PyTorch (torch.nn.functional and friends), translated from
the IR's attribute conventions (e.g. pads as [begin..., end...]) to PyTorch's.
f16 cases follow the IR's documented f16 rule: compute in float32 and round
the result to half. The tensors go into a safetensors file written by hand
here (struct + json), the case list into a JSON manifest.
"""
import json
import math
import struct
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(0)

TENSORS = {}
CASES = []

DTYPES = {
    torch.float32: "F32", torch.float16: "F16", torch.int32: "I32", torch.int64: "I64",
    torch.bool: "BOOL", torch.int8: "I8", torch.uint8: "U8",
}

F16_TOL = dict(atol=2e-3, rtol=2e-3)


def case(name, op, inputs, expected, attrs=None, const=(), atol=1e-5, rtol=1e-5):
    """inputs: tensors or None (absent optional input); expected: tensor or list."""
    if name in {c["name"] for c in CASES}:
        raise SystemExit(f"duplicate case {name}")
    if isinstance(expected, torch.Tensor):
        expected = [expected]
    in_names = []
    for i, t in enumerate(inputs):
        if t is None:
            in_names.append(None)
            continue
        key = f"{name}/in{i}"
        TENSORS[key] = t.contiguous()
        in_names.append(key)
    out_names = []
    for i, t in enumerate(expected):
        key = f"{name}/out{i}"
        TENSORS[key] = t.contiguous()
        out_names.append(key)
    CASES.append(dict(name=name, op=op, attrs=attrs or {}, inputs=in_names, const=list(const),
                      outputs=out_names, atol=atol, rtol=rtol))


def write_safetensors(path):
    header = {}
    blobs = []
    offset = 0
    for key in sorted(TENSORS):
        t = TENSORS[key]
        data = t.numpy().tobytes()
        header[key] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                       "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def randn(*shape, scale=1.0):
    return torch.randn(*shape) * scale


def randint(lo, hi, shape, dtype=torch.int64):
    return torch.randint(lo, hi, shape).to(dtype)


def half_case(name, op, inputs, fn, attrs=None, const=()):
    """f16 inputs, expectation = fn on the float32 inputs, rounded to half."""
    hin = [None if t is None else t.half() for t in inputs]
    fin = [None if t is None else t.float() for t in hin]
    case(name, op, hin, fn(*fin).half(), attrs, const, **F16_TOL)


# ── Elementwise binary ──────────────────────────────────────────────────────
def int_nonzero(shape, dtype, lo=-9, hi=10):
    t = randint(lo, hi, shape, dtype)
    t[t == 0] = 3
    return t


BINARY = {
    "add": torch.add,
    "sub": torch.sub,
    "mul": torch.mul,
    "div": lambda a, b: torch.div(a, b) if a.is_floating_point() else torch.div(a, b, rounding_mode="trunc"),
    "floor_div": lambda a, b: torch.div(a, b, rounding_mode="floor"),
    "mod": torch.remainder,
    "pow": torch.pow,
    "maximum": torch.maximum,
    "minimum": torch.minimum,
}

for op, fn in BINARY.items():
    a, b = randn(2, 3, 4, scale=3), randn(2, 3, 4, scale=3)
    if op == "pow":
        a = a.abs() + 0.1
    case(f"{op}/f32_same_shape", op, [a, b], fn(a, b))
    a, b = randn(2, 3, 4, scale=3), randn(3, 1, scale=3)
    if op == "pow":
        a = a.abs() + 0.1
    case(f"{op}/f32_broadcast", op, [a, b], fn(a, b))
    a, b = randn(4, 1, 5, scale=2), randn(3, 1, scale=2)
    if op == "pow":
        a = a.abs() + 0.5
    case(f"{op}/f32_broadcast_both_sides", op, [a, b], fn(a, b))
    a, b = randn(2, 3, scale=3), torch.tensor(-1.75)
    if op == "pow":
        a = a.abs() + 0.1
    case(f"{op}/f32_scalar_rhs", op, [a, b], fn(a, b), const=[1])
    b = randn(5, scale=2)
    case(f"{op}/f32_scalar_lhs", op, [torch.tensor(2.5), b], fn(torch.tensor(2.5), b))
    a, b = randn(3, 4, scale=3), randn(3, 4, scale=3)
    if op == "pow":
        a = a.abs() + 0.1
    half_case(f"{op}/f16", op, [a, b], fn)
    for dt in (torch.int64, torch.int32, torch.int8, torch.uint8):
        if op == "pow":
            a = randint(0 if dt == torch.uint8 else -3, 4, (3, 4), dt)
            b = randint(0, 4, (4,), dt)
        elif dt == torch.uint8:
            a, b = randint(0, 15, (3, 4), dt), int_nonzero((4,), dt, 1, 15)
            if op == "sub":
                a = a + 15
        else:
            a, b = randint(-20, 21, (3, 4), dt), int_nonzero((4,), dt)
        case(f"{op}/{str(dt)[6:]}", op, [a, b], fn(a, b))
    if op in ("add", "mul", "maximum", "minimum"):
        a, b = torch.rand(3, 4) > 0.5, torch.rand(4) > 0.5
        case(f"{op}/bool", op, [a, b], fn(a, b))

# Python-style sign rules on exact operands.
a = torch.tensor([7.0, -7.0, 7.0, -7.0, 0.5, -0.0, 6.0, -6.0])
b = torch.tensor([2.0, 2.0, -2.0, -2.0, 0.25, 3.0, 3.0, 3.0])
for op in ("mod", "floor_div", "div"):
    case(f"{op}/f32_signs", op, [a, b], BINARY[op](a, b))
ai, bi = a.long(), torch.tensor([2, 2, -2, -2, 3, 3, 3, -3])
for op in ("mod", "floor_div", "div"):
    case(f"{op}/i64_signs", op, [ai, bi], BINARY[op](ai, bi))

# ── Comparisons and logic ───────────────────────────────────────────────────
COMPARE = {"equal": torch.eq, "not_equal": torch.ne, "less": torch.lt, "less_equal": torch.le,
           "greater": torch.gt, "greater_equal": torch.ge}
for op, fn in COMPARE.items():
    a, b = randint(-2, 3, (2, 3, 4)).float(), randint(-2, 3, (3, 1)).float()
    case(f"{op}/f32_broadcast", op, [a, b], fn(a, b))
    a, b = randint(-2, 3, (3, 4)), randint(-2, 3, (3, 4))
    case(f"{op}/i64", op, [a, b], fn(a, b))
    a, b = randint(-2, 3, (3, 4), torch.int32), randint(-2, 3, (4,), torch.int32)
    case(f"{op}/i32", op, [a, b], fn(a, b))
    a, b = torch.rand(3, 4) > 0.5, torch.rand(3, 4) > 0.5
    case(f"{op}/bool", op, [a, b], fn(a, b))
    a, b = randint(-2, 3, (3, 4)).half(), randint(-2, 3, (3, 4)).half()
    case(f"{op}/f16", op, [a, b], fn(a.float(), b.float()))

for op, fn in {"logical_and": torch.logical_and, "logical_or": torch.logical_or,
               "logical_xor": torch.logical_xor}.items():
    a, b = torch.rand(2, 3, 4) > 0.5, torch.rand(3, 1) > 0.5
    case(f"{op}/bool_broadcast", op, [a, b], fn(a, b))
a = torch.rand(3, 5) > 0.5
case("logical_not/bool", "logical_not", [a], torch.logical_not(a))

# ── Elementwise unary ───────────────────────────────────────────────────────
UNARY_FLOAT = {
    "exp": (torch.exp, lambda: randn(3, 7, scale=3)),
    "log": (torch.log, lambda: randn(3, 7, scale=3).abs() + 0.05),
    "sqrt": (torch.sqrt, lambda: randn(3, 7, scale=3).abs()),
    "rsqrt": (torch.rsqrt, lambda: randn(3, 7, scale=3).abs() + 0.05),
    "reciprocal": (torch.reciprocal, lambda: randn(3, 7, scale=3)),
    "sin": (torch.sin, lambda: randn(3, 7, scale=4)),
    "cos": (torch.cos, lambda: randn(3, 7, scale=4)),
    "tanh": (torch.tanh, lambda: randn(3, 7, scale=3)),
    "sigmoid": (torch.sigmoid, lambda: randn(3, 7, scale=5)),
    "erf": (torch.erf, lambda: randn(3, 7, scale=2)),
    "silu": (F.silu, lambda: randn(3, 7, scale=4)),
    "hardswish": (F.hardswish, lambda: torch.linspace(-5, 5, 21)),
    "hardsigmoid": (F.hardsigmoid, lambda: torch.linspace(-5, 5, 21)),
}
for op, (fn, gen) in UNARY_FLOAT.items():
    x = gen()
    case(f"{op}/f32", op, [x], fn(x))
    half_case(f"{op}/f16", op, [gen()], fn)

UNARY_NUMERIC = {"neg": torch.neg, "abs": torch.abs, "floor": torch.floor, "ceil": torch.ceil,
                 "round": torch.round, "sign": torch.sign, "relu": torch.relu}
for op, fn in UNARY_NUMERIC.items():
    x = torch.cat([randn(10, scale=3), torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.0, -0.0])])
    case(f"{op}/f32", op, [x], fn(x))
    half_case(f"{op}/f16", op, [x], fn)
    for dt in (torch.int64, torch.int32, torch.int8):
        xi = randint(-50, 50, (3, 5), dt)
        if op in ("floor", "ceil", "round"):
            expected = xi.clone()  # rounding is the identity on integers
        else:
            expected = fn(xi)
        case(f"{op}/{str(dt)[6:]}", op, [xi], expected)

x = randn(4, 6)
case("identity/f32", "identity", [x], x)
xi = randint(-5, 5, (3,))
case("identity/i64", "identity", [xi], xi)

x = randn(4, 9, scale=3)
case("gelu/none", "gelu", [x], F.gelu(x), {"approximate": "none"})
case("gelu/tanh", "gelu", [x], F.gelu(x, approximate="tanh"), {"approximate": "tanh"})
case("gelu/default_attr", "gelu", [x], F.gelu(x))
half_case("gelu/f16_tanh", "gelu", [x], lambda t: F.gelu(t, approximate="tanh"), {"approximate": "tanh"})
x = randn(4, 9, scale=6)
case("softplus/default", "softplus", [x], F.softplus(x), {"beta": 1.0, "threshold": 20.0})
case("softplus/beta2_threshold3", "softplus", [x], F.softplus(x, beta=2.0, threshold=3.0),
     {"beta": 2.0, "threshold": 3.0})
case("softplus/beta_half", "softplus", [x], F.softplus(x, beta=0.5, threshold=1.0),
     {"beta": 0.5, "threshold": 1.0})
case("clamp/min_max", "clamp", [x], torch.clamp(x, -1.5, 2.0), {"min": -1.5, "max": 2.0})
case("clamp/min_only", "clamp", [x], torch.clamp(x, min=-0.5), {"min": -0.5})
case("clamp/max_only", "clamp", [x], torch.clamp(x, max=0.25), {"max": 0.25})
case("clamp/none", "clamp", [x], x.clone())
xi = randint(-20, 20, (3, 6))
case("clamp/i64", "clamp", [xi], torch.clamp(xi, -3, 7), {"min": -3, "max": 7})
case("clamp/i32_fractional_bounds", "clamp", [xi.int()], torch.clamp(xi.int(), -3, 7), {"min": -3.5, "max": 7.5})
half_case("clamp/f16", "clamp", [x], lambda t: torch.clamp(t, -1.0, 1.0), {"min": -1.0, "max": 1.0})
case("leaky_relu/alpha", "leaky_relu", [x], F.leaky_relu(x, 0.2), {"alpha": 0.2})
case("leaky_relu/default", "leaky_relu", [x], F.leaky_relu(x))
case("elu/alpha", "elu", [x], F.elu(x, 1.5), {"alpha": 1.5})
case("elu/default", "elu", [x], F.elu(x))
half_case("elu/f16", "elu", [x], F.elu, {"alpha": 1.0})

# ── cast ────────────────────────────────────────────────────────────────────
x = torch.tensor([-2.7, -1.5, -0.2, 0.0, 0.4, 1.5, 2.7, 100.9])
NAMES = {torch.float32: "f32", torch.float16: "f16", torch.int32: "i32", torch.int64: "i64",
         torch.bool: "bool", torch.int8: "i8", torch.uint8: "u8"}
for dt in (torch.int64, torch.int32, torch.int8, torch.bool, torch.float16):
    case(f"cast/f32_to_{NAMES[dt]}", "cast", [x], x.to(dt), {"dtype": NAMES[dt]})
xu = torch.tensor([0.0, 0.7, 1.5, 200.9, 255.0])
case("cast/f32_to_u8", "cast", [xu], xu.to(torch.uint8), {"dtype": "u8"})
xi = torch.tensor([-300, -5, 0, 7, 1 << 40])
for dt in (torch.float32, torch.int32, torch.bool):
    case(f"cast/i64_to_{NAMES[dt]}", "cast", [xi], xi.to(dt), {"dtype": NAMES[dt]})
xi16 = torch.tensor([-3000, -5, 0, 7, 2049, 60000])
case("cast/i64_to_f16", "cast", [xi16], xi16.half(), {"dtype": "f16"})
xb = torch.tensor([True, False, True])
for dt in (torch.float32, torch.int64, torch.float16):
    case(f"cast/bool_to_{NAMES[dt]}", "cast", [xb], xb.to(dt), {"dtype": NAMES[dt]})
xh = randn(3, 4, scale=10).half()
for dt in (torch.float32, torch.int64, torch.bool):
    case(f"cast/f16_to_{NAMES[dt]}", "cast", [xh], xh.to(dt), {"dtype": NAMES[dt]})
x8 = torch.tensor([-128, -1, 0, 1, 127], dtype=torch.int8)
case("cast/i8_to_i64", "cast", [x8], x8.long(), {"dtype": "i64"})
xu8 = torch.tensor([0, 1, 200, 255], dtype=torch.uint8)
case("cast/u8_to_f32", "cast", [xu8], xu8.float(), {"dtype": "f32"})
case("cast/f32_to_f32", "cast", [x], x.clone(), {"dtype": "f32"})

# ── where ───────────────────────────────────────────────────────────────────
c, a, b = torch.rand(2, 1, 4) > 0.5, randn(3, 4), randn(2, 3, 1)
case("where/f32_broadcast", "where", [c, a, b], torch.where(c, a, b))
c, a, b = torch.rand(3, 4) > 0.5, randint(-9, 9, (3, 4)), randint(-9, 9, (4,))
case("where/i64", "where", [c, a, b], torch.where(c, a, b))
a, b = randn(3, 4).half(), torch.tensor(-65504.0).half()
case("where/f16_scalar_branch", "where", [c, a, b], torch.where(c, a, b), **F16_TOL)
ba, bb = torch.rand(3, 4) > 0.5, torch.rand(1, 4) > 0.5
case("where/bool_branches", "where", [c, ba, bb], torch.where(c, ba, bb))

# ── matmul / linear ─────────────────────────────────────────────────────────
for name, sa, sb in [("2d", (3, 4), (4, 5)), ("batched", (2, 3, 4), (2, 4, 5)),
                     ("broadcast_batch", (2, 1, 3, 4), (3, 4, 5)), ("shared_rhs", (2, 3, 4), (4, 5)),
                     ("shared_lhs", (3, 4), (2, 4, 5)), ("blocked_k_over_256", (70, 300), (300, 33)),
                     ("large_threaded", (128, 768), (768, 256)), ("vector_like", (1, 64), (64, 1)),
                     ("attention_scores", (2, 4, 16, 8), (2, 4, 8, 16))]:
    a, b = randn(*sa), randn(*sb)
    tol = 1e-4 if a.shape[-1] >= 300 else 1e-5
    case(f"matmul/{name}", "matmul", [a, b], torch.matmul(a, b), atol=tol, rtol=tol)
a, b = randint(-5, 5, (2, 3, 4)), randint(-5, 5, (4, 2))
case("matmul/i64", "matmul", [a, b], torch.matmul(a, b))
case("matmul/i32", "matmul", [a.int(), b.int()], torch.matmul(a, b).int())
half_case("matmul/f16", "matmul", [randn(3, 8), randn(8, 5)], torch.matmul)

x, w, bias = randn(2, 5, 16), randn(7, 16), randn(7)
case("linear/bias", "linear", [x, w, bias], F.linear(x, w, bias), const=[1, 2])
case("linear/no_bias", "linear", [x, w], F.linear(x, w))
case("linear/absent_bias", "linear", [x, w, None], F.linear(x, w))
x, w, bias = randn(64, 768), randn(768, 768), randn(768)
case("linear/bert_sized", "linear", [x, w, bias], F.linear(x, w, bias), const=[1, 2], atol=1e-4, rtol=1e-4)
x1, w1 = randn(16), randn(3, 16)
case("linear/1d_input", "linear", [x1, w1], F.linear(x1, w1))
half_case("linear/f16", "linear", [randn(4, 16), randn(5, 16), randn(5)], F.linear)
xi, wi, bi = randint(-4, 4, (3, 6)), randint(-4, 4, (2, 6)), randint(-4, 4, (2,))
case("linear/i64", "linear", [xi, wi, bi], xi @ wi.T + bi)


# ── conv / conv_transpose ───────────────────────────────────────────────────
def torch_pads(pads):
    """IR pads [b0, b1, ..., e0, e1, ...] -> F.pad's last-axis-first pairs."""
    n = len(pads) // 2
    out = []
    for i in reversed(range(n)):
        out += [pads[i], pads[n + i]]
    while len(out) > 2 and out[-2:] == [0, 0]:  # F.pad needs no pairs for untouched leading axes
        out = out[:-2]
    return out


def ref_conv(x, w, b, strides, dilations, pads, groups):
    xp = F.pad(x, torch_pads(pads))
    fn = F.conv1d if x.dim() == 3 else F.conv2d
    return fn(xp, w, b, stride=strides, dilation=dilations, groups=groups)


CONV = [
    ("1d_basic", (2, 4, 11), (6, 4, 3), True, [1], [1], [0, 0], 1),
    ("1d_stride_dilation_pad", (1, 4, 17), (5, 4, 3), True, [2], [2], [2, 1], 1),
    ("1d_groups", (1, 6, 9), (4, 3, 3), False, [1], [1], [1, 1], 2),
    ("1d_depthwise", (2, 5, 10), (5, 1, 4), True, [1], [1], [3, 0], 5),
    ("2d_basic", (2, 3, 8, 9), (4, 3, 3, 3), True, [1, 1], [1, 1], [0, 0, 0, 0], 1),
    ("2d_stride2_pad1", (1, 3, 9, 10), (8, 3, 3, 3), True, [2, 2], [1, 1], [1, 1, 1, 1], 1),
    ("2d_asymmetric_pads", (1, 2, 7, 6), (3, 2, 3, 2), True, [1, 2], [1, 1], [0, 2, 1, 0], 1),
    ("2d_dilation", (1, 3, 12, 12), (4, 3, 3, 3), False, [1, 1], [2, 3], [2, 3, 2, 3], 1),
    ("2d_groups", (2, 8, 6, 6), (6, 4, 3, 3), True, [1, 1], [1, 1], [1, 1, 1, 1], 2),
    ("2d_depthwise", (1, 6, 9, 9), (6, 1, 7, 7), True, [1, 1], [1, 1], [3, 3, 3, 3], 6),
    ("2d_depthwise_stride2", (1, 4, 9, 8), (4, 1, 3, 3), True, [2, 2], [1, 1], [1, 1, 1, 1], 4),
    ("2d_depthwise_multiplier", (1, 3, 6, 6), (6, 1, 3, 3), True, [1, 1], [1, 1], [1, 1, 1, 1], 3),
    ("2d_pointwise", (2, 16, 5, 7), (24, 16, 1, 1), True, [1, 1], [1, 1], [0, 0, 0, 0], 1),
    ("2d_patch_embedding", (1, 3, 32, 32), (16, 3, 8, 8), True, [8, 8], [1, 1], [0, 0, 0, 0], 1),
    ("2d_pointwise_strided", (1, 4, 6, 6), (5, 4, 1, 1), False, [2, 2], [1, 1], [0, 0, 0, 0], 1),
    # Atrous convolutions whose padding exceeds the input (DeepLab heads on small maps).
    ("2d_atrous_pads_exceed_input", (1, 4, 5, 5), (3, 4, 3, 3), True, [1, 1], [6, 6], [6, 6, 6, 6], 1),
    ("2d_depthwise_pads_exceed_input", (1, 3, 4, 4), (3, 1, 3, 3), True, [1, 1], [12, 12], [12, 12, 12, 12], 3),
    ("1d_pads_exceed_input", (1, 2, 3), (2, 2, 3), True, [2], [5], [7, 5], 1),
]
for name, sx, sw, has_bias, strides, dil, pads, groups in CONV:
    x, w = randn(*sx), randn(*sw)
    b = randn(sw[0]) if has_bias else None
    attrs = {"strides": strides, "dilations": dil, "pads": pads, "groups": groups}
    case(f"conv/{name}", "conv", [x, w, b] if has_bias else [x, w], ref_conv(x, w, b, strides, dil, pads, groups),
         attrs, const=[1, 2] if has_bias else [1], atol=1e-4, rtol=1e-4)
x, w, b = randn(1, 3, 6, 6), randn(4, 3, 3, 3), randn(4)
half_case("conv/f16", "conv", [x, w, b], lambda x, w, b: ref_conv(x, w, b, [1, 1], [1, 1], [1, 1, 1, 1], 1),
          {"strides": [1, 1], "dilations": [1, 1], "pads": [1, 1, 1, 1], "groups": 1})
case("conv/default_attrs", "conv", [x, w], F.conv2d(x, w), atol=1e-4, rtol=1e-4)


def ref_conv_transpose(x, w, b, strides, dilations, pads, opad, groups):
    fn = F.conv_transpose1d if x.dim() == 3 else F.conv_transpose2d
    y = fn(x, w, b, stride=strides, dilation=dilations, output_padding=opad, groups=groups)
    n = x.dim() - 2
    idx = [slice(None), slice(None)]
    for i in range(n):
        idx.append(slice(pads[i], y.shape[2 + i] - pads[n + i]))
    return y[tuple(idx)]


CONVT = [
    ("1d_basic", (2, 4, 7), (4, 3, 3), True, [1], [1], [0, 0], [0], 1),
    ("1d_stride_pad_outpad", (1, 4, 6), (4, 2, 4), True, [2], [1], [1, 1], [1], 1),
    ("2d_stride2", (1, 3, 5, 4), (3, 4, 3, 3), True, [2, 2], [1, 1], [1, 1, 1, 1], [1, 1], 1),
    ("2d_groups_dilation", (2, 4, 4, 5), (4, 3, 3, 2), False, [1, 2], [2, 1], [0, 1, 0, 1], [0, 1], 2),
    ("2d_upsample_k2s2", (1, 8, 5, 5), (8, 4, 2, 2), True, [2, 2], [1, 1], [0, 0, 0, 0], [0, 0], 1),
    ("2d_asymmetric_pads", (1, 2, 4, 4), (2, 3, 3, 3), True, [2, 2], [1, 1], [0, 1, 2, 0], [0, 0], 1),
]
for name, sx, sw, has_bias, strides, dil, pads, opad, groups in CONVT:
    x, w = randn(*sx), randn(*sw)
    b = randn(sw[1] * groups) if has_bias else None
    attrs = {"strides": strides, "dilations": dil, "pads": pads, "output_padding": opad, "groups": groups}
    case(f"conv_transpose/{name}", "conv_transpose", [x, w, b] if has_bias else [x, w],
         ref_conv_transpose(x, w, b, strides, dil, pads, opad, groups), attrs, atol=1e-4, rtol=1e-4)

# ── Normalisation ───────────────────────────────────────────────────────────
x = randn(2, 5, 8, scale=3) + 2
g, b = randn(8), randn(8)
case("layer_norm/last_axis_affine", "layer_norm", [x, g, b], F.layer_norm(x, (8,), g, b, 1e-5),
     {"axes": [2], "epsilon": 1e-5})
case("layer_norm/no_affine", "layer_norm", [x], F.layer_norm(x, (8,), eps=1e-12), {"axes": [2], "epsilon": 1e-12})
case("layer_norm/gamma_only", "layer_norm", [x, g, None], F.layer_norm(x, (8,), g, None, 1e-6),
     {"axes": [2], "epsilon": 1e-6})
g2, b2 = randn(5, 8), randn(5, 8)
case("layer_norm/two_axes_big_eps", "layer_norm", [x, g2, b2], F.layer_norm(x, (5, 8), g2, b2, 0.1),
     {"axes": [1, 2], "epsilon": 0.1})
half_case("layer_norm/f16", "layer_norm", [x, g, b], lambda x, g, b: F.layer_norm(x, (8,), g, b, 1e-5),
          {"axes": [2], "epsilon": 1e-5})

x = randn(2, 6, 4, 5, scale=2) + 1
g, b = randn(6), randn(6)
case("group_norm/groups3_affine", "group_norm", [x, g, b], F.group_norm(x, 3, g, b, 1e-5),
     {"groups": 3, "epsilon": 1e-5})
case("group_norm/groups1_no_affine", "group_norm", [x], F.group_norm(x, 1, eps=1e-6), {"groups": 1, "epsilon": 1e-6})
x3 = randn(2, 6, 7)
case("group_norm/3d_per_channel", "group_norm", [x3, g, b], F.group_norm(x3, 6, g, b, 1e-5),
     {"groups": 6, "epsilon": 1e-5})

x = randn(2, 4, 3, 5)
mean, var, g, b = randn(4), torch.rand(4) + 0.5, randn(4), randn(4)
case("batch_norm/affine", "batch_norm", [x, mean, var, g, b],
     F.batch_norm(x, mean, var, g, b, False, 0.0, 1e-5), {"epsilon": 1e-5}, const=[1, 2, 3, 4])
case("batch_norm/no_affine", "batch_norm", [x, mean, var],
     F.batch_norm(x, mean, var, None, None, False, 0.0, 1e-3), {"epsilon": 1e-3})
x3 = randn(3, 4, 6)
case("batch_norm/3d", "batch_norm", [x3, mean, var, g, b],
     F.batch_norm(x3, mean, var, g, b, False, 0.0, 1e-5), {"epsilon": 1e-5})

# ── softmax ─────────────────────────────────────────────────────────────────
x = randn(2, 3, 7, scale=4)
for axis in (0, 1, 2):
    case(f"softmax/axis{axis}", "softmax", [x], torch.softmax(x, axis), {"axis": axis})
    case(f"log_softmax/axis{axis}", "log_softmax", [x], torch.log_softmax(x, axis), {"axis": axis})
xm = x.clone()
xm[0, 0, :3] = -1e9  # masked positions as attention masks produce
case("softmax/masked_large_negative", "softmax", [xm], torch.softmax(xm, 2), {"axis": 2})
half_case("softmax/f16", "softmax", [x], lambda t: torch.softmax(t, 2), {"axis": 2})
half_case("log_softmax/f16", "log_softmax", [x], lambda t: torch.log_softmax(t, 1), {"axis": 1})

# ── Reductions ──────────────────────────────────────────────────────────────
x = randn(3, 4, 5, scale=2)
REDUCE = {"reduce_sum": lambda t, d, k: t.sum(dim=d, keepdim=k) if d else t.sum(),
          "reduce_mean": lambda t, d, k: t.mean(dim=d, keepdim=k) if d else t.mean(),
          "reduce_max": lambda t, d, k: t.amax(dim=d, keepdim=k) if d else t.max(),
          "reduce_min": lambda t, d, k: t.amin(dim=d, keepdim=k) if d else t.min(),
          "reduce_prod": None}


def prod(t, d, k):
    if not d:
        return t.prod()
    for a in sorted(d, reverse=True):
        t = t.prod(dim=a, keepdim=True)
    if not k:
        t = t.reshape([s for i, s in enumerate(t.shape) if i not in d])
    return t


REDUCE["reduce_prod"] = prod
for op, fn in REDUCE.items():
    xx = (x * 0.5 + 1.0) if op == "reduce_prod" else x
    for axes, keep in [([], 0), ([], 1), ([1], 0), ([1], 1), ([0, 2], 0), ([2], 1), ([0], 0)]:
        expected = fn(xx, tuple(axes), bool(keep))
        if not axes and keep:
            expected = expected.reshape(1, 1, 1)
        case(f"{op}/axes{''.join(map(str, axes)) or '_all'}_keep{keep}", op, [xx], expected,
             {"axes": axes, "keepdims": keep})
    half_case(f"{op}/f16", op, [xx], lambda t: fn(t, (2,), False), {"axes": [2], "keepdims": 0})
xi = randint(-9, 9, (3, 4, 5))
for op, fn in [("reduce_sum", REDUCE["reduce_sum"]), ("reduce_max", REDUCE["reduce_max"]),
               ("reduce_min", REDUCE["reduce_min"]), ("reduce_prod", prod)]:
    case(f"{op}/i64", op, [xi], fn(xi, (1,), False), {"axes": [1], "keepdims": 0})
    case(f"{op}/i32", op, [xi.int()], fn(xi, (0, 2), True).int(), {"axes": [0, 2], "keepdims": 1})
xb = torch.rand(3, 4) > 0.7
case("reduce_max/bool_is_any", "reduce_max", [xb], xb.any(dim=1), {"axes": [1], "keepdims": 0})
case("reduce_min/bool_is_all", "reduce_min", [xb], xb.all(dim=0), {"axes": [0], "keepdims": 0})
xm = randn(2, 3)
xm[1, 2] = float("-inf")
case("reduce_max/with_inf", "reduce_max", [xm], xm.amax(dim=1), {"axes": [1], "keepdims": 0})

xt = randint(-2, 3, (3, 4, 5)).float()  # ties: first index wins
for op, fn in [("argmax", torch.argmax), ("argmin", torch.argmin)]:
    for axis in (0, 1, 2):
        for keep in (0, 1):
            case(f"{op}/axis{axis}_keep{keep}", op, [xt], fn(xt, axis, bool(keep)), {"axis": axis, "keepdims": keep})
    case(f"{op}/i64", op, [xt.long()], fn(xt.long(), 2), {"axis": 2, "keepdims": 0})
    case(f"{op}/f16", op, [xt.half()], fn(xt, 1), {"axis": 1, "keepdims": 0})

x = randn(3, 4, scale=2)
for axis in (0, 1):
    for exclusive in (0, 1):
        for reverse in (0, 1):
            xx = x.flip(axis) if reverse else x
            y = torch.cumsum(xx, axis)
            if exclusive:
                y = y - xx
            if reverse:
                y = y.flip(axis)
            case(f"cumsum/axis{axis}_excl{exclusive}_rev{reverse}", "cumsum", [x], y,
                 {"axis": axis, "exclusive": exclusive, "reverse": reverse})
xi = randint(-5, 5, (2, 6))
case("cumsum/i64", "cumsum", [xi], torch.cumsum(xi, 1), {"axis": 1, "exclusive": 0, "reverse": 0})
case("cumsum/i32_exclusive", "cumsum", [xi.int()], (torch.cumsum(xi, 1) - xi).int(),
     {"axis": 1, "exclusive": 1, "reverse": 0})
half_case("cumsum/f16", "cumsum", [x], lambda t: torch.cumsum(t, 1), {"axis": 1, "exclusive": 0, "reverse": 0})

# ── Shape and data movement ─────────────────────────────────────────────────
x = randn(2, 3, 4)
case("reshape/f32", "reshape", [x], x.reshape(4, 6), {"shape": [4, 6]})
case("reshape/to_scalar", "reshape", [torch.tensor([5.0])], torch.tensor(5.0), {"shape": []})
xi = randint(-9, 9, (6,))
case("reshape/i64", "reshape", [xi], xi.reshape(2, 1, 3), {"shape": [2, 1, 3]})
case("reshape/f16", "reshape", [x.half()], x.half().reshape(24), {"shape": [24]})

x4 = randn(2, 3, 4, 5)
for perm in ([1, 0, 2, 3], [0, 2, 1, 3], [3, 1, 2, 0], [0, 1, 3, 2], [2, 3, 0, 1]):
    case(f"transpose/perm{''.join(map(str, perm))}", "transpose", [x4], x4.permute(perm), {"perm": perm})
case("transpose/i64", "transpose", [xi.reshape(2, 3)], xi.reshape(2, 3).t(), {"perm": [1, 0]})
case("transpose/bool", "transpose", [xb], xb.t(), {"perm": [1, 0]})
case("transpose/f16", "transpose", [x4.half()], x4.half().permute(0, 2, 3, 1), {"perm": [0, 2, 3, 1]})

x = randn(5, 6, 7)
case("slice/one_axis", "slice", [x], x[:, 1:4], {"axes": [1], "starts": [1], "ends": [4], "steps": [1]})
case("slice/steps", "slice", [x], x[1:5:2, :, 0:7:3], {"axes": [0, 2], "starts": [1, 0], "ends": [5, 7],
                                                       "steps": [2, 3]})
case("slice/default_steps", "slice", [x], x[:, :, 2:], {"axes": [2], "starts": [2], "ends": [7]})
case("slice/empty", "slice", [x], x[:, 3:3], {"axes": [1], "starts": [3], "ends": [3], "steps": [1]})
case("slice/i64", "slice", [xi], xi[1:6:2], {"axes": [0], "starts": [1], "ends": [6], "steps": [2]})
case("slice/f16", "slice", [x.half()], x.half()[:, ::2], {"axes": [1], "starts": [0], "ends": [6], "steps": [2]})

a, b, c = randn(2, 3), randn(2, 1), randn(2, 4)
case("concat/axis1_three", "concat", [a, b, c], torch.cat([a, b, c], 1), {"axis": 1})
d = randn(4, 3)
case("concat/axis0", "concat", [a, d], torch.cat([a, d], 0), {"axis": 0})
case("concat/single", "concat", [a], a.clone(), {"axis": 0})
ia, ib = randint(-9, 9, (2, 2, 3)), randint(-9, 9, (2, 1, 3))
case("concat/i64", "concat", [ia, ib], torch.cat([ia, ib], 1), {"axis": 1})
case("concat/f16", "concat", [a.half(), c.half()], torch.cat([a, c], 1).half(), {"axis": 1})
case("concat/bool", "concat", [xb, xb], torch.cat([xb, xb], 0), {"axis": 0})

x = randn(3, 1)
case("expand/rank_up", "expand", [x], x.expand(2, 3, 4), {"shape": [2, 3, 4]})
case("expand/scalar", "expand", [torch.tensor(1.5)], torch.full((2, 2), 1.5), {"shape": [2, 2]})
case("expand/i64", "expand", [xi[:3].reshape(1, 3)], xi[:3].reshape(1, 3).expand(4, 3), {"shape": [4, 3]})

x = randn(2, 3)
case("tile/2d", "tile", [x], x.repeat(2, 3), {"repeats": [2, 3]})
x3 = randn(2, 3, 2)
case("tile/3d_middle", "tile", [x3], x3.repeat(1, 2, 1), {"repeats": [1, 2, 1]})
case("tile/i64", "tile", [xi[:4]], xi[:4].repeat(3), {"repeats": [3]})

x3 = randn(2, 3, 4)
case("flip/axis0", "flip", [x3], x3.flip(0), {"axes": [0]})
case("flip/axes02", "flip", [x3], x3.flip(0, 2), {"axes": [0, 2]})
case("flip/last", "flip", [x3], x3.flip(2), {"axes": [2]})
case("flip/i64", "flip", [xi], xi.flip(0), {"axes": [0]})

# ── Indexing ────────────────────────────────────────────────────────────────
emb = randn(10, 4)
ids = torch.tensor([[1, 0, 9], [-1, 3, -10]])
case("gather/embedding_negative_indices", "gather", [emb, ids], emb[ids % 10], {"axis": 0}, const=[0])
x3 = randn(2, 5, 3)
idx = torch.tensor([4, 0, -2])
case("gather/axis1", "gather", [x3, idx], x3[:, idx % 5], {"axis": 1})
case("gather/i32_indices", "gather", [x3, idx.int()], x3[:, idx % 5], {"axis": 1})
case("gather/scalar_index", "gather", [x3, torch.tensor(2)], x3[:, 2], {"axis": 1})
case("gather/last_axis", "gather", [x3, torch.tensor([[2, 2], [0, 1]])], x3[:, :, torch.tensor([[2, 2], [0, 1]])],
     {"axis": 2})
case("gather/i64_data", "gather", [xi, torch.tensor([5, 0])], xi[torch.tensor([5, 0])], {"axis": 0})
case("gather/f16_data", "gather", [emb.half(), ids], emb.half()[ids % 10], {"axis": 0})

x = randn(3, 4)
gi = torch.tensor([[0, 1], [2, 0], [1, 1]])
case("gather_elements/axis1", "gather_elements", [x, gi], torch.gather(x, 1, gi), {"axis": 1})
gi0 = torch.tensor([[2, 0, 1, 1], [0, 0, 2, 1]])
case("gather_elements/axis0", "gather_elements", [x, gi0], torch.gather(x, 0, gi0), {"axis": 0})
gneg = torch.tensor([[-1, 0], [-4, 2], [1, -2]])
case("gather_elements/negative_indices", "gather_elements", [x, gneg], torch.gather(x, 1, gneg % 4), {"axis": 1})
case("gather_elements/i32_indices", "gather_elements", [x, gi.int()], torch.gather(x, 1, gi), {"axis": 1})

x = randn(3, 5)
si = torch.tensor([[4, 0], [1, 2], [0, 3]])
upd = randn(3, 2)
case("scatter_elements/axis1", "scatter_elements", [x, si, upd], torch.scatter(x, 1, si, upd), {"axis": 1})
si0 = torch.tensor([[2, 0, 1, 1, 0]])
upd0 = randn(2, 5)
case("scatter_elements/axis0_updates_larger", "scatter_elements", [x, si0, upd0],
     torch.scatter(x, 0, si0, upd0), {"axis": 0})
xsi = randint(-9, 9, (3, 5))
updi = randint(-9, 9, (3, 2))
case("scatter_elements/i64", "scatter_elements", [xsi, si, updi], torch.scatter(xsi, 1, si, updi), {"axis": 1})

# ── pad ─────────────────────────────────────────────────────────────────────
x = randn(1, 2, 4, 5)
for mode, tmode in [("constant", "constant"), ("reflect", "reflect"), ("replicate", "replicate")]:
    pads = [0, 0, 1, 2, 0, 0, 3, 1]
    attrs = {"pads": pads, "mode": mode}
    kw = {}
    if mode == "constant":
        attrs["value"] = 1.5
        kw["value"] = 1.5
    case(f"pad/{mode}_2d", "pad", [x], F.pad(x, torch_pads(pads), mode=tmode, **kw), attrs)
x3 = randn(2, 3, 6)
case("pad/reflect_1d", "pad", [x3], F.pad(x3, (3, 2), mode="reflect"), {"pads": [0, 0, 3, 0, 0, 2], "mode": "reflect"})
case("pad/replicate_1d", "pad", [x3], F.pad(x3, (0, 4), mode="replicate"),
     {"pads": [0, 0, 0, 0, 0, 4], "mode": "replicate"})
case("pad/constant_all_axes", "pad", [x3], F.pad(x3, (1, 1, 0, 2, 1, 0), value=-2.0),
     {"pads": [1, 0, 1, 0, 2, 1], "mode": "constant", "value": -2.0})
case("pad/constant_negative_crop", "pad", [x3], F.pad(x3, (-1, 2)),
     {"pads": [0, 0, -1, 0, 0, 2], "mode": "constant", "value": 0.0})
case("pad/constant_default_value", "pad", [x3], F.pad(x3, (1, 1)), {"pads": [0, 0, 1, 0, 0, 1]})
case("pad/i64", "pad", [xi.reshape(2, 3)], F.pad(xi.reshape(2, 3), (1, 2), value=7),
     {"pads": [0, 1, 0, 2], "mode": "constant", "value": 7.0})
case("pad/f16_reflect", "pad", [x.half()], F.pad(x, (2, 1, 1, 0), mode="reflect").half(),
     {"pads": [0, 0, 1, 2, 0, 0, 0, 1], "mode": "reflect"})

# ── resize ──────────────────────────────────────────────────────────────────
x = randn(2, 3, 5, 7)
for sizes in ([12, 9], [3, 4], [10, 14], [5, 7], [1, 1], [7, 3]):
    tag = "x".join(map(str, sizes))
    case(f"resize/nearest_{tag}", "resize", [x], F.interpolate(x, size=sizes, mode="nearest"),
         {"mode": "nearest", "sizes": sizes, "align_corners": 0})
    for ac in (0, 1):
        case(f"resize/linear_{tag}_ac{ac}", "resize", [x],
             F.interpolate(x, size=sizes, mode="bilinear", align_corners=bool(ac)),
             {"mode": "linear", "sizes": sizes, "align_corners": ac})
        case(f"resize/cubic_{tag}_ac{ac}", "resize", [x],
             F.interpolate(x, size=sizes, mode="bicubic", align_corners=bool(ac)),
             {"mode": "cubic", "sizes": sizes, "align_corners": ac}, atol=1e-4, rtol=1e-4)
x1 = randn(2, 3, 6)
for size in (13, 4, 12):
    case(f"resize/nearest_1d_{size}", "resize", [x1], F.interpolate(x1, size=size, mode="nearest"),
         {"mode": "nearest", "sizes": [size], "align_corners": 0})
    for ac in (0, 1):
        case(f"resize/linear_1d_{size}_ac{ac}", "resize", [x1],
             F.interpolate(x1, size=size, mode="linear", align_corners=bool(ac)),
             {"mode": "linear", "sizes": [size], "align_corners": ac})
half_case("resize/f16_linear", "resize", [x],
          lambda t: F.interpolate(t, size=[10, 14], mode="bilinear", align_corners=False),
          {"mode": "linear", "sizes": [10, 14], "align_corners": 0})

# ── Pooling ─────────────────────────────────────────────────────────────────
x = randn(2, 3, 9, 10)
POOL2 = [("k3s2p1", [3, 3], [2, 2], [1, 1], 0), ("k2s2", [2, 2], [2, 2], [0, 0], 0),
         ("k3s2_ceil", [3, 3], [2, 2], [0, 0], 1), ("k3s2p1_ceil", [3, 3], [2, 2], [1, 1], 1),
         ("k2x3_s1x2_p1x1", [2, 3], [1, 2], [1, 1], 0), ("k4s3p2_ceil", [4, 4], [3, 3], [2, 2], 1)]
for name, k, s, p, cm in POOL2:
    attrs = {"kernel": k, "strides": s, "pads": [p[0], p[1], p[0], p[1]], "ceil_mode": cm}
    case(f"max_pool/{name}", "max_pool", [x], F.max_pool2d(x, k, s, p, ceil_mode=bool(cm)), attrs)
    for cip in (0, 1):
        a = dict(attrs, count_include_pad=cip)
        case(f"avg_pool/{name}_cip{cip}", "avg_pool", [x],
             F.avg_pool2d(x, k, s, p, ceil_mode=bool(cm), count_include_pad=bool(cip)), a)
x1 = randn(2, 3, 11)
case("max_pool/1d", "max_pool", [x1], F.max_pool1d(x1, 3, 2, 1), {"kernel": [3], "strides": [2], "pads": [1, 1]})
case("avg_pool/1d_ceil_cip0", "avg_pool", [x1], F.avg_pool1d(x1, 4, 3, 2, ceil_mode=True, count_include_pad=False),
     {"kernel": [4], "strides": [3], "pads": [2, 2], "ceil_mode": 1, "count_include_pad": 0})
half_case("max_pool/f16", "max_pool", [x], lambda t: F.max_pool2d(t, 3, 2, 1),
          {"kernel": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]})
xi4 = randint(-50, 50, (1, 2, 5, 5))
case("max_pool/i64", "max_pool", [xi4], F.max_pool2d(xi4.float(), 2, 2).long(),
     {"kernel": [2, 2], "strides": [2, 2], "pads": [0, 0, 0, 0]})

x = randn(2, 3, 7, 9)
for sizes in ([3, 3], [1, 1], [7, 9], [4, 5], [2, 7]):
    tag = "x".join(map(str, sizes))
    case(f"adaptive_avg_pool/{tag}", "adaptive_avg_pool", [x], F.adaptive_avg_pool2d(x, sizes), {"sizes": sizes})
    case(f"adaptive_max_pool/{tag}", "adaptive_max_pool", [x], F.adaptive_max_pool2d(x, sizes), {"sizes": sizes})
for size in (2, 4, 11):
    case(f"adaptive_avg_pool/1d_{size}", "adaptive_avg_pool", [x1], F.adaptive_avg_pool1d(x1, size), {"sizes": [size]})
    case(f"adaptive_max_pool/1d_{size}", "adaptive_max_pool", [x1], F.adaptive_max_pool1d(x1, size),
         {"sizes": [size]})
half_case("adaptive_avg_pool/f16", "adaptive_avg_pool", [x], lambda t: F.adaptive_avg_pool2d(t, [3, 4]),
          {"sizes": [3, 4]})

# ── Constant ────────────────────────────────────────────────────────────────
c = randn(3, 2)
case("constant/f32", "constant", [], c, {"value_from": "out0"})
ci = randint(-9, 9, (4,))
case("constant/i64", "constant", [], ci, {"value_from": "out0"})

if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: make_expectations.py OUT.safetensors OUT.json")
    for c in CASES:
        for key in c["outputs"]:
            t = TENSORS[key]
            if t.is_floating_point() and not torch.isfinite(t).all():
                raise SystemExit(f"case {c['name']} has non-finite expectations")
    write_safetensors(sys.argv[1])
    with open(sys.argv[2], "w") as f:
        json.dump({"cases": CASES}, f, indent=1)
    print(f"{len(CASES)} cases, {len(TENSORS)} tensors")
