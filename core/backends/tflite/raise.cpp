// TFLite -> IR: one row per builtin (code -> raiser). NHWC ops become the
// NCHW IR op between transposes; constant int8/uint8 weights with
// quantisation are dequantised to f32 constants, fp16 constants stay f16
// and their DEQUANTIZE becomes a cast. Quantised activations and types the
// IR lacks (int16, ...) are errors naming the op.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "lowering.hpp"

namespace exporters::tflite {

namespace {

using Op = fb::BuiltinOperator;

class Raiser {
 public:
  Raiser(const TflModel& m, const std::string& what) : m(m), what(what), values(m.tensors.size(), nullptr) {}

  const TflModel& m;
  std::string what;
  ir::Graph g;
  std::vector<ir::Value*> values;
  const TflOp* op = nullptr;
  size_t op_index = 0;

  [[noreturn]] void fail(const std::string& why) const {
    if (op)
      throw TfliteError(fmt::format("{}: operator {} ({}): {}", what, op_index, builtin_name(op->code), why));
    throw TfliteError(fmt::format("{}: {}", what, why));
  }

  const TflTensor& t(int32_t i) const { return m.tensors.at(i); }

  ir::Value* val(int32_t i) {
    if (i < 0) return nullptr;
    if (static_cast<size_t>(i) >= values.size()) fail(fmt::format("tensor index {} is out of range", i));
    if (values[i]) return values[i];
    const TflTensor& tt = t(i);
    if (!tt.is_const()) fail(fmt::format("tensor '{}' is read before any operator writes it", tt.name));
    return values[i] = g.constant(constant_data(tt), tt.name);
  }

  // Input k, which the op needs: a missing one is an error naming the op.
  ir::Value* in(size_t k) {
    ir::Value* v = opt(k);
    if (!v) fail(fmt::format("input {} is missing", k));
    return v;
  }
  // Input k, which the op may omit (index -1 or absent): nullptr then.
  ir::Value* opt(size_t k) { return k < op->inputs.size() ? val(op->inputs[k]) : nullptr; }
  int32_t in_index(size_t k) const { return k < op->inputs.size() ? op->inputs[k] : -1; }

  // Integer values of a constant input (shapes, axes, paddings...).
  std::vector<int64_t> const_ints(size_t k) {
    int32_t i = in_index(k);
    if (i < 0 || !t(i).is_const()) fail(fmt::format("input {} must be a constant", k));
    const ir::Tensor& d = *t(i).data;
    std::vector<int64_t> v;
    for (int64_t j = 0; j < d.numel(); ++j) v.push_back(d.element_as_int(j));
    return v;
  }
  // A constant input that must hold exactly `n` integers (per-axis values).
  std::vector<int64_t> const_ints(size_t k, size_t n, const char* what) {
    auto v = const_ints(k);
    if (v.size() != n) fail(fmt::format("{} has {} values, expected {}", what, v.size(), n));
    return v;
  }
  int64_t const_int(size_t k, const char* what) { return const_ints(k, 1, what)[0]; }
  // The shape of a value the op needs at a given rank.
  const Dims& shape_of(ir::Value* v, size_t rank, const char* what) const {
    if (v->type.shape.size() != rank)
      fail(fmt::format("{} has rank {}, expected {}", what, v->type.shape.size(), rank));
    return v->type.shape;
  }
  double const_scalar(size_t k) {
    int32_t i = in_index(k);
    if (i < 0 || !t(i).is_const() || t(i).data->numel() != 1) fail(fmt::format("input {} must be a constant scalar", k));
    return constant_data(t(i)).element_as_double(0);
  }

  ir::Tensor constant_data(const TflTensor& tt) const {
    auto dt = ir_dtype_of(tt.type);
    if (!tt.quant.empty() && tt.type != TflType::F32 && tt.type != TflType::F16) {
      if (tt.type != TflType::I8 && tt.type != TflType::U8 && tt.type != TflType::I32)
        fail(fmt::format("quantized constant '{}' of type {} is not supported", tt.name,
                         tfl_type_name(static_cast<int8_t>(tt.type))));
      // Weight-only quantisation: dequantise to f32.
      const ir::Tensor& q = *tt.data;
      const auto& sc = tt.quant.scale;
      const auto& zp = tt.quant.zero_point;
      ir::Tensor f = ir::Tensor::zeros(ir::DType::F32, tt.shape);
      int64_t axis = sc.size() > 1 ? tt.quant.quantized_dimension : -1;
      int64_t inner = 1;
      if (axis >= 0) {
        if (axis >= static_cast<int64_t>(tt.shape.size()) || tt.shape[axis] != static_cast<int64_t>(sc.size()))
          fail(fmt::format("constant '{}' has {} scales for quantized_dimension {}", tt.name, sc.size(), axis));
        for (size_t d = axis + 1; d < tt.shape.size(); ++d) inner *= tt.shape[d];
      }
      for (int64_t j = 0; j < q.numel(); ++j) {
        size_t c = axis >= 0 ? static_cast<size_t>((j / inner) % tt.shape[axis]) : 0;
        double z = c < zp.size() ? static_cast<double>(zp[c]) : 0.0;
        f.mutable_as<float>()[j] = static_cast<float>(sc[c] * (static_cast<double>(q.element_as_int(j)) - z));
      }
      return f;
    }
    if (!dt) fail(fmt::format("constant '{}' has type {}, which the IR cannot represent", tt.name,
                              tfl_type_name(static_cast<int8_t>(tt.type))));
    return *tt.data;
  }

  // Binds output k, checking the IR's inferred type against the file's tensor.
  void set(size_t k, ir::Value* v) {
    int32_t i = op->outputs.at(k);
    const TflTensor& tt = t(i);
    auto dt = ir_dtype_of(tt.type);
    if (!dt) fail(fmt::format("output '{}' has type {}, which the IR cannot represent", tt.name,
                              tfl_type_name(static_cast<int8_t>(tt.type))));
    if (v->type.shape != tt.shape)
      fail(fmt::format("computed shape [{}] differs from the file's [{}] for '{}'", ir::shape_to_string(v->type.shape),
                       ir::shape_to_string(tt.shape), tt.name));
    if (v->type.dtype != *dt) v = add("cast", {v}, {{"dtype", std::string(ir::dtype_name(*dt))}});
    if (v->name.empty()) v->name = tt.name;
    values[i] = v;
  }

  ir::Value* add(const std::string& name, std::vector<ir::Value*> inputs, ir::Attrs attrs = {}) {
    return g.add1(name, std::move(inputs), std::move(attrs));
  }

  ir::Value* activation(ir::Value* v) {
    switch (op->options.i("fused_activation_function", 0)) {
      case 0: return v;
      case 1: return add("relu", {v});
      case 2: return add("clamp", {v}, {{"min", -1.0}, {"max", 1.0}});
      case 3: return add("clamp", {v}, {{"min", 0.0}, {"max", 6.0}});
      case 4: return add("tanh", {v});
      default: fail("unsupported fused activation");
    }
  }

  ir::Value* to_nchw(ir::Value* v) { return add("transpose", {v}, {{"perm", std::vector<int64_t>{0, 3, 1, 2}}}); }
  ir::Value* to_nhwc(ir::Value* v) { return add("transpose", {v}, {{"perm", std::vector<int64_t>{0, 2, 3, 1}}}); }
  const Dims& out_shape(size_t k = 0) const { return t(op->outputs.at(k)).shape; }
};

using Raise = void (*)(Raiser&);

template <const char* Name>
void binary(Raiser& r) {
  r.set(0, r.activation(r.add(Name, {r.in(0), r.in(1)})));
}
template <const char* Name>
void unary(Raiser& r) {
  r.set(0, r.add(Name, {r.in(0)}));
}

#define NAME(id, s) constexpr char id[] = s;
NAME(kAdd, "add") NAME(kSub, "sub") NAME(kMul, "mul") NAME(kDiv, "div") NAME(kMax, "maximum") NAME(kMin, "minimum")
NAME(kPow, "pow") NAME(kFloorDiv, "floor_div") NAME(kMod, "mod") NAME(kLess, "less") NAME(kLessEq, "less_equal")
NAME(kGreater, "greater") NAME(kGreaterEq, "greater_equal") NAME(kEq, "equal") NAME(kNe, "not_equal")
NAME(kAnd, "logical_and") NAME(kOr, "logical_or") NAME(kNot, "logical_not") NAME(kNeg, "neg") NAME(kAbs, "abs")
NAME(kExp, "exp") NAME(kLog, "log") NAME(kSqrt, "sqrt") NAME(kRsqrt, "rsqrt") NAME(kSin, "sin") NAME(kCos, "cos")
NAME(kTanh, "tanh") NAME(kSigmoid, "sigmoid") NAME(kRelu, "relu") NAME(kFloor, "floor") NAME(kCeil, "ceil")
NAME(kRound, "round") NAME(kSign, "sign") NAME(kHardswish, "hardswish")
#undef NAME

void squared_difference(Raiser& r) {
  ir::Value* d = r.add("sub", {r.in(0), r.in(1)});
  r.set(0, r.add("mul", {d, d}));
}
void square(Raiser& r) { r.set(0, r.add("mul", {r.in(0), r.in(0)})); }
void relu6(Raiser& r) { r.set(0, r.add("clamp", {r.in(0)}, {{"min", 0.0}, {"max", 6.0}})); }
void relu_n1_to_1(Raiser& r) { r.set(0, r.add("clamp", {r.in(0)}, {{"min", -1.0}, {"max", 1.0}})); }
void leaky_relu(Raiser& r) { r.set(0, r.add("leaky_relu", {r.in(0)}, {{"alpha", r.op->options.f("alpha", 0.0)}})); }
void elu(Raiser& r) { r.set(0, r.add("elu", {r.in(0)}, {{"alpha", 1.0}})); }
void gelu(Raiser& r) {
  r.set(0, r.add("gelu", {r.in(0)}, {{"approximate", std::string(r.op->options.i("approximate", 0) ? "tanh" : "none")}}));
}
void prelu(Raiser& r) {
  ir::Value* x = r.in(0);
  ir::Value* zero = r.g.constant(ir::Tensor::zeros(x->type.dtype, {}));
  ir::Value* neg = r.add("mul", {r.in(1), r.add("minimum", {x, zero})});
  r.set(0, r.add("add", {r.add("relu", {x}), neg}));
}

void cast(Raiser& r) {
  auto dt = ir_dtype_of(r.t(r.op->outputs[0]).type);
  if (!dt) r.fail("cast to a type the IR lacks");
  r.set(0, r.add("cast", {r.in(0)}, {{"dtype", std::string(ir::dtype_name(*dt))}}));
}

void dequantize(Raiser& r) {
  ir::Value* x = r.in(0);
  // Constant inputs were dequantised when read; f16 widens with a cast.
  r.set(0, x->type.dtype == ir::DType::F32 ? x : r.add("cast", {x}, {{"dtype", std::string("f32")}}));
}

void fully_connected(Raiser& r) {
  ir::Value* x = r.in(0);
  ir::Value* w = r.in(1);
  ir::Value* b = r.opt(2);
  if (r.op->options.i("weights_format", 0) != 0) r.fail("shuffled weights are not supported");
  const int64_t k = r.shape_of(w, 2, "the weights")[1];
  if (k <= 0) r.fail("the weights have no input features");
  if (x->type.shape.empty() || x->type.shape.back() != k || !r.op->options.i("keep_num_dims", 0))
    x = r.add("reshape", {x}, {{"shape", std::vector<int64_t>{x->type.numel() / k, k}}});
  ir::Value* y = r.add("linear", b ? std::vector<ir::Value*>{x, w, b} : std::vector<ir::Value*>{x, w});
  y = r.activation(y);
  if (y->type.shape != r.out_shape()) y = r.add("reshape", {y}, {{"shape", r.out_shape()}});
  r.set(0, y);
}

ir::Value* swap_last(Raiser& r, ir::Value* v) {
  if (v->type.shape.size() < 2) r.fail("adj_x / adj_y need operands of rank 2 or more");
  std::vector<int64_t> perm(v->type.shape.size());
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int64_t>(i);
  std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
  return r.add("transpose", {v}, {{"perm", perm}});
}

void batch_matmul(Raiser& r) {
  ir::Value* a = r.in(0);
  ir::Value* b = r.in(1);
  if (r.op->options.i("adj_x", 0)) a = swap_last(r, a);
  if (r.op->options.i("adj_y", 0)) b = swap_last(r, b);
  r.set(0, r.add("matmul", {a, b}));
}

template <bool Log>
void softmax(Raiser& r) {
  ir::Value* x = r.in(0);
  if (!Log) {
    double beta = r.op->options.f("beta", 0.0);
    if (beta != 1.0)
      x = r.add("mul", {x, r.g.constant(ir::Tensor::scalar_f32(static_cast<float>(beta)).cast(x->type.dtype))});
  }
  r.set(0, r.add(Log ? "log_softmax" : "softmax", {x}, {{"axis", static_cast<int64_t>(x->type.shape.size()) - 1}}));
}

void reshape(Raiser& r) { r.set(0, r.add("reshape", {r.in(0)}, {{"shape", r.out_shape()}})); }

void transpose(Raiser& r) { r.set(0, r.add("transpose", {r.in(0)}, {{"perm", r.const_ints(1)}})); }

// Explicit pads [t, l, b, r] of TFLite SAME/VALID for an NHWC input.
std::vector<int64_t> tfl_pads(int64_t padding, const Dims& in_hw, const Dims& k, const Dims& s, const Dims& d) {
  std::vector<int64_t> p{0, 0, 0, 0};
  if (padding != fb::Padding_SAME) return p;
  // Callers check strides and dilations are >= 1 (no division by zero here).
  for (int i = 0; i < 2; ++i) {
    int64_t eff = (k[i] - 1) * d[i] + 1;
    int64_t o = (in_hw[i] + s[i] - 1) / s[i];
    int64_t total = std::max<int64_t>((o - 1) * s[i] + eff - in_hw[i], 0);
    p[i] = total / 2;
    p[2 + i] = total - total / 2;
  }
  return p;
}

void conv2d(Raiser& r, bool depthwise) {
  ir::Value* x = r.in(0);
  ir::Value* w = r.in(1);
  ir::Value* b = r.opt(2);
  const auto& o = r.op->options;
  Dims xs = x->type.shape, ws = w->type.shape;
  if (xs.size() != 4 || ws.size() != 4) r.fail("input and filter must be rank 4");
  Dims s{o.i("stride_h", 1), o.i("stride_w", 1)}, d{o.i("dilation_h_factor", 1), o.i("dilation_w_factor", 1)};
  if (s[0] < 1 || s[1] < 1 || d[0] < 1 || d[1] < 1) r.fail("strides and dilations must be at least 1");
  if (ws[3] < 1) r.fail("the filter has no input channels");
  Dims k{ws[1], ws[2]};
  int64_t groups;
  ir::Value* wi;
  if (depthwise) {
    wi = r.add("transpose", {w}, {{"perm", std::vector<int64_t>{3, 0, 1, 2}}});  // [1,KH,KW,O] -> [O,1,KH,KW]
    groups = xs[3];
  } else {
    wi = r.add("transpose", {w}, {{"perm", std::vector<int64_t>{0, 3, 1, 2}}});  // OHWI -> OIHW
    if (xs[3] % ws[3] != 0) r.fail("input channels are not a multiple of the filter's");
    groups = xs[3] / ws[3];
  }
  auto pads = tfl_pads(o.i("padding", 0), {xs[1], xs[2]}, k, s, d);
  ir::Attrs a{{"strides", s}, {"dilations", d}, {"pads", pads}, {"groups", groups}};
  std::vector<ir::Value*> ins{r.to_nchw(x), wi};
  if (b) ins.push_back(b);
  ir::Value* y = r.add("conv", ins, a);
  r.set(0, r.activation(r.to_nhwc(y)));
}
void conv_2d(Raiser& r) { conv2d(r, false); }
void depthwise_conv_2d(Raiser& r) { conv2d(r, true); }

void transpose_conv(Raiser& r) {
  Dims oshape = r.out_shape();
  ir::Value* w = r.in(1);
  ir::Value* x = r.in(2);
  ir::Value* b = r.opt(3);
  const auto& o = r.op->options;
  Dims xs = r.shape_of(x, 4, "the input"), ws = r.shape_of(w, 4, "the filter");
  if (oshape.size() != 4) r.fail("the output must be rank 4");
  Dims s{o.i("stride_h", 1), o.i("stride_w", 1)};
  std::vector<int64_t> pads(4, 0), opad(2, 0);
  for (int i = 0; i < 2; ++i) {
    int64_t total = (xs[1 + i] - 1) * s[i] + ws[1 + i] - oshape[1 + i];
    if (total >= 0) {
      pads[i] = total / 2;
      pads[2 + i] = total - total / 2;
    } else {
      opad[i] = -total;
    }
  }
  ir::Value* wi = r.add("transpose", {w}, {{"perm", std::vector<int64_t>{3, 0, 1, 2}}});  // OHWI -> [I, O, KH, KW]
  std::vector<ir::Value*> ins{r.to_nchw(x), wi};
  if (b) ins.push_back(b);
  ir::Value* y = r.add("conv_transpose", ins,
                       {{"strides", s}, {"pads", pads}, {"output_padding", opad}, {"dilations", Dims{1, 1}}, {"groups", int64_t(1)}});
  r.set(0, r.activation(r.to_nhwc(y)));
}

template <bool Max>
void pool2d(Raiser& r) {
  ir::Value* x = r.in(0);
  const auto& o = r.op->options;
  Dims xs = r.shape_of(x, 4, "the input");
  Dims k{o.i("filter_height", 0), o.i("filter_width", 0)}, s{o.i("stride_h", 1), o.i("stride_w", 1)};
  if (s[0] < 1 || s[1] < 1) r.fail("strides must be at least 1");
  auto pads = tfl_pads(o.i("padding", 0), {xs[1], xs[2]}, k, s, {1, 1});
  ir::Attrs a{{"kernel", k}, {"strides", s}, {"pads", pads}, {"ceil_mode", int64_t(0)}};
  if (!Max) a.set("count_include_pad", int64_t(0));
  ir::Value* y = r.add(Max ? "max_pool" : "avg_pool", {r.to_nchw(x)}, a);
  r.set(0, r.activation(r.to_nhwc(y)));
}

template <const char* Name>
void reduce(Raiser& r) {
  ir::Value* x = r.in(0);
  std::vector<int64_t> axes;
  for (int64_t a : r.const_ints(1)) {
    a = ir::normalize_axis(a, static_cast<int64_t>(x->type.shape.size()));
    if (std::find(axes.begin(), axes.end(), a) == axes.end()) axes.push_back(a);
  }
  std::sort(axes.begin(), axes.end());
  if (axes.empty()) return r.set(0, x);
  r.set(0, r.add(Name, {x}, {{"axes", axes}, {"keepdims", r.op->options.i("keep_dims", 0)}}));
}
constexpr char kRSum[] = "reduce_sum", kRMean[] = "reduce_mean", kRMax[] = "reduce_max", kRMin[] = "reduce_min",
               kRProd[] = "reduce_prod";

void concatenation(Raiser& r) {
  std::vector<ir::Value*> xs;
  for (size_t i = 0; i < r.op->inputs.size(); ++i) xs.push_back(r.in(i));
  if (xs.empty()) r.fail("no inputs");
  int64_t axis = ir::normalize_axis(r.op->options.i("axis", 0), static_cast<int64_t>(xs.at(0)->type.shape.size()));
  r.set(0, r.activation(r.add("concat", xs, {{"axis", axis}})));
}

void gather(Raiser& r) {
  if (r.op->options.i("batch_dims", 0) != 0) r.fail("batch_dims is not supported");
  ir::Value* x = r.in(0);
  int64_t axis = ir::normalize_axis(r.op->options.i("axis", 0), static_cast<int64_t>(x->type.shape.size()));
  r.set(0, r.add("gather", {x, r.in(1)}, {{"axis", axis}}));
}

// GATHER_ND: linearise the leading r coordinates and gather from x viewed
// as [prod(shape[:r]), shape[r:]...].
void gather_nd(Raiser& r) {
  ir::Value* x = r.in(0);
  ir::Value* idx = r.in(1);
  Dims xs = x->type.shape, is = idx->type.shape;
  if (is.empty()) r.fail("indices must have rank >= 1");
  const int64_t depth = is.back();
  if (depth < 1 || depth > static_cast<int64_t>(xs.size())) r.fail("index depth must be between 1 and the params rank");
  Dims lead(is.begin(), is.end() - 1);
  ir::Value* linear = nullptr;
  int64_t stride = 1;
  for (int64_t d = depth - 1; d >= 0; --d) {
    ir::Value* c = r.add("slice", {idx}, {{"axes", Dims{static_cast<int64_t>(is.size()) - 1}}, {"starts", Dims{d}}, {"ends", Dims{d + 1}}});
    c = r.add("reshape", {c}, {{"shape", lead}});
    ir::Tensor st = ir::Tensor::scalar_i64(stride).cast(idx->type.dtype);
    c = r.add("mul", {c, r.g.constant(st)});
    linear = linear ? r.add("add", {linear, c}) : c;
    stride *= xs[d];
  }
  Dims flat{stride};
  flat.insert(flat.end(), xs.begin() + depth, xs.end());
  ir::Value* xf = r.add("reshape", {x}, {{"shape", flat}});
  r.set(0, r.add("gather", {xf, linear}, {{"axis", int64_t(0)}}));
}

void embedding_lookup(Raiser& r) { r.set(0, r.add("gather", {r.in(1), r.in(0)}, {{"axis", int64_t(0)}})); }

// Normalised IR slice from begin/end/stride; shrink handled by a reshape.
void strided_slice(Raiser& r) {
  ir::Value* x = r.in(0);
  const auto& o = r.op->options;
  if (o.i("ellipsis_mask", 0) || o.i("new_axis_mask", 0) || o.i("offset", 0))
    r.fail("ellipsis_mask, new_axis_mask and offset are not supported");
  Dims xs = x->type.shape;
  // begin may cover only the leading axes; end and strides match it.
  auto begin = r.const_ints(1);
  if (begin.size() > xs.size()) r.fail(fmt::format("begin has {} values for an input of rank {}", begin.size(), xs.size()));
  auto end = r.const_ints(2, begin.size(), "end"), stride = r.const_ints(3, begin.size(), "strides");
  const int64_t bm = o.i("begin_mask", 0), em = o.i("end_mask", 0), sm = o.i("shrink_axis_mask", 0);
  std::vector<int64_t> axes, starts, ends, steps;
  for (size_t a = 0; a < begin.size(); ++a) {
    int64_t dim = xs[a], st = stride[a];
    if (st <= 0) r.fail("negative strides are not supported");
    int64_t b = begin[a] < 0 ? begin[a] + dim : begin[a];
    int64_t e = end[a] < 0 ? end[a] + dim : end[a];
    if (bm & (1 << a)) b = 0;
    if (em & (1 << a)) e = dim;
    if (sm & (1 << a)) e = b + 1;
    b = std::clamp<int64_t>(b, 0, dim);
    e = std::clamp<int64_t>(e, b, dim);
    if (b == 0 && e == dim && st == 1) continue;
    axes.push_back(static_cast<int64_t>(a));
    starts.push_back(b);
    ends.push_back(e);
    steps.push_back(st);
  }
  ir::Value* y = axes.empty() ? x : r.add("slice", {x}, {{"axes", axes}, {"starts", starts}, {"ends", ends}, {"steps", steps}});
  if (y->type.shape != r.out_shape()) y = r.add("reshape", {y}, {{"shape", r.out_shape()}});
  r.set(0, y);
}

void slice(Raiser& r) {
  ir::Value* x = r.in(0);
  auto begin = r.const_ints(1), size = r.const_ints(2);
  Dims xs = x->type.shape;
  if (begin.size() != xs.size() || size.size() != xs.size())
    r.fail(fmt::format("begin has {} values and size {} for an input of rank {}", begin.size(), size.size(), xs.size()));
  std::vector<int64_t> axes, starts, ends;
  for (size_t a = 0; a < begin.size(); ++a) {
    int64_t e = size[a] < 0 ? xs[a] : begin[a] + size[a];
    if (begin[a] == 0 && e == xs[a]) continue;
    axes.push_back(static_cast<int64_t>(a));
    starts.push_back(begin[a]);
    ends.push_back(e);
  }
  r.set(0, axes.empty() ? x : r.add("slice", {x}, {{"axes", axes}, {"starts", starts}, {"ends", ends}}));
}

void pad_op(Raiser& r) {
  ir::Value* x = r.in(0);
  const size_t rank = x->type.shape.size();
  auto p = r.const_ints(1, 2 * rank, "paddings");
  std::vector<int64_t> pads(2 * rank);
  for (size_t a = 0; a < rank; ++a) {
    pads[a] = p[2 * a];
    pads[rank + a] = p[2 * a + 1];
  }
  ir::Attrs at{{"pads", pads}, {"mode", std::string("constant")}, {"value", 0.0}};
  if (r.op->code == Op::BuiltinOperator_PADV2 && r.op->inputs.size() > 2) at.set("value", r.const_scalar(2));
  if (r.op->code == Op::BuiltinOperator_MIRROR_PAD) {
    if (r.op->options.i("mode", 0) != fb::MirrorPadMode_REFLECT) r.fail("SYMMETRIC mirror padding is not supported");
    at.set("mode", std::string("reflect"));
  }
  r.set(0, r.add("pad", {x}, at));
}

template <bool Bilinear>
void resize(Raiser& r) {
  ir::Value* x = r.in(0);
  auto size = r.const_ints(1);
  bool ac = r.op->options.i("align_corners", 0) != 0, hp = r.op->options.i("half_pixel_centers", 0) != 0;
  ir::Attrs a{{"sizes", size}};
  if (Bilinear) {
    if (!ac && !hp) r.fail("legacy resize (neither align_corners nor half_pixel_centers) has no IR equivalent");
    a.set("mode", std::string("linear"));
    a.set("align_corners", int64_t(ac));
  } else {
    if (ac || hp) r.fail("nearest resize with align_corners or half_pixel_centers has no IR equivalent");
    a.set("mode", std::string("nearest"));
    a.set("align_corners", int64_t(0));
  }
  r.set(0, r.to_nhwc(r.add("resize", {r.to_nchw(x)}, a)));
}

template <bool Max>
void argreduce(Raiser& r) {
  ir::Value* x = r.in(0);
  int64_t axis = ir::normalize_axis(r.const_int(1, "axis"), static_cast<int64_t>(x->type.shape.size()));
  r.set(0, r.add(Max ? "argmax" : "argmin", {x}, {{"axis", axis}, {"keepdims", int64_t(0)}}));
}

void select(Raiser& r) { r.set(0, r.add("where", {r.in(0), r.in(1), r.in(2)})); }
void broadcast_to(Raiser& r) { r.set(0, r.add("expand", {r.in(0)}, {{"shape", r.out_shape()}})); }
void tile(Raiser& r) { r.set(0, r.add("tile", {r.in(0)}, {{"repeats", r.const_ints(1)}})); }
void cumsum(Raiser& r) {
  ir::Value* x = r.in(0);
  int64_t axis = ir::normalize_axis(r.const_int(1, "axis"), static_cast<int64_t>(x->type.shape.size()));
  r.set(0, r.add("cumsum", {x}, {{"axis", axis}, {"exclusive", r.op->options.i("exclusive", 0)},
                                 {"reverse", r.op->options.i("reverse", 0)}}));
}

void pack(Raiser& r) {
  int64_t axis = r.op->options.i("axis", 0);
  std::vector<ir::Value*> parts;
  for (size_t i = 0; i < r.op->inputs.size(); ++i) {
    ir::Value* x = r.in(i);
    Dims s = x->type.shape;
    int64_t a = axis < 0 ? axis + static_cast<int64_t>(s.size()) + 1 : axis;
    if (a < 0 || a > static_cast<int64_t>(s.size())) r.fail(fmt::format("axis {} out of range for rank {}", axis, s.size()));
    s.insert(s.begin() + a, 1);
    parts.push_back(r.add("reshape", {x}, {{"shape", s}}));
  }
  int64_t a = axis < 0 ? axis + static_cast<int64_t>(r.out_shape().size()) : axis;
  r.set(0, r.add("concat", parts, {{"axis", a}}));
}

void split_common(Raiser& r, ir::Value* x, int64_t axis, const std::vector<int64_t>& sizes) {
  int64_t start = 0;
  for (size_t k = 0; k < sizes.size(); ++k) {
    ir::Value* y = r.add("slice", {x}, {{"axes", Dims{axis}}, {"starts", Dims{start}}, {"ends", Dims{start + sizes[k]}}});
    start += sizes[k];
    r.set(k, y);
  }
}
void split(Raiser& r) {
  ir::Value* x = r.in(1);
  int64_t axis = ir::normalize_axis(r.const_int(0, "axis"), static_cast<int64_t>(x->type.shape.size()));
  int64_t n = static_cast<int64_t>(r.op->outputs.size());
  if (n == 0) r.fail("no outputs");
  split_common(r, x, axis, std::vector<int64_t>(n, x->type.shape[axis] / n));
}
void split_v(Raiser& r) {
  ir::Value* x = r.in(0);
  int64_t axis = ir::normalize_axis(r.const_int(2, "axis"), static_cast<int64_t>(x->type.shape.size()));
  std::vector<int64_t> sizes;
  for (size_t k = 0; k < r.op->outputs.size(); ++k) {
    if (r.out_shape(k).size() != x->type.shape.size()) r.fail(fmt::format("output {} does not have the input's rank", k));
    sizes.push_back(r.out_shape(k)[axis]);
  }
  split_common(r, x, axis, sizes);
}
void unpack(Raiser& r) {
  ir::Value* x = r.in(0);
  int64_t axis = ir::normalize_axis(r.op->options.i("axis", 0), static_cast<int64_t>(x->type.shape.size()));
  for (size_t k = 0; k < r.op->outputs.size(); ++k) {
    int64_t s = static_cast<int64_t>(k);
    ir::Value* y = r.add("slice", {x}, {{"axes", Dims{axis}}, {"starts", Dims{s}}, {"ends", Dims{s + 1}}});
    r.set(k, r.add("reshape", {y}, {{"shape", r.out_shape(k)}}));
  }
}

const std::unordered_map<int32_t, Raise>& raisers() {
  static const std::unordered_map<int32_t, Raise> t = {
      {Op::BuiltinOperator_ADD, binary<kAdd>},
      {Op::BuiltinOperator_SUB, binary<kSub>},
      {Op::BuiltinOperator_MUL, binary<kMul>},
      {Op::BuiltinOperator_DIV, binary<kDiv>},
      {Op::BuiltinOperator_MAXIMUM, binary<kMax>},
      {Op::BuiltinOperator_MINIMUM, binary<kMin>},
      {Op::BuiltinOperator_POW, binary<kPow>},
      {Op::BuiltinOperator_FLOOR_DIV, binary<kFloorDiv>},
      {Op::BuiltinOperator_FLOOR_MOD, binary<kMod>},
      {Op::BuiltinOperator_LESS, binary<kLess>},
      {Op::BuiltinOperator_LESS_EQUAL, binary<kLessEq>},
      {Op::BuiltinOperator_GREATER, binary<kGreater>},
      {Op::BuiltinOperator_GREATER_EQUAL, binary<kGreaterEq>},
      {Op::BuiltinOperator_EQUAL, binary<kEq>},
      {Op::BuiltinOperator_NOT_EQUAL, binary<kNe>},
      {Op::BuiltinOperator_LOGICAL_AND, binary<kAnd>},
      {Op::BuiltinOperator_LOGICAL_OR, binary<kOr>},
      {Op::BuiltinOperator_LOGICAL_NOT, unary<kNot>},
      {Op::BuiltinOperator_SQUARED_DIFFERENCE, squared_difference},
      {Op::BuiltinOperator_SQUARE, square},
      {Op::BuiltinOperator_NEG, unary<kNeg>},
      {Op::BuiltinOperator_ABS, unary<kAbs>},
      {Op::BuiltinOperator_EXP, unary<kExp>},
      {Op::BuiltinOperator_LOG, unary<kLog>},
      {Op::BuiltinOperator_SQRT, unary<kSqrt>},
      {Op::BuiltinOperator_RSQRT, unary<kRsqrt>},
      {Op::BuiltinOperator_SIN, unary<kSin>},
      {Op::BuiltinOperator_COS, unary<kCos>},
      {Op::BuiltinOperator_TANH, unary<kTanh>},
      {Op::BuiltinOperator_LOGISTIC, unary<kSigmoid>},
      {Op::BuiltinOperator_RELU, unary<kRelu>},
      {Op::BuiltinOperator_RELU6, relu6},
      {Op::BuiltinOperator_RELU_N1_TO_1, relu_n1_to_1},
      {Op::BuiltinOperator_FLOOR, unary<kFloor>},
      {Op::BuiltinOperator_CEIL, unary<kCeil>},
      {Op::BuiltinOperator_ROUND, unary<kRound>},
      {Op::BuiltinOperator_SIGN, unary<kSign>},
      {Op::BuiltinOperator_HARD_SWISH, unary<kHardswish>},
      {Op::BuiltinOperator_LEAKY_RELU, leaky_relu},
      {Op::BuiltinOperator_ELU, elu},
      {Op::BuiltinOperator_GELU, gelu},
      {Op::BuiltinOperator_PRELU, prelu},
      {Op::BuiltinOperator_CAST, cast},
      {Op::BuiltinOperator_DEQUANTIZE, dequantize},
      {Op::BuiltinOperator_FULLY_CONNECTED, fully_connected},
      {Op::BuiltinOperator_BATCH_MATMUL, batch_matmul},
      {Op::BuiltinOperator_SOFTMAX, softmax<false>},
      {Op::BuiltinOperator_LOG_SOFTMAX, softmax<true>},
      {Op::BuiltinOperator_RESHAPE, reshape},
      {Op::BuiltinOperator_SQUEEZE, reshape},
      {Op::BuiltinOperator_EXPAND_DIMS, reshape},
      {Op::BuiltinOperator_TRANSPOSE, transpose},
      {Op::BuiltinOperator_CONV_2D, conv_2d},
      {Op::BuiltinOperator_DEPTHWISE_CONV_2D, depthwise_conv_2d},
      {Op::BuiltinOperator_TRANSPOSE_CONV, transpose_conv},
      {Op::BuiltinOperator_AVERAGE_POOL_2D, pool2d<false>},
      {Op::BuiltinOperator_MAX_POOL_2D, pool2d<true>},
      {Op::BuiltinOperator_MEAN, reduce<kRMean>},
      {Op::BuiltinOperator_SUM, reduce<kRSum>},
      {Op::BuiltinOperator_REDUCE_MAX, reduce<kRMax>},
      {Op::BuiltinOperator_REDUCE_MIN, reduce<kRMin>},
      {Op::BuiltinOperator_REDUCE_PROD, reduce<kRProd>},
      {Op::BuiltinOperator_CONCATENATION, concatenation},
      {Op::BuiltinOperator_GATHER, gather},
      {Op::BuiltinOperator_EMBEDDING_LOOKUP, embedding_lookup},
      {Op::BuiltinOperator_GATHER_ND, gather_nd},
      {Op::BuiltinOperator_STRIDED_SLICE, strided_slice},
      {Op::BuiltinOperator_SLICE, slice},
      {Op::BuiltinOperator_PAD, pad_op},
      {Op::BuiltinOperator_PADV2, pad_op},
      {Op::BuiltinOperator_MIRROR_PAD, pad_op},
      {Op::BuiltinOperator_RESIZE_BILINEAR, resize<true>},
      {Op::BuiltinOperator_RESIZE_NEAREST_NEIGHBOR, resize<false>},
      {Op::BuiltinOperator_ARG_MAX, argreduce<true>},
      {Op::BuiltinOperator_ARG_MIN, argreduce<false>},
      {Op::BuiltinOperator_SELECT, select},
      {Op::BuiltinOperator_SELECT_V2, select},
      {Op::BuiltinOperator_BROADCAST_TO, broadcast_to},
      {Op::BuiltinOperator_TILE, tile},
      {Op::BuiltinOperator_CUMSUM, cumsum},
      {Op::BuiltinOperator_PACK, pack},
      {Op::BuiltinOperator_UNPACK, unpack},
      {Op::BuiltinOperator_SPLIT, split},
      {Op::BuiltinOperator_SPLIT_V, split_v},
  };
  return t;
}

// Signature alias of a subgraph tensor (first signature), else its name.
std::string io_name(const TflModel& m, int32_t t, bool input) {
  if (!m.signatures.empty()) {
    const auto& v = input ? m.signatures[0].inputs : m.signatures[0].outputs;
    for (const auto& [alias, idx] : v)
      if (idx == t && !alias.empty()) return alias;
  }
  return m.tensors[t].name;
}

}  // namespace

ir::Graph raise_model(const TflModel& m, const std::string& what) {
  Raiser r(m, what);
  auto first_user = [&](int32_t t) -> std::string {
    for (size_t k = 0; k < m.ops.size(); ++k)
      for (int32_t i : m.ops[k].inputs)
        if (i == t) return fmt::format("operator {} ({}): ", k, builtin_name(m.ops[k].code));
    return "";
  };
  for (int32_t i : m.inputs) {
    const TflTensor& tt = m.tensors[i];
    auto dt = ir_dtype_of(tt.type);
    if (!dt || !tt.quant.empty())
      throw TfliteError(fmt::format("{}: {}input '{}' is {}{}, which the IR cannot represent", what, first_user(i),
                                    tt.name, tfl_type_name(static_cast<int8_t>(tt.type)),
                                    tt.quant.empty() ? "" : " (quantized activation)"));
    r.values[i] = r.g.add_input(io_name(m, i, true), ir::TensorType{*dt, tt.shape});
  }
  for (size_t k = 0; k < m.ops.size(); ++k) {
    r.op = &m.ops[k];
    r.op_index = k;
    auto it = raisers().find(r.op->code);
    if (it == raisers().end()) r.fail("this builtin operator is not supported by the reader");
    for (int32_t o : r.op->outputs)
      if (!m.tensors[o].quant.empty() && m.tensors[o].type != TflType::F32)
        r.fail(fmt::format("quantized activation '{}' ({}) is not supported", m.tensors[o].name,
                           tfl_type_name(static_cast<int8_t>(m.tensors[o].type))));
    try {
      it->second(r);
    } catch (const TfliteError&) {
      throw;
    } catch (const std::exception& e) {
      r.fail(e.what());
    }
  }
  r.op = nullptr;
  for (int32_t o : m.outputs) r.g.add_output(r.val(o), io_name(m, o, false));
  r.g.metadata["description"] = m.description;
  for (const auto& [k, v] : m.metadata)
    if (k != "min_runtime_version" && v.find('\0') == std::string::npos) r.g.metadata[k] = v;
  if (m.description.empty()) r.g.metadata.erase("description");
  return std::move(r.g);
}

}  // namespace exporters::tflite
