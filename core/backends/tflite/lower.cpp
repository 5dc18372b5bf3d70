// IR -> TFLite: one row per canonical IR op (see ops.hpp) mapping it to an
// emitter. Convolutions, pools and resizes run NHWC between transposes that
// optimize_transposes() later cancels; ops TFLite lacks are decomposed.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "lowering.hpp"

namespace exporters::tflite {

namespace {

using Op = fb::BuiltinOperator;
using Emitter = void (*)(Lowering&, const ir::Node&);

int32_t in(Lowering& L, const ir::Node& n, size_t i) {
  return i < n.inputs.size() ? L.value(n.inputs[i]) : -1;
}
void out(Lowering& L, const ir::Node& n, int32_t t, size_t k = 0) { L.bind(n.outputs.at(k), t); }
const ir::TensorType& out_type(const ir::Node& n, size_t k = 0) { return n.outputs.at(k)->type; }

ir::Attrs act_none() { return {}; }

// A constant's data, reshaped or permuted, or the equivalent ops on a variable.
int32_t permuted(Lowering& L, int32_t w, const std::vector<int64_t>& perm) {
  if (L.t(w).is_const()) {
    ir::Tensor d = *L.t(w).data;
    return L.constant(permute_tensor(d, perm), "weights");
  }
  return L.transpose(w, perm);
}
int32_t reshaped(Lowering& L, int32_t w, const Dims& shape) {
  if (L.t(w).is_const()) {
    ir::Tensor d = *L.t(w).data;
    return L.constant(d.reshaped(shape), "weights");
  }
  return L.reshape(w, shape);
}

Dims with_ones(int64_t c, int64_t trailing) {
  Dims d{c};
  for (int64_t i = 0; i < trailing; ++i) d.push_back(1);
  return d;
}

// ── elementwise ──────────────────────────────────────────────────────────
template <int32_t Code>
void binary(Lowering& L, const ir::Node& n) {
  out(L, n, L.binary(Code, in(L, n, 0), in(L, n, 1)));
}
template <int32_t Code>
void comparison(Lowering& L, const ir::Node& n) {
  out(L, n, L.compare(Code, in(L, n, 0), in(L, n, 1)));
}
template <int32_t Code>
void unary(Lowering& L, const ir::Node& n) {
  out(L, n, L.unary(Code, in(L, n, 0)));
}
// Integer inputs of floor/ceil/round are already integral.
template <int32_t Code>
void rounding(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  out(L, n, (L.type(x) == TflType::F32 || L.type(x) == TflType::F16) ? L.unary(Code, x) : x);
}

void identity(Lowering& L, const ir::Node& n) { out(L, n, in(L, n, 0)); }

void constant(Lowering& L, const ir::Node& n) { out(L, n, L.constant(n.constant(), "const")); }

void reciprocal(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  out(L, n, L.binary(Op::BuiltinOperator_DIV, L.const_scalar(L.type(x), 1.0), x));
}

void silu(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  out(L, n, L.binary(Op::BuiltinOperator_MUL, x, L.unary(Op::BuiltinOperator_LOGISTIC, x)));
}

void hardsigmoid(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  auto ty = L.type(x);
  int32_t r6 = L.unary(Op::BuiltinOperator_RELU6, L.binary(Op::BuiltinOperator_ADD, x, L.const_scalar(ty, 3.0)));
  out(L, n, L.binary(Op::BuiltinOperator_MUL, r6, L.const_scalar(ty, 1.0 / 6.0)));
}

// erf has no builtin: Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7).
void erf(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  auto ty = L.type(x);
  auto c = [&](double v) { return L.const_scalar(ty, v); };
  const int32_t ADD = Op::BuiltinOperator_ADD, MUL = Op::BuiltinOperator_MUL;
  int32_t ax = L.unary(Op::BuiltinOperator_ABS, x);
  int32_t t = L.binary(Op::BuiltinOperator_DIV, c(1.0), L.binary(ADD, L.binary(MUL, ax, c(0.3275911)), c(1.0)));
  int32_t poly = L.binary(ADD, L.binary(MUL, t, c(1.061405429)), c(-1.453152027));
  poly = L.binary(ADD, L.binary(MUL, poly, t), c(1.421413741));
  poly = L.binary(ADD, L.binary(MUL, poly, t), c(-0.284496736));
  poly = L.binary(ADD, L.binary(MUL, poly, t), c(0.254829592));
  poly = L.binary(MUL, poly, t);
  int32_t e = L.unary(Op::BuiltinOperator_EXP, L.unary(Op::BuiltinOperator_NEG, L.binary(MUL, x, x)));
  int32_t y = L.binary(Op::BuiltinOperator_SUB, c(1.0), L.binary(MUL, poly, e));
  out(L, n, L.binary(MUL, L.unary(Op::BuiltinOperator_SIGN, x), y));
}

void gelu(Lowering& L, const ir::Node& n) {
  ir::Attrs o;
  o.set("approximate", int64_t(n.attrs.s("approximate", "none") == "tanh"));
  out(L, n, L.unary(Op::BuiltinOperator_GELU, in(L, n, 0), o));
}

void softplus(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  auto ty = L.type(x);
  double beta = n.attrs.f("beta", 1.0), thr = n.attrs.f("threshold", 20.0);
  int32_t bx = beta == 1.0 ? x : L.binary(Op::BuiltinOperator_MUL, x, L.const_scalar(ty, beta));
  int32_t sp = L.unary(Op::BuiltinOperator_LOG,
                       L.binary(Op::BuiltinOperator_ADD, L.unary(Op::BuiltinOperator_EXP, bx), L.const_scalar(ty, 1.0)));
  if (beta != 1.0) sp = L.binary(Op::BuiltinOperator_DIV, sp, L.const_scalar(ty, beta));
  int32_t big = L.compare(Op::BuiltinOperator_GREATER, bx, L.const_scalar(ty, thr));
  out(L, n, L.emit(Op::BuiltinOperator_SELECT_V2, {big, x, sp}, ty, L.shape(x)));
}

void clamp(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  auto ty = L.type(x);
  bool has_min = n.attrs.has("min"), has_max = n.attrs.has("max");
  double lo = has_min ? n.attrs.f("min") : 0, hi = has_max ? n.attrs.f("max") : 0;
  bool is_float = ty == TflType::F32 || ty == TflType::F16;
  if (is_float && has_min && lo == 0 && !has_max) return out(L, n, L.unary(Op::BuiltinOperator_RELU, x));
  if (is_float && has_min && has_max && lo == 0 && hi == 6) return out(L, n, L.unary(Op::BuiltinOperator_RELU6, x));
  if (is_float && has_min && has_max && lo == -1 && hi == 1)
    return out(L, n, L.unary(Op::BuiltinOperator_RELU_N1_TO_1, x));
  int32_t y = x;
  if (has_min) y = L.binary(Op::BuiltinOperator_MAXIMUM, y, L.const_scalar(ty, lo));
  if (has_max) y = L.binary(Op::BuiltinOperator_MINIMUM, y, L.const_scalar(ty, hi));
  out(L, n, y);
}

void leaky_relu(Lowering& L, const ir::Node& n) {
  ir::Attrs o;
  o.set("alpha", n.attrs.f("alpha", 0.01));
  out(L, n, L.unary(Op::BuiltinOperator_LEAKY_RELU, in(L, n, 0), o));
}

void elu(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  double alpha = n.attrs.f("alpha", 1.0);
  if (alpha == 1.0) return out(L, n, L.unary(Op::BuiltinOperator_ELU, x));
  auto ty = L.type(x);
  int32_t neg = L.binary(Op::BuiltinOperator_MUL,
                         L.binary(Op::BuiltinOperator_SUB, L.unary(Op::BuiltinOperator_EXP, x), L.const_scalar(ty, 1.0)),
                         L.const_scalar(ty, alpha));
  int32_t pos = L.compare(Op::BuiltinOperator_GREATER, x, L.const_scalar(ty, 0.0));
  out(L, n, L.emit(Op::BuiltinOperator_SELECT_V2, {pos, x, neg}, ty, L.shape(x)));
}

void logical_xor(Lowering& L, const ir::Node& n) {
  out(L, n, L.compare(Op::BuiltinOperator_NOT_EQUAL, in(L, n, 0), in(L, n, 1)));
}

void cast(Lowering& L, const ir::Node& n) {
  out(L, n, L.cast(in(L, n, 0), internal_type(out_type(n).dtype)));
}

void where(Lowering& L, const ir::Node& n) {
  int32_t c = in(L, n, 0), a = in(L, n, 1), b = in(L, n, 2);
  out(L, n, L.emit(Op::BuiltinOperator_SELECT_V2, {c, a, b}, L.type(a), out_type(n).shape));
}

// ── linear algebra ───────────────────────────────────────────────────────
void matmul(Lowering& L, const ir::Node& n) {
  int32_t a = in(L, n, 0), b = in(L, n, 1);
  out(L, n, L.emit(Op::BuiltinOperator_BATCH_MATMUL, {a, b}, L.type(a), out_type(n).shape, {}));
}

void linear(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0), w = in(L, n, 1), b = in(L, n, 2);
  Dims oshape = out_type(n).shape;
  int32_t x2 = L.rank(x) == 1 ? L.reshape(x, {1, L.shape(x)[0]}) : x;
  Dims fc_shape = L.rank(x) == 1 ? Dims{1, oshape[0]} : oshape;
  ir::Attrs o;
  o.set("keep_num_dims", int64_t(1));
  int32_t y = L.emit(Op::BuiltinOperator_FULLY_CONNECTED, {x2, w, b}, L.type(x), fc_shape, o);
  out(L, n, L.reshape(y, oshape));
}

// SAME padding of TFLite (kernels/padding.h) for one spatial axis.
struct AxisPad {
  int64_t before, after, out;
};
AxisPad same_pad(int64_t in, int64_t k, int64_t s, int64_t d) {
  int64_t eff = (k - 1) * d + 1;
  int64_t o = (in + s - 1) / s;
  int64_t total = std::max<int64_t>((o - 1) * s + eff - in, 0);
  return {total / 2, total - total / 2, o};
}

// Chooses SAME/VALID for pads [t, l, b, r] and returns explicit pads that
// must be applied first (all zero when SAME/VALID cover them).
struct PaddingChoice {
  int64_t padding;  // fb::Padding
  std::array<int64_t, 4> explicit_pads{0, 0, 0, 0};
  bool needs_explicit = false;
};
PaddingChoice choose_padding(const Dims& in_hw, const Dims& k, const Dims& s, const Dims& d,
                             const std::array<int64_t, 4>& pads, const Dims& out_hw) {
  PaddingChoice c;
  bool zero = std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; });
  auto ph = same_pad(in_hw[0], k[0], s[0], d[0]), pw = same_pad(in_hw[1], k[1], s[1], d[1]);
  if (!zero && ph.before == pads[0] && pw.before == pads[1] && ph.after == pads[2] && pw.after == pads[3] &&
      ph.out == out_hw[0] && pw.out == out_hw[1]) {
    c.padding = fb::Padding_SAME;
    return c;
  }
  c.padding = fb::Padding_VALID;
  if (!zero) {
    c.explicit_pads = pads;
    c.needs_explicit = true;
  }
  return c;
}

int32_t pad_nhwc(Lowering& L, int32_t x, const std::array<int64_t, 4>& p, std::optional<double> value) {
  Dims s = L.shape(x);
  Dims o{s[0], s[1] + p[0] + p[2], s[2] + p[1] + p[3], s[3]};
  ir::Tensor pads = ir::Tensor::zeros(ir::DType::I32, {4, 2});
  auto* pd = pads.mutable_as<int32_t>();
  pd[2] = static_cast<int32_t>(p[0]);
  pd[3] = static_cast<int32_t>(p[2]);
  pd[4] = static_cast<int32_t>(p[1]);
  pd[5] = static_cast<int32_t>(p[3]);
  int32_t pt = L.constant(pads, "paddings");
  if (!value || *value == 0) return L.emit(Op::BuiltinOperator_PAD, {x, pt}, L.type(x), o);
  return L.emit(Op::BuiltinOperator_PADV2, {x, pt, L.const_scalar(L.type(x), *value)}, L.type(x), o);
}

const std::vector<int64_t> kToNhwc{0, 2, 3, 1}, kToNchw{0, 3, 1, 2};

// 1-D spatial ops run as 2-D with H = 1.
struct Spatial2d {
  Dims k, s, d;
  std::array<int64_t, 4> pads;  // t l b r
};
Spatial2d spatial_attrs(const ir::Node& n, size_t sp, const Dims& kernel) {
  auto get = [&](const char* key, size_t cnt, int64_t fill) { return n.attrs.ints(key, Dims(cnt, fill)); };
  Dims s = get("strides", sp, 1), d = get("dilations", sp, 1), p = get("pads", 2 * sp, 0);
  Spatial2d r;
  if (sp == 1) {
    r.k = {1, kernel[0]};
    r.s = {1, s[0]};
    r.d = {1, d[0]};
    r.pads = {0, p[0], 0, p[1]};
  } else {
    r.k = kernel;
    r.s = s;
    r.d = d;
    r.pads = {p[0], p[1], p[2], p[3]};
  }
  return r;
}

void conv(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0), w = in(L, n, 1), bias = in(L, n, 2);
  const Dims xs = L.shape(x);
  const size_t sp = xs.size() - 2;
  const int64_t groups = n.attrs.i("groups", 1);
  Dims ws = L.shape(w);
  const int64_t O = ws[0], C = xs[1];
  Dims kernel(ws.begin() + 2, ws.end());
  Spatial2d a = spatial_attrs(n, sp, kernel);
  Dims oshape = out_type(n).shape;
  if (sp == 1) {
    x = L.reshape(x, {xs[0], xs[1], 1, xs[2]});
    w = reshaped(L, w, {ws[0], ws[1], 1, ws[2]});
  }
  Dims in_hw{L.shape(x)[2], L.shape(x)[3]};
  Dims out_hw = sp == 1 ? Dims{1, oshape[2]} : Dims{oshape[2], oshape[3]};
  auto pc = choose_padding(in_hw, a.k, a.s, a.d, a.pads, out_hw);
  int32_t xn = L.transpose(x, kToNhwc);
  if (pc.needs_explicit) xn = pad_nhwc(L, xn, pc.explicit_pads, std::nullopt);
  auto ty = L.type(x);
  if (bias < 0) bias = L.constant(ir::Tensor::zeros(*ir_dtype_of(ty), {O}), "bias");
  ir::Attrs o;
  o.set("padding", pc.padding);
  o.set("stride_h", a.s[0]);
  o.set("stride_w", a.s[1]);
  o.set("dilation_h_factor", a.d[0]);
  o.set("dilation_w_factor", a.d[1]);
  Dims yshape{oshape[0], out_hw[0], out_hw[1], O};
  int32_t y;
  if (groups == 1) {
    y = L.emit(Op::BuiltinOperator_CONV_2D, {xn, permuted(L, w, {0, 2, 3, 1}), bias}, ty, yshape, o);
  } else if (groups == C) {
    o.set("depth_multiplier", O / C);
    y = L.emit(Op::BuiltinOperator_DEPTHWISE_CONV_2D, {xn, permuted(L, w, {1, 2, 3, 0}), bias}, ty, yshape, o);
  } else {
    // Grouped convolution: one CONV_2D per group on a channel slice.
    if (!L.t(w).is_const() || !L.t(bias).is_const()) L.fail("grouped convolution needs constant weights and bias");
    const int64_t cg = C / groups, og = O / groups;
    ir::Tensor wn = permute_tensor(*L.t(w).data, {0, 2, 3, 1});  // [O, KH, KW, cg]
    ir::Tensor bd = *L.t(bias).data;
    const size_t eb = ir::dtype_size(wn.dtype());
    const size_t wbytes = wn.nbytes() / static_cast<size_t>(groups);
    std::vector<int32_t> parts;
    Dims xsn = L.shape(xn);
    for (int64_t g = 0; g < groups; ++g) {
      int32_t xg = L.emit(Op::BuiltinOperator_SLICE,
                          {xn, L.const_i32({0, 0, 0, g * cg}), L.const_i32({xsn[0], xsn[1], xsn[2], cg})}, ty,
                          {xsn[0], xsn[1], xsn[2], cg});
      ir::Tensor wg = ir::Tensor::copy_of(wn.dtype(), {og, wn.shape()[1], wn.shape()[2], cg},
                                          static_cast<const uint8_t*>(wn.data()) + g * wbytes);
      ir::Tensor bg = ir::Tensor::copy_of(bd.dtype(), {og}, static_cast<const uint8_t*>(bd.data()) + g * og * eb);
      parts.push_back(L.emit(Op::BuiltinOperator_CONV_2D, {xg, L.constant(wg, "weights"), L.constant(bg, "bias")}, ty,
                             {yshape[0], yshape[1], yshape[2], og}, o));
    }
    ir::Attrs co;
    co.set("axis", int64_t(3));
    y = L.emit(Op::BuiltinOperator_CONCATENATION, parts, ty, yshape, co);
  }
  int32_t yc = L.transpose(y, kToNchw);
  out(L, n, L.reshape(yc, oshape));
}

void conv_transpose(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0), w = in(L, n, 1), bias = in(L, n, 2);
  const Dims xs = L.shape(x);
  const size_t sp = xs.size() - 2;
  if (n.attrs.i("groups", 1) != 1) L.fail("TRANSPOSE_CONV has no groups; grouped conv_transpose is not supported");
  Dims ws = L.shape(w);  // [C, O, *k]
  Dims kernel(ws.begin() + 2, ws.end());
  Spatial2d a = spatial_attrs(n, sp, kernel);
  if (a.d[0] != 1 || a.d[1] != 1) L.fail("TRANSPOSE_CONV has no dilation");
  Dims opad = n.attrs.ints("output_padding", Dims(sp, 0));
  Dims op2 = sp == 1 ? Dims{0, opad[0]} : opad;
  Dims oshape = out_type(n).shape;
  if (sp == 1) {
    x = L.reshape(x, {xs[0], xs[1], 1, xs[2]});
    w = reshaped(L, w, {ws[0], ws[1], 1, ws[2]});
  }
  const int64_t O = L.shape(w)[1];
  Dims xs4 = L.shape(x);
  // VALID transpose conv gives the full (in-1)*s + k extent; pads crop it.
  Dims full{(xs4[2] - 1) * a.s[0] + a.k[0], (xs4[3] - 1) * a.s[1] + a.k[1]};
  Dims keep_end;
  for (int i = 0; i < 2; ++i) {
    int64_t end_crop = a.pads[2 + i] - op2[i];
    if (end_crop < 0) L.fail("output_padding larger than the end padding is not supported");
    keep_end.push_back(full[i] - end_crop);
  }
  auto ty = L.type(x);
  int32_t xn = L.transpose(x, kToNhwc);
  int32_t wt = permuted(L, w, {1, 2, 3, 0});  // [C, O, KH, KW] -> [O, KH, KW, C]
  ir::Attrs o;
  o.set("padding", int64_t(fb::Padding_VALID));
  o.set("stride_h", a.s[0]);
  o.set("stride_w", a.s[1]);
  Dims yfull{xs4[0], full[0], full[1], O};
  int32_t y = L.emit(Op::BuiltinOperator_TRANSPOSE_CONV, {L.const_i32(yfull), wt, xn}, ty, yfull, o);
  Dims begin{0, a.pads[0], a.pads[1], 0};
  Dims size{xs4[0], keep_end[0] - a.pads[0], keep_end[1] - a.pads[1], O};
  if (size != yfull) y = L.emit(Op::BuiltinOperator_SLICE, {y, L.const_i32(begin), L.const_i32(size)}, ty, size);
  if (bias >= 0) y = L.binary(Op::BuiltinOperator_ADD, y, bias);
  int32_t yc = L.transpose(y, kToNchw);
  out(L, n, L.reshape(yc, oshape));
}

// ── normalisation ────────────────────────────────────────────────────────
// (x - mean) * rsqrt(var + eps) over `axes` (kept), as TFLite ops.
int32_t normalize(Lowering& L, int32_t x, const std::vector<int64_t>& axes, double eps) {
  int32_t mean = L.reduce(Op::BuiltinOperator_MEAN, x, axes, true);
  int32_t d = L.binary(Op::BuiltinOperator_SUB, x, mean);
  int32_t var = L.reduce(Op::BuiltinOperator_MEAN, L.binary(Op::BuiltinOperator_MUL, d, d), axes, true);
  int32_t r = L.unary(Op::BuiltinOperator_RSQRT, L.binary(Op::BuiltinOperator_ADD, var, L.const_scalar(L.type(x), eps)));
  return L.binary(Op::BuiltinOperator_MUL, d, r);
}

void layer_norm(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0), g = in(L, n, 1), b = in(L, n, 2);
  int32_t y = normalize(L, x, n.attrs.ints("axes"), n.attrs.f("epsilon"));
  if (g >= 0) y = L.binary(Op::BuiltinOperator_MUL, y, g);
  if (b >= 0) y = L.binary(Op::BuiltinOperator_ADD, y, b);
  out(L, n, y);
}

void group_norm(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0), g = in(L, n, 1), b = in(L, n, 2);
  Dims xs = L.shape(x);
  int64_t G = n.attrs.i("groups");
  int64_t rest = ir::shape_numel(xs) / (xs[0] * G);
  int32_t y = normalize(L, L.reshape(x, {xs[0], G, rest}), {2}, n.attrs.f("epsilon"));
  y = L.reshape(y, xs);
  const int64_t trailing = static_cast<int64_t>(xs.size()) - 2;
  if (g >= 0) y = L.binary(Op::BuiltinOperator_MUL, y, reshaped(L, g, with_ones(xs[1], trailing)));
  if (b >= 0) y = L.binary(Op::BuiltinOperator_ADD, y, reshaped(L, b, with_ones(xs[1], trailing)));
  out(L, n, y);
}

void batch_norm(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0), mean = in(L, n, 1), var = in(L, n, 2), g = in(L, n, 3), b = in(L, n, 4);
  Dims xs = L.shape(x);
  const int64_t C = xs[1], trailing = static_cast<int64_t>(xs.size()) - 2;
  double eps = n.attrs.f("epsilon");
  bool all_const = true;
  for (int32_t t : {mean, var, g, b})
    if (t >= 0 && !L.t(t).is_const()) all_const = false;
  if (all_const && L.type(x) == TflType::F32) {
    // Fold into one scale and one shift per channel.
    std::vector<float> scale(C), shift(C);
    for (int64_t c = 0; c < C; ++c) {
      double gv = g >= 0 ? L.t(g).data->element_as_double(c) : 1.0;
      double bv = b >= 0 ? L.t(b).data->element_as_double(c) : 0.0;
      double s = gv / std::sqrt(L.t(var).data->element_as_double(c) + eps);
      scale[c] = static_cast<float>(s);
      shift[c] = static_cast<float>(bv - L.t(mean).data->element_as_double(c) * s);
    }
    int32_t y = L.binary(Op::BuiltinOperator_MUL, x, L.constant(ir::Tensor::from_f32(with_ones(C, trailing), scale)));
    return out(L, n, L.binary(Op::BuiltinOperator_ADD, y, L.constant(ir::Tensor::from_f32(with_ones(C, trailing), shift))));
  }
  auto r = [&](int32_t t) { return reshaped(L, t, with_ones(C, trailing)); };
  int32_t inv = L.unary(Op::BuiltinOperator_RSQRT, L.binary(Op::BuiltinOperator_ADD, r(var), L.const_scalar(L.type(x), eps)));
  int32_t y = L.binary(Op::BuiltinOperator_MUL, L.binary(Op::BuiltinOperator_SUB, x, r(mean)), inv);
  if (g >= 0) y = L.binary(Op::BuiltinOperator_MUL, y, r(g));
  if (b >= 0) y = L.binary(Op::BuiltinOperator_ADD, y, r(b));
  out(L, n, y);
}

// ── softmax, reductions ──────────────────────────────────────────────────
template <int32_t Code>
void softmax(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  int64_t axis = n.attrs.i("axis"), last = L.rank(x) - 1;
  ir::Attrs o;
  if (Code == Op::BuiltinOperator_SOFTMAX) o.set("beta", 1.0);
  if (axis == last || L.rank(x) == 0) return out(L, n, L.unary(Code, x, o));
  std::vector<int64_t> perm(L.rank(x));
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[axis], perm[last]);
  out(L, n, L.transpose(L.unary(Code, L.transpose(x, perm), o), perm));
}

template <int32_t Code>
void reduction(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  auto axes = n.attrs.ints("axes", {});
  if (axes.empty())
    for (int64_t i = 0; i < L.rank(x); ++i) axes.push_back(i);
  if (axes.empty()) return out(L, n, x);
  out(L, n, L.reduce(Code, x, axes, n.attrs.i("keepdims", 0) != 0));
}

template <int32_t Code>
void argreduce(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  int64_t axis = n.attrs.i("axis");
  Dims s = L.shape(x);
  s.erase(s.begin() + axis);
  ir::Attrs o;
  o.set("output_type", int64_t(TflType::I32));
  int32_t y = L.emit(Code, {x, L.const_i32({axis})}, TflType::I32, s, o);
  out(L, n, L.reshape(y, out_type(n).shape));
}

void cumsum(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  ir::Attrs o;
  o.set("exclusive", n.attrs.i("exclusive", 0));
  o.set("reverse", n.attrs.i("reverse", 0));
  out(L, n, L.emit(Op::BuiltinOperator_CUMSUM, {x, L.const_i32({n.attrs.i("axis")}, true)}, L.type(x), L.shape(x), o));
}

// ── shape and data movement ──────────────────────────────────────────────
void reshape(Lowering& L, const ir::Node& n) { out(L, n, L.reshape(in(L, n, 0), out_type(n).shape)); }
void transpose(Lowering& L, const ir::Node& n) { out(L, n, L.transpose(in(L, n, 0), n.attrs.ints("perm"))); }

void slice(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  Dims s = L.shape(x);
  Dims begin(s.size(), 0), end = s, step(s.size(), 1);
  const auto& axes = n.attrs.ints("axes");
  auto starts = n.attrs.ints("starts"), ends = n.attrs.ints("ends");
  auto steps = n.attrs.ints("steps", Dims(axes.size(), 1));
  for (size_t i = 0; i < axes.size(); ++i) {
    begin[axes[i]] = starts[i];
    end[axes[i]] = ends[i];
    step[axes[i]] = steps[i];
  }
  Dims oshape = out_type(n).shape;
  if (oshape == s) return out(L, n, x);
  if (std::all_of(step.begin(), step.end(), [](int64_t v) { return v == 1; })) {
    Dims size(s.size());
    for (size_t i = 0; i < s.size(); ++i) size[i] = end[i] - begin[i];
    return out(L, n, L.emit(Op::BuiltinOperator_SLICE, {x, L.const_i32(begin), L.const_i32(size)}, L.type(x), oshape));
  }
  ir::Attrs o;
  out(L, n, L.emit(Op::BuiltinOperator_STRIDED_SLICE, {x, L.const_i32(begin), L.const_i32(end), L.const_i32(step)},
                   L.type(x), oshape, o));
}

void concat(Lowering& L, const ir::Node& n) {
  std::vector<int32_t> xs;
  for (size_t i = 0; i < n.inputs.size(); ++i) xs.push_back(in(L, n, i));
  if (xs.size() == 1) return out(L, n, xs[0]);
  ir::Attrs o;
  o.set("axis", n.attrs.i("axis"));
  out(L, n, L.emit(Op::BuiltinOperator_CONCATENATION, xs, L.type(xs[0]), out_type(n).shape, o));
}

void expand(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  Dims s = out_type(n).shape;
  if (s == L.shape(x)) return out(L, n, x);
  // The runtime registers BROADCAST_TO from version 2 (version 1 was never shipped).
  out(L, n, L.emit(Op::BuiltinOperator_BROADCAST_TO, {x, L.const_i32(s)}, L.type(x), s, {}, 2));
}

void tile(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  out(L, n, L.emit(Op::BuiltinOperator_TILE, {x, L.const_i32(n.attrs.ints("repeats"))}, L.type(x), out_type(n).shape));
}

int32_t gather_const(Lowering& L, int32_t x, int64_t axis, const std::vector<int64_t>& idx) {
  Dims s = L.shape(x);
  s[axis] = static_cast<int64_t>(idx.size());
  ir::Attrs o;
  o.set("axis", axis);
  return L.emit(Op::BuiltinOperator_GATHER, {x, L.const_i32(idx)}, L.type(x), s, o);
}

void flip(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  for (int64_t axis : n.attrs.ints("axes")) {
    std::vector<int64_t> idx(L.shape(x)[axis]);
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(idx.size() - 1 - i);
    x = gather_const(L, x, axis, idx);
  }
  out(L, n, x);
}

// Negative indices count from the end in the IR; TFLite GATHER rejects them.
int32_t wrap_indices(Lowering& L, int32_t idx, int64_t dim) {
  if (L.t(idx).is_const()) {
    const ir::Tensor& d = *L.t(idx).data;
    ir::Tensor w = ir::Tensor::zeros(ir::DType::I32, d.shape());
    for (int64_t i = 0; i < d.numel(); ++i) {
      int64_t v = d.element_as_int(i);
      w.mutable_as<int32_t>()[i] = static_cast<int32_t>(v < 0 ? v + dim : v);
    }
    return L.constant(w, "indices");
  }
  int32_t neg = L.compare(Op::BuiltinOperator_LESS, idx, L.const_scalar(L.type(idx), 0));
  int32_t wrapped = L.binary(Op::BuiltinOperator_ADD, idx, L.const_scalar(L.type(idx), static_cast<double>(dim)));
  return L.emit(Op::BuiltinOperator_SELECT_V2, {neg, wrapped, idx}, L.type(idx), L.shape(idx));
}

void gather(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0), idx = in(L, n, 1);
  int64_t axis = n.attrs.i("axis");
  idx = wrap_indices(L, idx, L.shape(x)[axis]);
  ir::Attrs o;
  o.set("axis", axis);
  out(L, n, L.emit(Op::BuiltinOperator_GATHER, {x, idx}, L.type(x), out_type(n).shape, o));
}

// torch.gather: GATHER_ND over full coordinates (iota on every other axis).
void gather_elements(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0), idx = in(L, n, 1);
  int64_t axis = n.attrs.i("axis");
  idx = wrap_indices(L, idx, L.shape(x)[axis]);
  Dims is = L.shape(idx);
  const int64_t r = static_cast<int64_t>(is.size()), numel = ir::shape_numel(is);
  Dims col = is;
  col.push_back(1);
  std::vector<int32_t> cols;
  for (int64_t d = 0; d < r; ++d) {
    if (d == axis) {
      cols.push_back(L.reshape(idx, col));
      continue;
    }
    ir::Tensor iota = ir::Tensor::zeros(ir::DType::I32, col);
    int64_t inner = 1;
    for (int64_t k = d + 1; k < r; ++k) inner *= is[k];
    for (int64_t i = 0; i < numel; ++i) iota.mutable_as<int32_t>()[i] = static_cast<int32_t>((i / inner) % is[d]);
    cols.push_back(L.constant(iota, "coords"));
  }
  Dims cs = is;
  cs.push_back(r);
  ir::Attrs o;
  o.set("axis", r);
  int32_t coords = L.emit(Op::BuiltinOperator_CONCATENATION, cols, TflType::I32, cs, o);
  out(L, n, L.emit(Op::BuiltinOperator_GATHER_ND, {x, coords}, L.type(x), is));
}

void pad(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  const auto& pads = n.attrs.ints("pads");
  const int64_t r = L.rank(x);
  std::string mode = n.attrs.s("mode", "constant");
  for (int64_t p : pads)
    if (p < 0) L.fail("negative pads are not supported");
  Dims oshape = out_type(n).shape;
  if (mode == "replicate") {
    // Edge replication: GATHER with clamped indices on each padded axis.
    for (int64_t a = 0; a < r; ++a) {
      if (pads[a] == 0 && pads[r + a] == 0) continue;
      int64_t dim = L.shape(x)[a];
      std::vector<int64_t> idx;
      for (int64_t i = -pads[a]; i < dim + pads[r + a]; ++i) idx.push_back(std::clamp<int64_t>(i, 0, dim - 1));
      x = gather_const(L, x, a, idx);
    }
    return out(L, n, x);
  }
  ir::Tensor pt = ir::Tensor::zeros(ir::DType::I32, {r, 2});
  for (int64_t a = 0; a < r; ++a) {
    pt.mutable_as<int32_t>()[2 * a] = static_cast<int32_t>(pads[a]);
    pt.mutable_as<int32_t>()[2 * a + 1] = static_cast<int32_t>(pads[r + a]);
  }
  int32_t p = L.constant(pt, "paddings");
  if (mode == "reflect") {
    ir::Attrs o;
    o.set("mode", int64_t(fb::MirrorPadMode_REFLECT));
    return out(L, n, L.emit(Op::BuiltinOperator_MIRROR_PAD, {x, p}, L.type(x), oshape, o));
  }
  double value = n.attrs.f("value", 0.0);
  if (value == 0) return out(L, n, L.emit(Op::BuiltinOperator_PAD, {x, p}, L.type(x), oshape));
  out(L, n, L.emit(Op::BuiltinOperator_PADV2, {x, p, L.const_scalar(L.type(x), value)}, L.type(x), oshape));
}

void resize(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  Dims xs = L.shape(x);
  std::string mode = n.attrs.s("mode");
  auto sizes = n.attrs.ints("sizes");
  if (mode == "cubic") L.fail("bicubic resize has no TFLite builtin");
  if (xs.size() == 3) {
    x = L.reshape(x, {xs[0], xs[1], 1, xs[2]});
    sizes = {1, sizes[0]};
  } else if (xs.size() != 4) {
    L.fail("only 1-D and 2-D resize are supported");
  }
  int32_t xn = L.transpose(x, kToNhwc);
  Dims ys{xs[0], sizes[0], sizes[1], xs[1]};
  ir::Attrs o;
  int32_t code;
  if (mode == "linear") {
    code = Op::BuiltinOperator_RESIZE_BILINEAR;
    bool ac = n.attrs.i("align_corners", 0) != 0;
    o.set("align_corners", int64_t(ac));
    o.set("half_pixel_centers", int64_t(!ac));
  } else {
    // PyTorch 'nearest' = floor(dst * in / out) = TFLite with both flags off.
    code = Op::BuiltinOperator_RESIZE_NEAREST_NEIGHBOR;
    o.set("align_corners", int64_t(0));
    o.set("half_pixel_centers", int64_t(0));
  }
  int32_t y = L.emit(code, {xn, L.const_i32({sizes[0], sizes[1]})}, L.type(x), ys, o);
  out(L, n, L.reshape(L.transpose(y, kToNchw), out_type(n).shape));
}

template <int32_t Code>
void pool(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  Dims xs = L.shape(x);
  const size_t sp = xs.size() - 2;
  Spatial2d a = spatial_attrs(n, sp, n.attrs.ints("kernel"));
  a.d = {1, 1};
  Dims oshape = out_type(n).shape;
  if (sp == 1) x = L.reshape(x, {xs[0], xs[1], 1, xs[2]});
  Dims in_hw{L.shape(x)[2], L.shape(x)[3]};
  Dims out_hw = sp == 1 ? Dims{1, oshape[2]} : Dims{oshape[2], oshape[3]};
  // ceil_mode adds end padding so the floor formula reaches the ceil size.
  auto p = a.pads;
  for (int i = 0; i < 2; ++i) {
    int64_t need = (out_hw[i] - 1) * a.s[i] + a.k[i] - (in_hw[i] + p[i] + p[2 + i]);
    if (need > 0) p[2 + i] += need;
  }
  const bool is_max = Code == Op::BuiltinOperator_MAX_POOL_2D;
  const bool count_pad = n.attrs.i("count_include_pad", 1) != 0;
  auto pc = choose_padding(in_hw, a.k, a.s, a.d, p, out_hw);
  if (!is_max && pc.padding == fb::Padding_SAME && count_pad) {
    // TFLite's SAME average excludes padding; PyTorch here includes it.
    pc.padding = fb::Padding_VALID;
    pc.explicit_pads = p;
    pc.needs_explicit = true;
  }
  if (!is_max && pc.needs_explicit && (!count_pad || p != a.pads))
    L.fail("average pooling with padding excluded from the count (or ceil_mode) only maps to TFLite SAME padding");
  int32_t xn = L.transpose(x, kToNhwc);
  if (pc.needs_explicit)
    xn = pad_nhwc(L, xn, pc.explicit_pads,
                  is_max ? std::optional<double>(-std::numeric_limits<float>::max()) : std::nullopt);
  ir::Attrs o;
  o.set("padding", pc.padding);
  o.set("stride_h", a.s[0]);
  o.set("stride_w", a.s[1]);
  o.set("filter_height", a.k[0]);
  o.set("filter_width", a.k[1]);
  int32_t y = L.emit(Code, {xn}, L.type(x), {xs[0], out_hw[0], out_hw[1], xs[1]}, o);
  out(L, n, L.reshape(L.transpose(y, kToNchw), oshape));
}

template <int32_t PoolCode, int32_t ReduceCode>
void adaptive_pool(Lowering& L, const ir::Node& n) {
  int32_t x = in(L, n, 0);
  Dims xs = L.shape(x);
  const auto& sizes = n.attrs.ints("sizes");
  const size_t sp = xs.size() - 2;
  if (std::all_of(sizes.begin(), sizes.end(), [](int64_t s) { return s == 1; })) {
    std::vector<int64_t> axes;
    for (size_t i = 0; i < sp; ++i) axes.push_back(static_cast<int64_t>(2 + i));
    return out(L, n, L.reduce(ReduceCode, x, axes, true));
  }
  Dims k;
  for (size_t i = 0; i < sp; ++i) {
    if (xs[2 + i] % sizes[i] != 0)
      L.fail(fmt::format("adaptive pooling from {} to {} is not a uniform window", xs[2 + i], sizes[i]));
    k.push_back(xs[2 + i] / sizes[i]);
  }
  if (sp == 1) {
    x = L.reshape(x, {xs[0], xs[1], 1, xs[2]});
    k = {1, k[0]};
  }
  int32_t xn = L.transpose(x, kToNhwc);
  ir::Attrs o;
  o.set("padding", int64_t(fb::Padding_VALID));
  o.set("stride_h", k[0]);
  o.set("stride_w", k[1]);
  o.set("filter_height", k[0]);
  o.set("filter_width", k[1]);
  Dims ys{xs[0], L.shape(x)[2] / k[0], L.shape(x)[3] / k[1], xs[1]};
  int32_t y = L.emit(PoolCode, {xn}, L.type(x), ys, o);
  out(L, n, L.reshape(L.transpose(y, kToNchw), out_type(n).shape));
}

void unsupported(Lowering& L, const ir::Node& n) {
  L.fail("has no TFLite builtin lowering (scatter with replacement semantics is not expressible as builtins)");
}

const std::unordered_map<std::string, Emitter>& emitters() {
  static const std::unordered_map<std::string, Emitter> table = {
      {"constant", constant},
      {"add", binary<Op::BuiltinOperator_ADD>},
      {"sub", binary<Op::BuiltinOperator_SUB>},
      {"mul", binary<Op::BuiltinOperator_MUL>},
      {"div", binary<Op::BuiltinOperator_DIV>},
      {"floor_div", binary<Op::BuiltinOperator_FLOOR_DIV>},
      {"mod", binary<Op::BuiltinOperator_FLOOR_MOD>},
      {"pow", binary<Op::BuiltinOperator_POW>},
      {"maximum", binary<Op::BuiltinOperator_MAXIMUM>},
      {"minimum", binary<Op::BuiltinOperator_MINIMUM>},
      {"equal", comparison<Op::BuiltinOperator_EQUAL>},
      {"not_equal", comparison<Op::BuiltinOperator_NOT_EQUAL>},
      {"less", comparison<Op::BuiltinOperator_LESS>},
      {"less_equal", comparison<Op::BuiltinOperator_LESS_EQUAL>},
      {"greater", comparison<Op::BuiltinOperator_GREATER>},
      {"greater_equal", comparison<Op::BuiltinOperator_GREATER_EQUAL>},
      {"logical_and", comparison<Op::BuiltinOperator_LOGICAL_AND>},
      {"logical_or", comparison<Op::BuiltinOperator_LOGICAL_OR>},
      {"logical_xor", logical_xor},
      {"neg", unary<Op::BuiltinOperator_NEG>},
      {"abs", unary<Op::BuiltinOperator_ABS>},
      {"exp", unary<Op::BuiltinOperator_EXP>},
      {"log", unary<Op::BuiltinOperator_LOG>},
      {"sqrt", unary<Op::BuiltinOperator_SQRT>},
      {"rsqrt", unary<Op::BuiltinOperator_RSQRT>},
      {"reciprocal", reciprocal},
      {"sin", unary<Op::BuiltinOperator_SIN>},
      {"cos", unary<Op::BuiltinOperator_COS>},
      {"tanh", unary<Op::BuiltinOperator_TANH>},
      {"sigmoid", unary<Op::BuiltinOperator_LOGISTIC>},
      {"erf", erf},
      {"floor", rounding<Op::BuiltinOperator_FLOOR>},
      {"ceil", rounding<Op::BuiltinOperator_CEIL>},
      {"round", rounding<Op::BuiltinOperator_ROUND>},
      {"sign", unary<Op::BuiltinOperator_SIGN>},
      {"relu", unary<Op::BuiltinOperator_RELU>},
      {"silu", silu},
      {"hardswish", unary<Op::BuiltinOperator_HARD_SWISH>},
      {"hardsigmoid", hardsigmoid},
      {"identity", identity},
      {"logical_not", unary<Op::BuiltinOperator_LOGICAL_NOT>},
      {"gelu", gelu},
      {"softplus", softplus},
      {"clamp", clamp},
      {"leaky_relu", leaky_relu},
      {"elu", elu},
      {"cast", cast},
      {"where", where},
      {"matmul", matmul},
      {"linear", linear},
      {"conv", conv},
      {"conv_transpose", conv_transpose},
      {"layer_norm", layer_norm},
      {"group_norm", group_norm},
      {"batch_norm", batch_norm},
      {"softmax", softmax<Op::BuiltinOperator_SOFTMAX>},
      {"log_softmax", softmax<Op::BuiltinOperator_LOG_SOFTMAX>},
      {"reduce_sum", reduction<Op::BuiltinOperator_SUM>},
      {"reduce_mean", reduction<Op::BuiltinOperator_MEAN>},
      {"reduce_max", reduction<Op::BuiltinOperator_REDUCE_MAX>},
      {"reduce_min", reduction<Op::BuiltinOperator_REDUCE_MIN>},
      {"reduce_prod", reduction<Op::BuiltinOperator_REDUCE_PROD>},
      {"argmax", argreduce<Op::BuiltinOperator_ARG_MAX>},
      {"argmin", argreduce<Op::BuiltinOperator_ARG_MIN>},
      {"cumsum", cumsum},
      {"reshape", reshape},
      {"transpose", transpose},
      {"slice", slice},
      {"concat", concat},
      {"expand", expand},
      {"tile", tile},
      {"flip", flip},
      {"gather", gather},
      {"gather_elements", gather_elements},
      {"scatter_elements", unsupported},
      {"pad", pad},
      {"resize", resize},
      {"max_pool", pool<Op::BuiltinOperator_MAX_POOL_2D>},
      {"avg_pool", pool<Op::BuiltinOperator_AVERAGE_POOL_2D>},
      {"adaptive_avg_pool", adaptive_pool<Op::BuiltinOperator_AVERAGE_POOL_2D, Op::BuiltinOperator_MEAN>},
      {"adaptive_max_pool", adaptive_pool<Op::BuiltinOperator_MAX_POOL_2D, Op::BuiltinOperator_REDUCE_MAX>},
  };
  return table;
}

}  // namespace

std::vector<std::string> lowered_ops() {
  std::vector<std::string> names;
  for (const auto& [k, v] : emitters()) names.push_back(k);
  std::sort(names.begin(), names.end());
  return names;
}

TflModel lower_graph(const ir::Graph& graph) {
  TflModel m;
  Lowering L(m);
  TflSignature sig;
  for (const ir::Value* v : graph.inputs()) {
    TflTensor t;
    t.name = v->name.empty() ? fmt::format("input_{}", m.inputs.size()) : v->name;
    t.type = tfl_type_of(v->type.dtype);
    t.shape = v->type.shape;
    int32_t idx = m.add_tensor(std::move(t));
    m.inputs.push_back(idx);
    sig.inputs.emplace_back(m.tensors[idx].name, idx);
    L.bind(v, v->type.dtype == ir::DType::I64 ? L.cast(idx, TflType::I32) : idx);
  }
  for (const auto& node : graph.nodes()) {
    L.node = node.get();
    auto it = emitters().find(node->op);
    if (it == emitters().end()) L.fail("has no TFLite lowering");
    try {
      it->second(L, *node);
    } catch (const TfliteError&) {
      throw;
    } catch (const std::exception& e) {
      L.fail(e.what());
    }
  }
  L.node = nullptr;
  // Outputs: each gets its own op-produced tensor named after the output.
  std::vector<bool> is_input(m.tensors.size(), false);
  for (int32_t i : m.inputs) is_input[i] = true;
  std::vector<bool> used_as_output(m.tensors.size(), false);
  for (size_t k = 0; k < graph.outputs().size(); ++k) {
    const ir::Value* v = graph.outputs()[k];
    std::string name = k < graph.output_names().size() && !graph.output_names()[k].empty()
                           ? graph.output_names()[k]
                           : (v->name.empty() ? fmt::format("output_{}", k) : v->name);
    int32_t t = L.value(v);
    if (v->type.dtype == ir::DType::I64) t = L.cast(t, TflType::I64);
    if (static_cast<size_t>(t) < is_input.size() && (is_input[t] || used_as_output[t]) || m.tensors[t].is_const())
      t = L.emit(fb::BuiltinOperator_RESHAPE, {t, L.const_i32(m.tensors[t].shape)}, m.tensors[t].type,
                 m.tensors[t].shape);
    m.tensors[t].name = name;
    if (static_cast<size_t>(t) >= used_as_output.size()) used_as_output.resize(t + 1, false);
    used_as_output[t] = true;
    m.outputs.push_back(t);
    sig.outputs.emplace_back(name, t);
  }
  m.signatures.push_back(std::move(sig));
  return m;
}

}  // namespace exporters::tflite
