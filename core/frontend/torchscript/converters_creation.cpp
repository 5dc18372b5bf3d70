// Creation converters. Shapes are static, so arange / zeros / ones / full /
// empty (zeros) / linspace / scalar_tensor and their _like / new_ forms become
// constants (large all-equal tensors an expand of a scalar). tril / triu
// fold on constants and become where(mask, x, 0) otherwise.
#include <cmath>

#include <fmt/format.h>

#include "converter_table.hpp"
#include "promotion.hpp"

namespace exporters::frontend {

namespace {

using Result = std::vector<Operand>;

Result one(ir::Value* v) { return Result{v}; }

// A number argument: a Python scalar or a constant one-element tensor
// (e.g. a traced size that went through NumToTensor).
Scalar number_operand(ConversionContext& ctx, const NodeView& node, size_t index, const std::string& arg) {
  if (index >= node.inputs.size()) conversion_error(node, fmt::format("'{}' is missing", arg));
  const Operand& op = node.inputs[index];
  if (is_scalar(op)) return scalar_operand(node, index);
  if (is_tensor(op)) {
    ir::Value* v = std::get<ir::Value*>(op);
    const ir::Tensor* t = ctx.constant_data(v);
    if (!t || t->numel() != 1)
      conversion_error(node, fmt::format("'{}' must be a number or a constant one-element tensor", arg));
    if (ir::is_float(t->dtype())) return t->element_as_double(0);
    if (t->dtype() == ir::DType::Bool) return t->element_as_int(0) != 0;
    return t->element_as_int(0);
  }
  conversion_error(node, fmt::format("'{}' must be a number, got {}", arg, operand_kind(op)));
}

std::optional<ir::DType> dtype_at(const NodeView& node, size_t index) {
  if (is_absent(node, index)) return std::nullopt;
  const Operand& op = node.inputs[index];
  if (!std::holds_alternative<int64_t>(op))
    conversion_error(node, fmt::format("'dtype' (argument {}) must be a dtype, got {}", index, operand_kind(op)));
  return dtype_from_torch_scalar_type(std::get<int64_t>(op));
}

ir::Shape size_at(ConversionContext& ctx, const NodeView& node, size_t index) {
  if (index >= node.inputs.size() || is_tensor(node.inputs[index]) || is_absent(node, index))
    conversion_error(node, "'size' must be a constant int list (static shapes only)");
  ir::Shape s = ctx.int_list(node, index);
  for (int64_t d : s)
    if (d < 0) conversion_error(node, fmt::format("'size' [{}] has a negative dim", ir::shape_to_string(s)));
  return s;
}

// Python-number dtype when no dtype is given: bool, i64 or f32.
ir::DType dtype_of_number(const Scalar& s) {
  if (std::holds_alternative<bool>(s)) return ir::DType::Bool;
  if (std::holds_alternative<int64_t>(s)) return ir::DType::I64;
  return ir::DType::F32;
}

// zeros / ones / empty(size, *, dtype, ...); the .names overloads carry
// names before dtype.
OpConverter filled(int64_t value) {
  return [value](ConversionContext& ctx, const NodeView& node) -> Result {
    const size_t dtype_index = schema_has_argument(node, "names") ? 2 : 1;
    ir::Shape shape = size_at(ctx, node, 0);
    ir::DType dt = dtype_at(node, dtype_index).value_or(ir::DType::F32);
    return one(full_value(ctx.graph(), dt, shape, value));
  };
}

// full(size, fill_value, *, dtype, ...): dtype inferred from the number.
Result full(ConversionContext& ctx, const NodeView& node) {
  ir::Shape shape = size_at(ctx, node, 0);
  Scalar v = number_operand(ctx, node, 1, "fill_value");
  const size_t dtype_index = schema_has_argument(node, "names") ? 3 : 2;
  ir::DType dt = dtype_at(node, dtype_index).value_or(dtype_of_number(v));
  return one(full_value(ctx.graph(), dt, shape, v));
}

// zeros_like / ones_like / empty_like(self, *, dtype, ...).
OpConverter filled_like(int64_t value) {
  return [value](ConversionContext& ctx, const NodeView& node) -> Result {
    ir::Value* self = ctx.tensor(node, 0);
    ir::DType dt = dtype_at(node, 1).value_or(self->type.dtype);
    return one(full_value(ctx.graph(), dt, self->type.shape, value));
  };
}

// full_like(self, fill_value, *, dtype, ...).
Result full_like(ConversionContext& ctx, const NodeView& node) {
  ir::Value* self = ctx.tensor(node, 0);
  Scalar v = number_operand(ctx, node, 1, "fill_value");
  ir::DType dt = dtype_at(node, 2).value_or(self->type.dtype);
  return one(full_value(ctx.graph(), dt, self->type.shape, v));
}

// new_zeros / new_ones / new_empty(self, size, *, dtype, ...).
OpConverter filled_new(int64_t value) {
  return [value](ConversionContext& ctx, const NodeView& node) -> Result {
    ir::Value* self = ctx.tensor(node, 0);
    ir::Shape shape = size_at(ctx, node, 1);
    ir::DType dt = dtype_at(node, 2).value_or(self->type.dtype);
    return one(full_value(ctx.graph(), dt, shape, value));
  };
}

// new_full(self, size, fill_value, *, dtype, ...).
Result new_full(ConversionContext& ctx, const NodeView& node) {
  ir::Value* self = ctx.tensor(node, 0);
  ir::Shape shape = size_at(ctx, node, 1);
  Scalar v = number_operand(ctx, node, 2, "fill_value");
  ir::DType dt = dtype_at(node, 3).value_or(self->type.dtype);
  return one(full_value(ctx.graph(), dt, shape, v));
}

// arange(end, ...), arange.start(start, end, ...), arange.start_step(start,
// end, step, ...); each followed by dtype, layout, device, pin_memory.
Result arange(ConversionContext& ctx, const NodeView& node) {
  // Each overload ends in dtype, layout, device, pin_memory.
  if (node.inputs.size() < 5 || node.inputs.size() > 7)
    conversion_error(node, fmt::format("unexpected number of arguments ({})", node.inputs.size()));
  const size_t nargs = node.inputs.size() - 4;
  Scalar start = int64_t{0}, end, step = int64_t{1};
  if (nargs == 1) {
    end = number_operand(ctx, node, 0, "end");
  } else {
    start = number_operand(ctx, node, 0, "start");
    end = number_operand(ctx, node, 1, "end");
    if (nargs == 3) step = number_operand(ctx, node, 2, "step");
  }
  const bool any_float = std::holds_alternative<double>(start) || std::holds_alternative<double>(end) ||
                         std::holds_alternative<double>(step);
  ir::DType dt = dtype_at(node, nargs).value_or(any_float ? ir::DType::F32 : ir::DType::I64);
  const double s = scalar_as_double(start), e = scalar_as_double(end), st = scalar_as_double(step);
  if (st == 0) conversion_error(node, "step must be nonzero");
  if ((st > 0 && e < s) || (st < 0 && e > s))
    conversion_error(node, fmt::format("upper bound {} and lower bound {} inconsistent with step sign", e, s));
  const int64_t n = static_cast<int64_t>(std::ceil((e - s) / st));
  ir::Graph& g = ctx.graph();
  if (!any_float && !ir::is_float(dt)) {
    auto as_int = [](const Scalar& v) {
      return std::holds_alternative<bool>(v) ? int64_t{std::get<bool>(v)} : std::get<int64_t>(v);
    };
    const int64_t is = as_int(start), ist = as_int(step);
    std::vector<int64_t> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[i] = is + i * ist;
    return one(constant_from_ints(g, dt, {n}, v));
  }
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = s + static_cast<double>(i) * st;
  return one(constant_from_doubles(g, dt, {n}, v));
}

// linspace(start, end, steps, *, dtype, ...): symmetric from both ends, as
// PyTorch computes it.
Result linspace(ConversionContext& ctx, const NodeView& node) {
  const double s = scalar_as_double(number_operand(ctx, node, 0, "start"));
  const double e = scalar_as_double(number_operand(ctx, node, 1, "end"));
  const int64_t steps = ctx.to_int(node, 2);
  if (steps < 0) conversion_error(node, "number of steps must be non-negative");
  ir::DType dt = dtype_at(node, 3).value_or(ir::DType::F32);
  std::vector<double> v(static_cast<size_t>(steps));
  if (steps == 1) v[0] = s;
  if (steps > 1) {
    const double step = (e - s) / static_cast<double>(steps - 1);
    const int64_t half = steps / 2;
    for (int64_t i = 0; i < steps; ++i)
      v[i] = i < half ? s + step * static_cast<double>(i) : e - step * static_cast<double>(steps - 1 - i);
  }
  if (!ir::is_float(dt))
    for (auto& x : v) x = std::trunc(x);
  return one(constant_from_doubles(ctx.graph(), dt, {steps}, v));
}

// scalar_tensor(s, *, dtype=f32 default, ...).
Result scalar_tensor(ConversionContext& ctx, const NodeView& node) {
  Scalar v = number_operand(ctx, node, 0, "s");
  ir::DType dt = dtype_at(node, 1).value_or(ir::DType::F32);
  return one(scalar_constant(ctx.graph(), v, dt));
}

// tril / triu(self, diagonal=0) on the last two dims.
OpConverter triangle(bool lower) {
  return [lower](ConversionContext& ctx, const NodeView& node) -> Result {
    ir::Value* x = ctx.tensor(node, 0);
    ir::Graph& g = ctx.graph();
    const int64_t diagonal = is_absent(node, 1) ? 0 : ctx.to_int(node, 1);
    const int64_t rank = x->type.rank();
    if (rank < 2) conversion_error(node, "input must have at least 2 dimensions");
    const int64_t rows = x->type.shape[rank - 2], cols = x->type.shape[rank - 1];
    auto keep = [&](int64_t i, int64_t j) { return lower ? j - i <= diagonal : j - i >= diagonal; };
    if (const ir::Tensor* data = ctx.constant_data(x)) {
      ir::Tensor out = data->cast(data->dtype());  // owned copy
      const int64_t per = rows * cols;
      for (int64_t k = 0; per > 0 && k < out.numel(); ++k) {
        const int64_t i = (k % per) / cols, j = k % cols;
        if (!keep(i, j)) set_element_int(out, k, 0);
      }
      return one(g.constant(std::move(out)));
    }
    std::vector<int64_t> mask(static_cast<size_t>(rows * cols));
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) mask[i * cols + j] = keep(i, j) ? 1 : 0;
    ir::Value* m = constant_from_ints(g, ir::DType::Bool, {rows, cols}, mask);
    ir::Value* zero = scalar_constant(g, int64_t{0}, x->type.dtype);
    return one(g.add1("where", {m, x, zero}));
  };
}

}  // namespace

void add_creation_converters(ConverterTable& table) {
  add_row(table, "arange", arange);
  add_row(table, "zeros", filled(0));
  add_row(table, "ones", filled(1));
  add_row(table, "empty", filled(0));
  add_row(table, "full", full);
  add_row(table, "zeros_like", filled_like(0));
  add_row(table, "ones_like", filled_like(1));
  add_row(table, "empty_like", filled_like(0));
  add_row(table, "full_like", full_like);
  add_row(table, "new_zeros", filled_new(0));
  add_row(table, "new_ones", filled_new(1));
  add_row(table, "new_empty", filled_new(0));
  add_row(table, "new_full", new_full);
  add_row(table, "linspace", linspace);
  add_row(table, "scalar_tensor", scalar_tensor);
  add_row(table, "tril", triangle(true), true);
  add_row(table, "triu", triangle(false), true);
}

}  // namespace exporters::frontend
