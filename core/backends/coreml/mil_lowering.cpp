#include "mil_lowering.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace exporters::coreml {

using ir::DType;
using ir::Node;
using ir::Shape;
using ir::TensorType;

MilLowering::MilLowering(MilBuilder& builder, const CoreMLOptions& opts) : b(builder), options(opts) {}

void MilLowering::fail(const Node& node, const std::string& why) const {
  std::string where = "Core ML: op '" + node.op + "'";
  if (!node.name.empty()) where += " (" + node.name + ")";
  throw CoreMLError(where + ": " + why);
}

bool MilLowering::has(const Node& node, size_t i) const {
  return i < node.inputs.size() && node.inputs[i] != nullptr;
}

const ir::Tensor* MilLowering::constant_of(const Node& node, size_t i) const {
  if (!has(node, i)) return nullptr;
  const ir::Node* p = node.inputs[i]->producer;
  return p && p->is_constant() ? &p->constant() : nullptr;
}

MVal MilLowering::value(const ir::Value* v) {
  auto it = values_.find(v);
  if (it != values_.end()) return it->second;
  if (v->producer && v->producer->is_constant()) {
    auto r = reserved_.find(v);
    std::string name = r != reserved_.end() ? r->second : b.unique_name("const_" + std::to_string(v->id));
    MVal m = b.constant(v->producer->constant(), name);
    values_[v] = m;
    return m;
  }
  throw CoreMLError("Core ML: value %" + std::to_string(v->id) + " is used before it is defined");
}

MVal MilLowering::in(const Node& node, size_t i) {
  if (!has(node, i)) fail(node, "input " + std::to_string(i) + " is missing");
  return value(node.inputs[i]);
}

TensorType MilLowering::out_type(const Node& node, size_t i) const {
  const TensorType& t = node.outputs.at(i)->type;
  return {b.compute_dtype(t.dtype), t.shape};
}

std::string MilLowering::out_name(const Node& node, size_t i) {
  const ir::Value* v = node.outputs.at(i);
  auto r = reserved_.find(v);
  if (r != reserved_.end()) return r->second;
  std::string name = b.unique_name("var_" + std::to_string(v->id));
  reserved_[v] = name;
  return name;
}

MVal MilLowering::finish(const Node& node, const std::string& type, const Args& args, size_t i) {
  MVal m = b.emit(type, args, out_type(node, i), out_name(node, i));
  bind(node.outputs[i], m);
  return m;
}

void MilLowering::lower(const Node& node) {
  if (node.is_constant()) return;  // emitted lazily on first use
  const MilLoweringRow* row = find_mil_lowering(node.op);
  if (!row) fail(node, "no Core ML lowering for this op");
  try {
    row->emit(*this, node);
  } catch (const ir::IrError& e) {
    fail(node, e.what());
  }
}

namespace {

using L = MilLowering;

bool is_float_type(DType d) { return d == DType::F32 || d == DType::F16; }

std::vector<int64_t> all_axes(int64_t rank) {
  std::vector<int64_t> a(static_cast<size_t>(rank));
  std::iota(a.begin(), a.end(), 0);
  return a;
}

// [begin..., end...] (IR) -> [b0, e0, b1, e1, ...] (MIL)
std::vector<int64_t> interleave_pads(const std::vector<int64_t>& pads) {
  const size_t n = pads.size() / 2;
  std::vector<int64_t> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(pads[i]);
    out.push_back(pads[n + i]);
  }
  return out;
}

void require_dtype(L& l, const Node& n, const MVal& v, std::initializer_list<DType> allowed) {
  if (std::find(allowed.begin(), allowed.end(), v.type.dtype) == allowed.end())
    l.fail(n, "Core ML has no " + n.op + " for " + std::string(ir::dtype_name(v.type.dtype)) + " tensors");
}

MVal reshape_to(L& l, const MVal& x, const Shape& shape, const std::string& name = {}) {
  return l.b.emit("reshape", {{"x", x}, {"shape", l.b.i32s(shape)}}, {x.type.dtype, shape}, name);
}

MVal cast_to(L& l, const MVal& x, DType to, const std::string& name = {}) {
  static const std::map<DType, std::string> names = {
      {DType::F32, "fp32"}, {DType::F16, "fp16"}, {DType::I32, "int32"}, {DType::Bool, "bool"},
      {DType::I8, "int8"}, {DType::U8, "uint8"}};
  return l.b.emit("cast", {{"x", x}, {"dtype", l.b.str(names.at(to))}}, {to, x.type.shape}, name);
}

// ── elementwise ─────────────────────────────────────────────────────────────

template <const char* MilOp>
void binary(L& l, const Node& n) {
  MVal x = l.in(n, 0), y = l.in(n, 1);
  require_dtype(l, n, x, {DType::F32, DType::F16, DType::I32});
  l.finish(n, MilOp, {{"x", x}, {"y", y}});
}

template <const char* MilOp>
void compare(L& l, const Node& n) {
  MVal x = l.in(n, 0), y = l.in(n, 1);
  if (x.type.dtype == DType::Bool) {  // MIL comparisons take fp/int32 only
    x = cast_to(l, x, DType::I32);
    y = cast_to(l, y, DType::I32);
  }
  require_dtype(l, n, x, {DType::F32, DType::F16, DType::I32});
  l.finish(n, MilOp, {{"x", x}, {"y", y}});
}

template <const char* MilOp>
void logical(L& l, const Node& n) {
  l.finish(n, MilOp, {{"x", l.in(n, 0)}, {"y", l.in(n, 1)}});
}

void div(L& l, const Node& n) {
  MVal x = l.in(n, 0), y = l.in(n, 1);
  if (is_float_type(x.type.dtype)) {
    l.finish(n, "real_div", {{"x", x}, {"y", y}});
    return;
  }
  require_dtype(l, n, x, {DType::I32});
  // Integer division truncates toward zero: sign(q) * floor(|q|) in fp32.
  const Shape shape = l.out_type(n).shape;
  MVal fx = cast_to(l, x, DType::F32), fy = cast_to(l, y, DType::F32);
  const TensorType ft{DType::F32, shape};
  MVal q = l.b.emit("real_div", {{"x", fx}, {"y", fy}}, ft);
  MVal a = l.b.emit("abs", {{"x", q}}, ft);
  MVal f = l.b.emit("floor", {{"x", a}}, ft);
  MVal s = l.b.emit("sign", {{"x", q}}, ft);
  MVal t = l.b.emit("mul", {{"x", f}, {"y", s}}, ft);
  l.bind(n.outputs[0], cast_to(l, t, DType::I32, l.out_name(n)));
}

template <const char* MilOp>
void unary_float(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16});
  l.finish(n, MilOp, {{"x", x}});
}

template <const char* MilOp>
void unary_num(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16, DType::I32});
  l.finish(n, MilOp, {{"x", x}});
}

void neg(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16, DType::I32});
  l.finish(n, "mul", {{"x", x}, {"y", l.b.scalar(-1.0, x.type.dtype)}});
}

void reciprocal(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16});
  // inverse() adds epsilon (default 1e-4); a plain division is exact.
  l.finish(n, "real_div", {{"x", l.b.scalar(1.0, x.type.dtype)}, {"y", x}});
}

void identity(L& l, const Node& n) { l.finish(n, "identity", {{"x", l.in(n, 0)}}); }

void logical_not(L& l, const Node& n) { l.finish(n, "logical_not", {{"x", l.in(n, 0)}}); }

void gelu(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16});
  const std::string mode = n.attrs.s("approximate", "none") == "tanh" ? "TANH_APPROXIMATION" : "EXACT";
  l.finish(n, "gelu", {{"x", x}, {"mode", l.b.str(mode)}});
}

void hardsigmoid(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16});
  const DType t = x.type.dtype;
  l.finish(n, "sigmoid_hard", {{"x", x}, {"alpha", l.b.scalar(1.0 / 6.0, t)}, {"beta", l.b.scalar(0.5, t)}});
}

void hardswish(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16});
  const DType t = x.type.dtype;
  MVal h = l.b.emit("sigmoid_hard", {{"x", x}, {"alpha", l.b.scalar(1.0 / 6.0, t)}, {"beta", l.b.scalar(0.5, t)}},
                    x.type);
  l.finish(n, "mul", {{"x", x}, {"y", h}});
}

void softplus(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16});
  const double beta = n.attrs.f("beta", 1.0), threshold = n.attrs.f("threshold", 20.0);
  const DType t = x.type.dtype;
  MVal bx = beta == 1.0 ? x : l.b.emit("mul", {{"x", x}, {"y", l.b.scalar(beta, t)}}, x.type);
  MVal sp = l.b.emit("softplus", {{"x", bx}}, x.type);
  MVal y = beta == 1.0 ? sp : l.b.emit("real_div", {{"x", sp}, {"y", l.b.scalar(beta, t)}}, x.type);
  // PyTorch returns x where beta * x > threshold.
  MVal above = l.b.emit("greater", {{"x", bx}, {"y", l.b.scalar(threshold, t)}}, {DType::Bool, x.type.shape});
  l.finish(n, "select", {{"cond", above}, {"a", x}, {"b", y}});
}

void clamp(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16, DType::I32});
  const bool has_min = n.attrs.has("min"), has_max = n.attrs.has("max");
  const DType t = x.type.dtype;
  if (has_min && has_max && is_float_type(t)) {
    l.finish(n, "clip", {{"x", x}, {"alpha", l.b.scalar(n.attrs.f("min"), t)}, {"beta", l.b.scalar(n.attrs.f("max"), t)}});
  } else if (has_min && has_max) {
    MVal lo = l.b.emit("maximum", {{"x", x}, {"y", l.b.scalar(n.attrs.f("min"), t)}}, x.type);
    l.finish(n, "minimum", {{"x", lo}, {"y", l.b.scalar(n.attrs.f("max"), t)}});
  } else if (has_min) {
    l.finish(n, "maximum", {{"x", x}, {"y", l.b.scalar(n.attrs.f("min"), t)}});
  } else if (has_max) {
    l.finish(n, "minimum", {{"x", x}, {"y", l.b.scalar(n.attrs.f("max"), t)}});
  } else {
    l.finish(n, "identity", {{"x", x}});
  }
}

template <const char* MilOp>
void with_alpha(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16});
  l.finish(n, MilOp, {{"x", x}, {"alpha", l.b.scalar(n.attrs.f("alpha"), x.type.dtype)}});
}

void cast(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  const DType to = l.out_type(n).dtype;
  if (x.type.dtype == to) {
    l.finish(n, "identity", {{"x", x}});
    return;
  }
  const auto basic = {DType::F32, DType::F16, DType::I32, DType::Bool};
  const bool ok = std::find(basic.begin(), basic.end(), x.type.dtype) != basic.end() &&
                  std::find(basic.begin(), basic.end(), to) != basic.end();
  if (!ok && l.os() < 17)
    l.fail(n, "cast between " + std::string(ir::dtype_name(x.type.dtype)) + " and " +
                  std::string(ir::dtype_name(to)) + " needs --target iOS17 or newer");
  l.bind(n.outputs[0], cast_to(l, x, to, l.out_name(n)));
}

void where(L& l, const Node& n) {
  l.finish(n, "select", {{"cond", l.in(n, 0)}, {"a", l.in(n, 1)}, {"b", l.in(n, 2)}});
}

// ── linear algebra ──────────────────────────────────────────────────────────

void matmul(L& l, const Node& n) {
  MVal x = l.in(n, 0), y = l.in(n, 1);
  require_dtype(l, n, x, {DType::F32, DType::F16, DType::I32});
  l.finish(n, "matmul", {{"x", x}, {"y", y}, {"transpose_x", l.b.boolean(false)}, {"transpose_y", l.b.boolean(false)}});
}

void linear(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16, DType::I32});
  const bool const_w = l.constant_of(n, 1) != nullptr;
  const bool const_b = !l.has(n, 2) || l.constant_of(n, 2) != nullptr;
  if (const_w && const_b) {
    Args args{{"x", x}, {"weight", l.in(n, 1)}};
    if (l.has(n, 2)) args.push_back({"bias", l.in(n, 2)});
    l.finish(n, "linear", args);
    return;
  }
  // linear() needs const weight and bias; otherwise x @ w^T + bias.
  Args margs{{"x", x}, {"y", l.in(n, 1)}, {"transpose_x", l.b.boolean(false)}, {"transpose_y", l.b.boolean(true)}};
  if (!l.has(n, 2)) {
    l.finish(n, "matmul", margs);
    return;
  }
  MVal m = l.b.emit("matmul", margs, l.out_type(n));
  l.finish(n, "add", {{"x", m}, {"y", l.in(n, 2)}});
}

MVal channel_vector_as(L& l, const Node& n, size_t i, int64_t spatial_rank) {
  // bias/gamma [C] -> [C, 1, ...] so it broadcasts over [N, C, *spatial].
  MVal v = l.in(n, i);
  Shape s = v.type.shape;
  for (int64_t k = 0; k < spatial_rank; ++k) s.push_back(1);
  return reshape_to(l, v, s);
}

void conv(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16});
  const int64_t spatial = x.type.rank() - 2;
  Args args{{"x", x}, {"weight", l.in(n, 1)}};
  const bool const_bias = l.has(n, 2) && l.constant_of(n, 2);
  if (const_bias) args.push_back({"bias", l.in(n, 2)});
  args.push_back({"strides", l.b.i32s(n.attrs.ints("strides", std::vector<int64_t>(spatial, 1)))});
  args.push_back({"pad_type", l.b.str("custom")});
  args.push_back({"pad", l.b.i32s(interleave_pads(n.attrs.ints("pads", std::vector<int64_t>(2 * spatial, 0))))});
  args.push_back({"dilations", l.b.i32s(n.attrs.ints("dilations", std::vector<int64_t>(spatial, 1)))});
  args.push_back({"groups", l.b.i32(n.attrs.i("groups", 1))});
  if (!l.has(n, 2) || const_bias) {
    l.finish(n, "conv", args);
    return;
  }
  MVal c = l.b.emit("conv", args, l.out_type(n));
  l.finish(n, "add", {{"x", c}, {"y", channel_vector_as(l, n, 2, spatial)}});
}

void conv_transpose(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16});
  if (!l.constant_of(n, 1)) l.fail(n, "Core ML needs a constant weight for conv_transpose");
  const int64_t spatial = x.type.rank() - 2;
  Args args{{"x", x}, {"weight", l.in(n, 1)}};
  const bool const_bias = l.has(n, 2) && l.constant_of(n, 2);
  if (const_bias) args.push_back({"bias", l.in(n, 2)});
  args.push_back({"pad", l.b.i32s(interleave_pads(n.attrs.ints("pads", std::vector<int64_t>(2 * spatial, 0))))});
  args.push_back({"output_shape", l.b.i32s(l.out_type(n).shape)});
  args.push_back({"pad_type", l.b.str("custom")});
  args.push_back({"strides", l.b.i32s(n.attrs.ints("strides", std::vector<int64_t>(spatial, 1)))});
  args.push_back({"dilations", l.b.i32s(n.attrs.ints("dilations", std::vector<int64_t>(spatial, 1)))});
  args.push_back({"groups", l.b.i32(n.attrs.i("groups", 1))});
  if (!l.has(n, 2) || const_bias) {
    l.finish(n, "conv_transpose", args);
    return;
  }
  MVal c = l.b.emit("conv_transpose", args, l.out_type(n));
  l.finish(n, "add", {{"x", c}, {"y", channel_vector_as(l, n, 2, spatial)}});
}

// ── normalisation ───────────────────────────────────────────────────────────

// The node's epsilon, kept representable (and not 0) in an fp16 program.
double norm_epsilon(const Node& n, DType t) {
  const double eps = n.attrs.f("epsilon", 1e-5);
  return t == DType::F16 ? float16_safe_epsilon(eps) : eps;
}

void layer_norm(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16});
  const DType t = x.type.dtype;
  const bool const_params = (!l.has(n, 1) || l.constant_of(n, 1)) && (!l.has(n, 2) || l.constant_of(n, 2));
  Args args{{"x", x}, {"axes", l.b.i32s(n.attrs.ints("axes"))}};
  if (const_params) {
    if (l.has(n, 1)) args.push_back({"gamma", l.in(n, 1)});
    if (l.has(n, 2)) args.push_back({"beta", l.in(n, 2)});
  }
  args.push_back({"epsilon", l.b.scalar(norm_epsilon(n, t), t)});
  if (const_params) {
    l.finish(n, "layer_norm", args);
    return;
  }
  MVal y = l.b.emit("layer_norm", args, x.type);
  if (l.has(n, 1)) y = l.has(n, 2) ? l.b.emit("mul", {{"x", y}, {"y", l.in(n, 1)}}, x.type)
                                   : l.finish(n, "mul", {{"x", y}, {"y", l.in(n, 1)}});
  if (l.has(n, 2)) l.finish(n, "add", {{"x", y}, {"y", l.in(n, 2)}});
}

void group_norm(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16});
  const Shape& s = x.type.shape;
  const int64_t groups = n.attrs.i("groups");
  const int64_t rest = x.type.numel() / (s[0] * groups);
  // MIL has no group norm: normalise [N, G, C/G * spatial] over its last axis.
  MVal r = reshape_to(l, x, {s[0], groups, rest});
  MVal y = l.b.emit("layer_norm", {{"x", r}, {"axes", l.b.i32s({2})},
                                   {"epsilon", l.b.scalar(norm_epsilon(n, x.type.dtype), x.type.dtype)}},
                    r.type);
  const bool affine_g = l.has(n, 1), affine_b = l.has(n, 2);
  if (!affine_g && !affine_b) {
    l.bind(n.outputs[0], reshape_to(l, y, s, l.out_name(n)));
    return;
  }
  y = reshape_to(l, y, s);
  const int64_t spatial = x.type.rank() - 2;
  if (affine_g) {
    MVal g = channel_vector_as(l, n, 1, spatial);
    y = affine_b ? l.b.emit("mul", {{"x", y}, {"y", g}}, x.type) : l.finish(n, "mul", {{"x", y}, {"y", g}});
  }
  if (affine_b) l.finish(n, "add", {{"x", y}, {"y", channel_vector_as(l, n, 2, spatial)}});
}

void batch_norm(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16});
  for (size_t i = 1; i < 5; ++i)
    if (l.has(n, i) && !l.constant_of(n, i)) l.fail(n, "Core ML needs constant batch_norm statistics and affine parameters");
  Args args{{"x", x}, {"mean", l.in(n, 1)}, {"variance", l.in(n, 2)}};
  if (l.has(n, 3)) args.push_back({"gamma", l.in(n, 3)});
  if (l.has(n, 4)) args.push_back({"beta", l.in(n, 4)});
  // Constant statistics: var + eps is only 0 for a channel that was constant
  // in training, and raising eps would move every small-variance channel.
  args.push_back({"epsilon", l.b.scalar(n.attrs.f("epsilon", 1e-5), x.type.dtype)});
  if (x.type.rank() >= 3) {
    l.finish(n, "batch_norm", args);
    return;
  }
  // batch_norm takes rank 3..5: [N, C] -> [N, C, 1] and back.
  const Shape s = x.type.shape;
  args[0].second = reshape_to(l, x, {s[0], s[1], 1});
  MVal y = l.b.emit("batch_norm", args, {x.type.dtype, {s[0], s[1], 1}});
  l.bind(n.outputs[0], reshape_to(l, y, s, l.out_name(n)));
}

// ── softmax, reductions ─────────────────────────────────────────────────────

void softmax(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16});
  l.finish(n, "softmax", {{"x", x}, {"axis", l.b.i32(n.attrs.i("axis"))}});
}

void log_softmax(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16});
  Shape ks = x.type.shape;
  const int64_t axis = n.attrs.i("axis");
  ks[static_cast<size_t>(axis)] = 1;
  MVal lse = l.b.emit("reduce_log_sum_exp",
                      {{"x", x}, {"axes", l.b.i32s({axis})}, {"keep_dims", l.b.boolean(true)}},
                      {x.type.dtype, ks});
  l.finish(n, "sub", {{"x", x}, {"y", lse}});
}

template <const char* MilOp>
void reduce(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16, DType::I32});
  std::vector<int64_t> axes = n.attrs.ints("axes", {});
  if (axes.empty()) axes = all_axes(x.type.rank());
  l.finish(n, MilOp, {{"x", x}, {"axes", l.b.i32s(axes)}, {"keep_dims", l.b.boolean(n.attrs.i("keepdims", 0) != 0)}});
}

template <const char* MilOp>
void arg_reduce(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16, DType::I32});
  l.finish(n, MilOp, {{"x", x}, {"axis", l.b.i32(n.attrs.i("axis"))}, {"keep_dims", l.b.boolean(n.attrs.i("keepdims", 0) != 0)}});
}

void cumsum(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16, DType::I32});
  l.finish(n, "cumsum", {{"x", x}, {"axis", l.b.i32(n.attrs.i("axis"))},
                         {"exclusive", l.b.boolean(n.attrs.i("exclusive", 0) != 0)},
                         {"reverse", l.b.boolean(n.attrs.i("reverse", 0) != 0)}});
}

// ── shapes and data movement ────────────────────────────────────────────────

void reshape(L& l, const Node& n) {
  l.finish(n, "reshape", {{"x", l.in(n, 0)}, {"shape", l.b.i32s(l.out_type(n).shape)}});
}

void transpose(L& l, const Node& n) {
  l.finish(n, "transpose", {{"x", l.in(n, 0)}, {"perm", l.b.i32s(n.attrs.ints("perm"))}});
}

void slice(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  const Shape& s = x.type.shape;
  std::vector<int64_t> begin(s.size(), 0), end(s.begin(), s.end()), stride(s.size(), 1);
  const auto& axes = n.attrs.ints("axes");
  const auto& starts = n.attrs.ints("starts");
  const auto& ends = n.attrs.ints("ends");
  const auto steps = n.attrs.ints("steps", std::vector<int64_t>(axes.size(), 1));
  for (size_t k = 0; k < axes.size(); ++k) {
    const auto a = static_cast<size_t>(axes[k]);
    begin[a] = starts[k];
    end[a] = ends[k];
    stride[a] = steps[k];
  }
  l.finish(n, "slice_by_index", {{"x", x}, {"begin", l.b.i32s(begin)}, {"end", l.b.i32s(end)}, {"stride", l.b.i32s(stride)}});
}

void concat(L& l, const Node& n) {
  std::vector<MVal> values;
  for (size_t i = 0; i < n.inputs.size(); ++i) values.push_back(l.in(n, i));
  l.finish(n, "concat", {{"values", values}, {"axis", l.b.i32(n.attrs.i("axis"))}, {"interleave", l.b.boolean(false)}});
}

void tile_values(L& l, const Node& n, MVal x, const std::vector<int64_t>& reps) {
  if (std::all_of(reps.begin(), reps.end(), [](int64_t r) { return r == 1; })) {
    l.finish(n, "identity", {{"x", x}});
    return;
  }
  l.finish(n, "tile", {{"x", x}, {"reps", l.b.i32s(reps)}});
}

void expand(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  const Shape target = l.out_type(n).shape;
  Shape s = x.type.shape;
  if (s.size() < target.size()) {
    s.insert(s.begin(), target.size() - s.size(), 1);
    x = reshape_to(l, x, s);
  }
  std::vector<int64_t> reps(target.size());
  for (size_t i = 0; i < target.size(); ++i) reps[i] = s[i] == target[i] ? 1 : target[i];
  tile_values(l, n, x, reps);
}

void tile(L& l, const Node& n) { tile_values(l, n, l.in(n, 0), n.attrs.ints("repeats")); }

void flip(L& l, const Node& n) {
  l.finish(n, "reverse", {{"x", l.in(n, 0)}, {"axes", l.b.i32s(n.attrs.ints("axes"))}});
}

// Indices made non-negative (iOS17 gathers require it; older ones accept
// negative indices as counting from the end).
MVal gather_indices(L& l, const Node& n, size_t i, int64_t dim) {
  if (const ir::Tensor* c = l.constant_of(n, i)) {
    bool negative = false;
    for (int64_t k = 0; k < c->numel() && !negative; ++k) negative = c->element_as_int(k) < 0;
    if (!negative) return l.in(n, i);
    std::vector<int64_t> v(static_cast<size_t>(c->numel()));
    for (int64_t k = 0; k < c->numel(); ++k) {
      const int64_t e = c->element_as_int(k);
      v[static_cast<size_t>(k)] = e < 0 ? e + dim : e;
    }
    return l.b.constant(ir::Tensor::from_i64(c->shape(), v));
  }
  MVal idx = l.in(n, i);
  if (l.os() < 17) return idx;
  const TensorType bt{DType::Bool, idx.type.shape};
  MVal neg = l.b.emit("less", {{"x", idx}, {"y", l.b.i32(0)}}, bt);
  MVal wrapped = l.b.emit("add", {{"x", idx}, {"y", l.b.i32(dim)}}, idx.type);
  return l.b.emit("select", {{"cond", neg}, {"a", wrapped}, {"b", idx}}, idx.type);
}

void gather(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16, DType::I32});
  const int64_t axis = n.attrs.i("axis");
  MVal idx = gather_indices(l, n, 1, x.type.shape[static_cast<size_t>(axis)]);
  l.finish(n, "gather", {{"x", x}, {"indices", idx}, {"axis", l.b.i32(axis)}});
}

void gather_elements(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16, DType::I32});
  const int64_t axis = n.attrs.i("axis");
  MVal idx = gather_indices(l, n, 1, x.type.shape[static_cast<size_t>(axis)]);
  l.finish(n, "gather_along_axis", {{"x", x}, {"indices", idx}, {"axis", l.b.i32(axis)}});
}

void scatter_elements(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16, DType::I32});
  const int64_t axis = n.attrs.i("axis");
  MVal idx = gather_indices(l, n, 1, x.type.shape[static_cast<size_t>(axis)]);
  l.finish(n, "scatter_along_axis", {{"data", x}, {"indices", idx}, {"updates", l.in(n, 2)},
                                     {"axis", l.b.i32(axis)}, {"mode", l.b.str("update")}});
}

void pad(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16});
  const std::vector<int64_t> il = interleave_pads(n.attrs.ints("pads"));
  // Pad only the trailing axes that need it (reflect/replicate in Core ML
  // are limited to the last axes).
  size_t first = 0;
  while (first + 1 < il.size() / 2 && il[2 * first] == 0 && il[2 * first + 1] == 0) ++first;
  const std::vector<int64_t> trailing(il.begin() + static_cast<std::ptrdiff_t>(2 * first), il.end());
  const std::string mode = n.attrs.s("mode", "constant");
  Args args{{"x", x}, {"pad", l.b.i32s(trailing)}, {"mode", l.b.str(mode)}};
  if (mode == "constant") args.push_back({"constant_val", l.b.scalar(n.attrs.f("value", 0.0), x.type.dtype)});
  l.finish(n, "pad", args);
}

void resize(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16});
  const std::string mode = n.attrs.s("mode");
  const Shape out = l.out_type(n).shape;
  const int64_t rank = x.type.rank();
  if (rank != 3 && rank != 4) l.fail(n, "Core ML resizes 1-D or 2-D spatial inputs only");
  // 1-D: resize [N, C, 1, L] and reshape back.
  MVal x4 = rank == 4 ? x : reshape_to(l, x, {x.type.shape[0], x.type.shape[1], 1, x.type.shape[2]});
  const Shape out4 = rank == 4 ? out : Shape{out[0], out[1], 1, out[2]};
  const TensorType t4{x.type.dtype, out4};
  Args args{{"x", x4}};
  std::string op;
  if (mode == "nearest") {
    op = "upsample_nearest_neighbor";
    const double sh = static_cast<double>(out4[2]) / static_cast<double>(x4.type.shape[2]);
    const double sw = static_cast<double>(out4[3]) / static_cast<double>(x4.type.shape[3]);
    args.push_back({"scale_factor_height", l.b.scalar(sh, DType::F32)});
    args.push_back({"scale_factor_width", l.b.scalar(sw, DType::F32)});
  } else if (mode == "linear") {
    op = "resize_bilinear";
    args.push_back({"target_size_height", l.b.i32(out4[2])});
    args.push_back({"target_size_width", l.b.i32(out4[3])});
    args.push_back({"sampling_mode", l.b.str(n.attrs.i("align_corners", 0) ? "STRICT_ALIGN_CORNERS" : "UNALIGN_CORNERS")});
  } else {
    l.fail(n, "Core ML has no '" + mode + "' resize");
  }
  if (rank == 4) {
    l.finish(n, op, args);
  } else {
    MVal y = l.b.emit(op, args, t4);
    l.bind(n.outputs[0], reshape_to(l, y, out, l.out_name(n)));
  }
}

// ── pooling ─────────────────────────────────────────────────────────────────

template <bool IsMax>
void pool(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16});
  const auto& kernel = n.attrs.ints("kernel");
  const size_t sp = kernel.size();
  Args args{{"x", x}, {"kernel_sizes", l.b.i32s(kernel)},
            {"strides", l.b.i32s(n.attrs.ints("strides", std::vector<int64_t>(sp, 1)))},
            {"pad_type", l.b.str("custom")},
            {"pad", l.b.i32s(interleave_pads(n.attrs.ints("pads", std::vector<int64_t>(2 * sp, 0))))}};
  if (!IsMax) args.push_back({"exclude_padding_from_average", l.b.boolean(n.attrs.i("count_include_pad", 1) == 0)});
  args.push_back({"ceil_mode", l.b.boolean(n.attrs.i("ceil_mode", 0) != 0)});
  l.finish(n, IsMax ? "max_pool" : "avg_pool", args);
}

template <bool IsMax>
void adaptive_pool(L& l, const Node& n) {
  MVal x = l.in(n, 0);
  require_dtype(l, n, x, {DType::F32, DType::F16});
  const auto& sizes = n.attrs.ints("sizes");
  const Shape& s = x.type.shape;
  std::vector<int64_t> axes, kernel;
  bool global = true, divisible = true;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const int64_t in = s[2 + i];
    axes.push_back(static_cast<int64_t>(2 + i));
    global = global && sizes[i] == 1;
    divisible = divisible && sizes[i] > 0 && in % sizes[i] == 0;
    kernel.push_back(sizes[i] > 0 ? in / std::max<int64_t>(sizes[i], 1) : 1);
  }
  if (global) {
    l.finish(n, IsMax ? "reduce_max" : "reduce_mean", {{"x", x}, {"axes", l.b.i32s(axes)}, {"keep_dims", l.b.boolean(true)}});
    return;
  }
  if (!divisible) l.fail(n, "Core ML needs the input size to be a multiple of the adaptive pool output size");
  Args args{{"x", x}, {"kernel_sizes", l.b.i32s(kernel)}, {"strides", l.b.i32s(kernel)},
            {"pad_type", l.b.str("valid")}};
  if (!IsMax) args.push_back({"exclude_padding_from_average", l.b.boolean(true)});
  args.push_back({"ceil_mode", l.b.boolean(false)});
  l.finish(n, IsMax ? "max_pool" : "avg_pool", args);
}

// Op-name storage for the templates above.
#define MIL_NAME(id, text) constexpr char id[] = text
MIL_NAME(kAdd, "add"); MIL_NAME(kSub, "sub"); MIL_NAME(kMul, "mul"); MIL_NAME(kFloorDiv, "floor_div");
MIL_NAME(kMod, "mod"); MIL_NAME(kPow, "pow"); MIL_NAME(kMaximum, "maximum"); MIL_NAME(kMinimum, "minimum");
MIL_NAME(kEqual, "equal"); MIL_NAME(kNotEqual, "not_equal"); MIL_NAME(kLess, "less");
MIL_NAME(kLessEqual, "less_equal"); MIL_NAME(kGreater, "greater"); MIL_NAME(kGreaterEqual, "greater_equal");
MIL_NAME(kAnd, "logical_and"); MIL_NAME(kOr, "logical_or"); MIL_NAME(kXor, "logical_xor");
MIL_NAME(kAbs, "abs"); MIL_NAME(kExp, "exp"); MIL_NAME(kLog, "log"); MIL_NAME(kSqrt, "sqrt");
MIL_NAME(kRsqrt, "rsqrt"); MIL_NAME(kSin, "sin"); MIL_NAME(kCos, "cos"); MIL_NAME(kTanh, "tanh");
MIL_NAME(kSigmoid, "sigmoid"); MIL_NAME(kErf, "erf"); MIL_NAME(kFloor, "floor"); MIL_NAME(kCeil, "ceil");
MIL_NAME(kRound, "round"); MIL_NAME(kSign, "sign"); MIL_NAME(kRelu, "relu"); MIL_NAME(kSilu, "silu");
MIL_NAME(kLeakyRelu, "leaky_relu"); MIL_NAME(kElu, "elu");
MIL_NAME(kReduceSum, "reduce_sum"); MIL_NAME(kReduceMean, "reduce_mean"); MIL_NAME(kReduceMax, "reduce_max");
MIL_NAME(kReduceMin, "reduce_min"); MIL_NAME(kReduceProd, "reduce_prod");
MIL_NAME(kArgmax, "reduce_argmax"); MIL_NAME(kArgmin, "reduce_argmin");
#undef MIL_NAME

}  // namespace

const std::vector<MilLoweringRow>& mil_lowering_table() {
  static const std::vector<MilLoweringRow> table = {
      {"add", binary<kAdd>}, {"sub", binary<kSub>}, {"mul", binary<kMul>}, {"div", div},
      {"floor_div", binary<kFloorDiv>}, {"mod", binary<kMod>}, {"pow", binary<kPow>},
      {"maximum", binary<kMaximum>}, {"minimum", binary<kMinimum>},
      {"equal", compare<kEqual>}, {"not_equal", compare<kNotEqual>}, {"less", compare<kLess>},
      {"less_equal", compare<kLessEqual>}, {"greater", compare<kGreater>},
      {"greater_equal", compare<kGreaterEqual>},
      {"logical_and", logical<kAnd>}, {"logical_or", logical<kOr>}, {"logical_xor", logical<kXor>},
      {"logical_not", logical_not},
      {"neg", neg}, {"abs", unary_num<kAbs>}, {"sign", unary_num<kSign>},
      {"exp", unary_float<kExp>}, {"log", unary_float<kLog>}, {"sqrt", unary_float<kSqrt>},
      {"rsqrt", unary_float<kRsqrt>}, {"reciprocal", reciprocal}, {"sin", unary_float<kSin>},
      {"cos", unary_float<kCos>}, {"tanh", unary_float<kTanh>}, {"sigmoid", unary_float<kSigmoid>},
      {"erf", unary_float<kErf>}, {"floor", unary_float<kFloor>}, {"ceil", unary_float<kCeil>},
      {"round", unary_float<kRound>}, {"relu", unary_float<kRelu>}, {"silu", unary_float<kSilu>},
      {"hardswish", hardswish}, {"hardsigmoid", hardsigmoid}, {"identity", identity},
      {"gelu", gelu}, {"softplus", softplus}, {"clamp", clamp},
      {"leaky_relu", with_alpha<kLeakyRelu>}, {"elu", with_alpha<kElu>},
      {"cast", cast}, {"where", where},
      {"matmul", matmul}, {"linear", linear}, {"conv", conv}, {"conv_transpose", conv_transpose},
      {"layer_norm", layer_norm}, {"group_norm", group_norm}, {"batch_norm", batch_norm},
      {"softmax", softmax}, {"log_softmax", log_softmax},
      {"reduce_sum", reduce<kReduceSum>}, {"reduce_mean", reduce<kReduceMean>},
      {"reduce_max", reduce<kReduceMax>}, {"reduce_min", reduce<kReduceMin>},
      {"reduce_prod", reduce<kReduceProd>},
      {"argmax", arg_reduce<kArgmax>}, {"argmin", arg_reduce<kArgmin>}, {"cumsum", cumsum},
      {"reshape", reshape}, {"transpose", transpose}, {"slice", slice}, {"concat", concat},
      {"expand", expand}, {"tile", tile}, {"flip", flip}, {"gather", gather},
      {"gather_elements", gather_elements}, {"scatter_elements", scatter_elements},
      {"pad", pad}, {"resize", resize},
      {"max_pool", pool<true>}, {"avg_pool", pool<false>},
      {"adaptive_avg_pool", adaptive_pool<false>}, {"adaptive_max_pool", adaptive_pool<true>},
  };
  return table;
}

const MilLoweringRow* find_mil_lowering(std::string_view ir_op) {
  static const std::unordered_map<std::string_view, const MilLoweringRow*> index = [] {
    std::unordered_map<std::string_view, const MilLoweringRow*> m;
    for (const auto& row : mil_lowering_table()) m[row.ir_op] = &row;
    return m;
  }();
  auto it = index.find(ir_op);
  return it == index.end() ? nullptr : it->second;
}

}  // namespace exporters::coreml
