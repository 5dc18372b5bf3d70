// The canonical op table: one row per op with its arity and type inference.
// Semantics are documented in sdk/include/exporters/ir/ops.hpp.
#include "exporters/ir/ops.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <unordered_map>

namespace exporters::ir {

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      throw IrError(fmt::format("shapes [{}] and [{}] do not broadcast", shape_to_string(a), shape_to_string(b)));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int64_t normalize_axis(int64_t axis, int64_t rank) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= std::max<int64_t>(rank, 1))
    throw IrError(fmt::format("axis {} out of range for rank {}", axis, rank));
  return a;
}

namespace {

using Types = std::vector<const TensorType*>;
using Out = std::vector<TensorType>;

const TensorType& in(const Types& t, size_t i) {
  if (i >= t.size() || !t[i]) throw IrError(fmt::format("input {} is missing", i));
  return *t[i];
}

void require(bool ok, const std::string& msg) {
  if (!ok) throw IrError(msg);
}

void require_same_dtype(const Types& t, size_t a, size_t b) {
  require(in(t, a).dtype == in(t, b).dtype,
          fmt::format("inputs {} and {} have different dtypes ({} vs {})", a, b, dtype_name(in(t, a).dtype),
                      dtype_name(in(t, b).dtype)));
}

void require_axes(const std::vector<int64_t>& axes, int64_t rank, const char* what) {
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    require(a >= 0 && a < rank, fmt::format("{} has axis {} outside [0, {})", what, a, rank));
    require(!seen[a], fmt::format("{} repeats axis {}", what, a));
    seen[a] = true;
  }
}

Out same_as_input(const Types& t, const Attrs&) { return {in(t, 0)}; }

Out binary(const Types& t, const Attrs&) {
  require_same_dtype(t, 0, 1);
  return {{in(t, 0).dtype, broadcast_shapes(in(t, 0).shape, in(t, 1).shape)}};
}

Out compare(const Types& t, const Attrs&) {
  require_same_dtype(t, 0, 1);
  return {{DType::Bool, broadcast_shapes(in(t, 0).shape, in(t, 1).shape)}};
}

Out logical(const Types& t, const Attrs&) {
  require(in(t, 0).dtype == DType::Bool && in(t, 1).dtype == DType::Bool, "inputs must be bool");
  return {{DType::Bool, broadcast_shapes(in(t, 0).shape, in(t, 1).shape)}};
}

Out float_unary(const Types& t, const Attrs&) {
  require(is_float(in(t, 0).dtype), fmt::format("input must be f32 or f16, got {}", dtype_name(in(t, 0).dtype)));
  return {in(t, 0)};
}

Out numeric_unary(const Types& t, const Attrs&) {
  require(in(t, 0).dtype != DType::Bool, "input must be numeric, got bool");
  return {in(t, 0)};
}

Out constant(const Types&, const Attrs& attrs) { return {attrs.tensor("value").type()}; }

Out cast(const Types& t, const Attrs& attrs) {
  auto d = dtype_from_name(attrs.s("dtype"));
  require(d.has_value(), fmt::format("unknown dtype '{}'", attrs.s("dtype")));
  return {{*d, in(t, 0).shape}};
}

Out where(const Types& t, const Attrs&) {
  require(in(t, 0).dtype == DType::Bool, "condition must be bool");
  require_same_dtype(t, 1, 2);
  Shape s = broadcast_shapes(broadcast_shapes(in(t, 0).shape, in(t, 1).shape), in(t, 2).shape);
  return {{in(t, 1).dtype, s}};
}

Out clamp(const Types& t, const Attrs& attrs) {
  require(in(t, 0).dtype != DType::Bool, "input must be numeric");
  if (attrs.has("min")) attrs.f("min");
  if (attrs.has("max")) attrs.f("max");
  return {in(t, 0)};
}

Out matmul(const Types& t, const Attrs&) {
  const auto& a = in(t, 0);
  const auto& b = in(t, 1);
  require_same_dtype(t, 0, 1);
  require(a.rank() >= 2 && b.rank() >= 2, "inputs must have rank >= 2");
  int64_t k = a.shape[a.rank() - 1];
  require(k == b.shape[b.rank() - 2],
          fmt::format("inner dimensions differ: [{}] x [{}]", shape_to_string(a.shape), shape_to_string(b.shape)));
  Shape ba(a.shape.begin(), a.shape.end() - 2), bb(b.shape.begin(), b.shape.end() - 2);
  Shape out = broadcast_shapes(ba, bb);
  out.push_back(a.shape[a.rank() - 2]);
  out.push_back(b.shape[b.rank() - 1]);
  return {{a.dtype, out}};
}

Out linear(const Types& t, const Attrs&) {
  const auto& x = in(t, 0);
  const auto& w = in(t, 1);
  require_same_dtype(t, 0, 1);
  require(x.rank() >= 1 && w.rank() == 2, "x must have rank >= 1 and weight rank 2");
  require(x.shape.back() == w.shape[1],
          fmt::format("x's last dimension {} differs from weight's in_features {}", x.shape.back(), w.shape[1]));
  if (t.size() > 2 && t[2]) {
    require(t[2]->rank() == 1 && t[2]->shape[0] == w.shape[0], "bias must be [out_features]");
    require_same_dtype(t, 0, 2);
  }
  Shape out = x.shape;
  out.back() = w.shape[0];
  return {{x.dtype, out}};
}

int64_t spatial_out(int64_t in, int64_t k, int64_t stride, int64_t dil, int64_t pb, int64_t pe, bool ceil_mode) {
  int64_t eff = dil * (k - 1) + 1;
  int64_t num = in + pb + pe - eff;
  require(num >= 0, fmt::format("kernel extent {} larger than padded input {}", eff, in + pb + pe));
  int64_t out = (ceil_mode ? (num + stride - 1) / stride : num / stride) + 1;
  // PyTorch: the last pooling window must start inside the input or left padding.
  if (ceil_mode && (out - 1) * stride >= in + pb) --out;
  return out;
}

std::vector<int64_t> attr_or(const Attrs& attrs, const char* key, size_t n, int64_t fill) {
  auto v = attrs.ints(key, std::vector<int64_t>(n, fill));
  require(v.size() == n, fmt::format("attribute '{}' needs {} values, got {}", key, n, v.size()));
  return v;
}

Out conv(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  const auto& w = in(t, 1);
  require_same_dtype(t, 0, 1);
  require(x.rank() == 3 || x.rank() == 4, "x must be [N, C, L] or [N, C, H, W]");
  require(w.rank() == x.rank(), "weight rank must equal input rank");
  const size_t sp = static_cast<size_t>(x.rank() - 2);
  int64_t groups = attrs.i("groups", 1);
  require(groups >= 1 && x.shape[1] % groups == 0 && w.shape[0] % groups == 0, "bad groups");
  require(w.shape[1] * groups == x.shape[1],
          fmt::format("weight expects {} input channels, x has {}", w.shape[1] * groups, x.shape[1]));
  auto strides = attr_or(attrs, "strides", sp, 1);
  auto dil = attr_or(attrs, "dilations", sp, 1);
  auto pads = attr_or(attrs, "pads", 2 * sp, 0);
  if (t.size() > 2 && t[2]) require(t[2]->rank() == 1 && t[2]->shape[0] == w.shape[0], "bias must be [O]");
  Shape out = {x.shape[0], w.shape[0]};
  for (size_t i = 0; i < sp; ++i)
    out.push_back(spatial_out(x.shape[2 + i], w.shape[2 + i], strides[i], dil[i], pads[i], pads[sp + i], false));
  return {{x.dtype, out}};
}

Out conv_transpose(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  const auto& w = in(t, 1);
  require_same_dtype(t, 0, 1);
  require(x.rank() == 3 || x.rank() == 4, "x must be [N, C, L] or [N, C, H, W]");
  require(w.rank() == x.rank(), "weight rank must equal input rank");
  const size_t sp = static_cast<size_t>(x.rank() - 2);
  int64_t groups = attrs.i("groups", 1);
  require(w.shape[0] == x.shape[1], "weight's first dimension must equal input channels");
  require(groups >= 1 && x.shape[1] % groups == 0, "bad groups");
  auto strides = attr_or(attrs, "strides", sp, 1);
  auto dil = attr_or(attrs, "dilations", sp, 1);
  auto pads = attr_or(attrs, "pads", 2 * sp, 0);
  auto opad = attr_or(attrs, "output_padding", sp, 0);
  Shape out = {x.shape[0], w.shape[1] * groups};
  if (t.size() > 2 && t[2]) require(t[2]->rank() == 1 && t[2]->shape[0] == out[1], "bias must be [O]");
  for (size_t i = 0; i < sp; ++i) {
    int64_t o = (x.shape[2 + i] - 1) * strides[i] - pads[i] - pads[sp + i] + dil[i] * (w.shape[2 + i] - 1) +
                opad[i] + 1;
    require(o > 0, "non-positive output size");
    out.push_back(o);
  }
  return {{x.dtype, out}};
}

Out layer_norm(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  require(is_float(x.dtype), "input must be float");
  const auto& axes = attrs.ints("axes");
  require(!axes.empty(), "axes must not be empty");
  require_axes(axes, x.rank(), "axes");
  for (size_t i = 0; i < axes.size(); ++i)
    require(axes[i] == x.rank() - static_cast<int64_t>(axes.size()) + static_cast<int64_t>(i),
            "axes must be the trailing axes in order");
  attrs.f("epsilon");
  Shape norm(x.shape.end() - static_cast<int64_t>(axes.size()), x.shape.end());
  for (size_t i = 1; i < 3 && i < t.size(); ++i)
    if (t[i]) require(t[i]->shape == norm && t[i]->dtype == x.dtype, "gamma/beta must match the normalised shape");
  return {x};
}

Out group_norm(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  require(is_float(x.dtype) && x.rank() >= 2, "input must be float [N, C, ...]");
  int64_t g = attrs.i("groups");
  require(g >= 1 && x.shape[1] % g == 0, "channels must divide into groups");
  attrs.f("epsilon");
  for (size_t i = 1; i < 3 && i < t.size(); ++i)
    if (t[i]) require(t[i]->shape == Shape{x.shape[1]}, "gamma/beta must be [C]");
  return {x};
}

Out batch_norm(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  require(is_float(x.dtype) && x.rank() >= 2, "input must be float [N, C, ...]");
  attrs.f("epsilon");
  for (size_t i = 1; i < 5 && i < t.size(); ++i)
    if (t[i]) require(t[i]->shape == Shape{x.shape[1]}, "mean/var/gamma/beta must be [C]");
  return {x};
}

Out softmax(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  require(is_float(x.dtype), "input must be float");
  int64_t axis = attrs.i("axis");
  require(axis >= 0 && axis < std::max<int64_t>(x.rank(), 1), "axis out of range");
  return {x};
}

Out reduce(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  auto axes = attrs.ints("axes", {});
  require_axes(axes, x.rank(), "axes");
  bool keep = attrs.i("keepdims", 0) != 0;
  if (axes.empty())
    for (int64_t i = 0; i < x.rank(); ++i) axes.push_back(i);
  Shape out;
  for (int64_t i = 0; i < x.rank(); ++i) {
    bool reduced = std::find(axes.begin(), axes.end(), i) != axes.end();
    if (!reduced) out.push_back(x.shape[i]);
    else if (keep) out.push_back(1);
  }
  return {{x.dtype, out}};
}

Out argreduce(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  int64_t axis = attrs.i("axis");
  require(axis >= 0 && axis < x.rank(), "axis out of range");
  Shape out = x.shape;
  if (attrs.i("keepdims", 0)) out[axis] = 1;
  else out.erase(out.begin() + axis);
  return {{DType::I64, out}};
}

Out cumsum(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  int64_t axis = attrs.i("axis");
  require(axis >= 0 && axis < std::max<int64_t>(x.rank(), 1), "axis out of range");
  return {x};
}

Out reshape(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  const auto& shape = attrs.ints("shape");
  for (int64_t d : shape) require(d >= 0, fmt::format("shape [{}] must be fully specified", shape_to_string(shape)));
  require(shape_numel(shape) == x.numel(), fmt::format("cannot reshape [{}] to [{}]", shape_to_string(x.shape),
                                                       shape_to_string(shape)));
  return {{x.dtype, shape}};
}

Out transpose(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  const auto& perm = attrs.ints("perm");
  require(static_cast<int64_t>(perm.size()) == x.rank(), "perm length must equal the rank");
  require_axes(perm, x.rank(), "perm");
  Shape out;
  for (int64_t p : perm) out.push_back(x.shape[p]);
  return {{x.dtype, out}};
}

Out slice(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  const auto& axes = attrs.ints("axes");
  const auto& starts = attrs.ints("starts");
  const auto& ends = attrs.ints("ends");
  auto steps = attrs.ints("steps", std::vector<int64_t>(axes.size(), 1));
  require(starts.size() == axes.size() && ends.size() == axes.size() && steps.size() == axes.size(),
          "axes, starts, ends and steps need equal lengths");
  require_axes(axes, x.rank(), "axes");
  Shape out = x.shape;
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t dim = x.shape[axes[i]];
    require(steps[i] > 0, "steps must be positive");
    require(0 <= starts[i] && starts[i] <= ends[i] && ends[i] <= dim,
            fmt::format("slice [{}:{}] is not normalised for axis {} of size {}", starts[i], ends[i], axes[i], dim));
    out[axes[i]] = (ends[i] - starts[i] + steps[i] - 1) / steps[i];
  }
  return {{x.dtype, out}};
}

Out concat(const Types& t, const Attrs& attrs) {
  require(!t.empty(), "needs at least one input");
  const auto& x = in(t, 0);
  int64_t axis = attrs.i("axis");
  require(axis >= 0 && axis < x.rank(), "axis out of range");
  Shape out = x.shape;
  for (size_t i = 1; i < t.size(); ++i) {
    const auto& y = in(t, i);
    require(y.dtype == x.dtype && y.rank() == x.rank(), fmt::format("input {} differs in dtype or rank", i));
    for (int64_t d = 0; d < x.rank(); ++d)
      if (d != axis) require(y.shape[d] == x.shape[d], fmt::format("input {} differs on axis {}", i, d));
    out[axis] += y.shape[axis];
  }
  return {{x.dtype, out}};
}

Out expand(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  const auto& shape = attrs.ints("shape");
  require(broadcast_shapes(x.shape, shape) == shape,
          fmt::format("[{}] does not broadcast to [{}]", shape_to_string(x.shape), shape_to_string(shape)));
  return {{x.dtype, shape}};
}

Out tile(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  const auto& reps = attrs.ints("repeats");
  require(static_cast<int64_t>(reps.size()) == x.rank(), "repeats length must equal the rank");
  Shape out = x.shape;
  for (size_t i = 0; i < reps.size(); ++i) {
    require(reps[i] >= 1, "repeats must be >= 1");
    out[i] *= reps[i];
  }
  return {{x.dtype, out}};
}

Out flip(const Types& t, const Attrs& attrs) {
  require_axes(attrs.ints("axes"), in(t, 0).rank(), "axes");
  return {in(t, 0)};
}

Out gather(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  const auto& idx = in(t, 1);
  require(idx.dtype == DType::I32 || idx.dtype == DType::I64, "indices must be i32 or i64");
  int64_t axis = attrs.i("axis");
  require(axis >= 0 && axis < x.rank(), "axis out of range");
  Shape out(x.shape.begin(), x.shape.begin() + axis);
  out.insert(out.end(), idx.shape.begin(), idx.shape.end());
  out.insert(out.end(), x.shape.begin() + axis + 1, x.shape.end());
  return {{x.dtype, out}};
}

Out gather_elements(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  const auto& idx = in(t, 1);
  require(idx.dtype == DType::I32 || idx.dtype == DType::I64, "indices must be i32 or i64");
  require(idx.rank() == x.rank(), "indices must have the rank of x");
  int64_t axis = attrs.i("axis");
  require(axis >= 0 && axis < x.rank(), "axis out of range");
  for (int64_t d = 0; d < x.rank(); ++d)
    if (d != axis) require(idx.shape[d] <= x.shape[d], "indices larger than x off the axis");
  return {{x.dtype, idx.shape}};
}

Out scatter_elements(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  const auto& idx = in(t, 1);
  const auto& upd = in(t, 2);
  require(idx.dtype == DType::I32 || idx.dtype == DType::I64, "indices must be i32 or i64");
  require(idx.rank() == x.rank() && upd.rank() == x.rank(), "indices and updates must have the rank of x");
  require(upd.dtype == x.dtype, "updates must have x's dtype");
  for (int64_t d = 0; d < x.rank(); ++d) require(idx.shape[d] <= upd.shape[d], "indices larger than updates");
  int64_t axis = attrs.i("axis");
  require(axis >= 0 && axis < x.rank(), "axis out of range");
  return {x};
}

Out pad(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  const auto& pads = attrs.ints("pads");
  require(static_cast<int64_t>(pads.size()) == 2 * x.rank(), "pads needs 2 * rank values");
  const auto mode = attrs.s("mode", "constant");
  require(mode == "constant" || mode == "reflect" || mode == "replicate", "mode must be constant, reflect or replicate");
  Shape out = x.shape;
  for (int64_t i = 0; i < x.rank(); ++i) {
    out[i] += pads[i] + pads[x.rank() + i];
    require(out[i] >= 0, "negative output size");
    if (mode == "reflect")
      require(pads[i] < x.shape[i] && pads[x.rank() + i] < x.shape[i], "reflect padding must be smaller than the dim");
  }
  return {{x.dtype, out}};
}

Out resize(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  require(is_float(x.dtype) && x.rank() >= 3, "input must be float [N, C, *spatial]");
  const auto mode = attrs.s("mode");
  require(mode == "nearest" || mode == "linear" || mode == "cubic", "mode must be nearest, linear or cubic");
  const auto& sizes = attrs.ints("sizes");
  require(static_cast<int64_t>(sizes.size()) == x.rank() - 2, "sizes needs one value per spatial axis");
  Shape out = {x.shape[0], x.shape[1]};
  for (int64_t s : sizes) {
    require(s > 0, "sizes must be positive");
    out.push_back(s);
  }
  return {{x.dtype, out}};
}

Out pool(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  require(x.rank() == 3 || x.rank() == 4, "input must be [N, C, L] or [N, C, H, W]");
  const size_t sp = static_cast<size_t>(x.rank() - 2);
  auto kernel = attrs.ints("kernel");
  require(kernel.size() == sp, "kernel needs one value per spatial axis");
  auto strides = attr_or(attrs, "strides", sp, 1);
  auto pads = attr_or(attrs, "pads", 2 * sp, 0);
  bool ceil_mode = attrs.i("ceil_mode", 0) != 0;
  Shape out = {x.shape[0], x.shape[1]};
  for (size_t i = 0; i < sp; ++i)
    out.push_back(spatial_out(x.shape[2 + i], kernel[i], strides[i], 1, pads[i], pads[sp + i], ceil_mode));
  return {{x.dtype, out}};
}

Out adaptive_pool(const Types& t, const Attrs& attrs) {
  const auto& x = in(t, 0);
  require(x.rank() == 3 || x.rank() == 4, "input must be [N, C, L] or [N, C, H, W]");
  const auto& sizes = attrs.ints("sizes");
  require(static_cast<int64_t>(sizes.size()) == x.rank() - 2, "sizes needs one value per spatial axis");
  Shape out = {x.shape[0], x.shape[1]};
  for (int64_t s : sizes) {
    require(s > 0, "sizes must be positive");
    out.push_back(s);
  }
  return {{x.dtype, out}};
}

Out gelu(const Types& t, const Attrs& attrs) {
  auto a = attrs.s("approximate", "none");
  require(a == "none" || a == "tanh", "approximate must be none or tanh");
  return float_unary(t, attrs);
}

Out logical_not(const Types& t, const Attrs&) {
  require(in(t, 0).dtype == DType::Bool, "input must be bool");
  return {in(t, 0)};
}

std::unordered_map<std::string, OpSchema> build_table() {
  std::unordered_map<std::string, OpSchema> table;
  auto row = [&](const char* name, int min_in, int max_in, TypeInference infer) {
    table[name] = OpSchema{name, min_in, max_in, std::move(infer)};
  };
  row("constant", 0, 0, constant);
  for (const char* op : {"add", "sub", "mul", "div", "floor_div", "mod", "pow", "maximum", "minimum"})
    row(op, 2, 2, binary);
  for (const char* op : {"equal", "not_equal", "less", "less_equal", "greater", "greater_equal"})
    row(op, 2, 2, compare);
  for (const char* op : {"logical_and", "logical_or", "logical_xor"}) row(op, 2, 2, logical);
  for (const char* op : {"exp", "log", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "tanh", "sigmoid", "erf",
                         "silu", "hardswish", "hardsigmoid", "softplus", "elu", "leaky_relu"})
    row(op, 1, 1, float_unary);
  for (const char* op : {"neg", "abs", "floor", "ceil", "round", "sign", "relu"}) row(op, 1, 1, numeric_unary);
  row("identity", 1, 1, same_as_input);
  row("logical_not", 1, 1, logical_not);
  row("gelu", 1, 1, gelu);
  row("clamp", 1, 1, clamp);
  row("cast", 1, 1, cast);
  row("where", 3, 3, where);
  row("matmul", 2, 2, matmul);
  row("linear", 2, 3, linear);
  row("conv", 2, 3, conv);
  row("conv_transpose", 2, 3, conv_transpose);
  row("layer_norm", 1, 3, layer_norm);
  row("group_norm", 1, 3, group_norm);
  row("batch_norm", 3, 5, batch_norm);
  row("softmax", 1, 1, softmax);
  row("log_softmax", 1, 1, softmax);
  for (const char* op : {"reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod"})
    row(op, 1, 1, reduce);
  row("argmax", 1, 1, argreduce);
  row("argmin", 1, 1, argreduce);
  row("cumsum", 1, 1, cumsum);
  row("reshape", 1, 1, reshape);
  row("transpose", 1, 1, transpose);
  row("slice", 1, 1, slice);
  row("concat", 1, -1, concat);
  row("expand", 1, 1, expand);
  row("tile", 1, 1, tile);
  row("flip", 1, 1, flip);
  row("gather", 2, 2, gather);
  row("gather_elements", 2, 2, gather_elements);
  row("scatter_elements", 3, 3, scatter_elements);
  row("pad", 1, 1, pad);
  row("resize", 1, 1, resize);
  row("max_pool", 1, 1, pool);
  row("avg_pool", 1, 1, pool);
  row("adaptive_avg_pool", 1, 1, adaptive_pool);
  row("adaptive_max_pool", 1, 1, adaptive_pool);
  return table;
}

const std::unordered_map<std::string, OpSchema>& table() {
  static const auto t = build_table();
  return t;
}

}  // namespace

const OpSchema* find_op(const std::string& name) {
  auto it = table().find(name);
  return it == table().end() ? nullptr : &it->second;
}

std::vector<std::string> op_names() {
  std::vector<std::string> names;
  for (const auto& [name, _] : table()) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace exporters::ir
