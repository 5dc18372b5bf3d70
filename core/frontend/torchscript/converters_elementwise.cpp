// Elementwise converters: arithmetic with PyTorch type promotion, unary
// math, comparisons and logic, clamp, where / masked_fill, casts, identity
// ops and the copy_ / fill_ / zero_ family. In-place variants ("add_", ...)
// are converted functionally: the result replaces self, cast back to self's
// dtype (see add_row).
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "converter_table.hpp"
#include "promotion.hpp"

#include "exporters/ir/ops.hpp"

namespace exporters::frontend {

namespace {

using Result = std::vector<Operand>;

Result one(ir::Value* v) { return Result{v}; }

bool any_tensor(const NodeView& node, std::initializer_list<size_t> indices) {
  for (size_t i : indices)
    if (i < node.inputs.size() && is_tensor(node.inputs[i])) return true;
  return false;
}

std::vector<Operand> operands_at(const NodeView& node, std::initializer_list<size_t> indices) {
  std::vector<Operand> out;
  for (size_t i : indices)
    if (i < node.inputs.size()) out.push_back(node.inputs[i]);
  return out;
}

// ── Scalar folding (all operands are Python numbers) ──────────────────────────
// TorchScript scalar overloads (aten::add.int, aten::lt.float, ...) can reach
// these rows when the frontend did not fold them first.

bool both_int(const Scalar& a, const Scalar& b) {
  return !std::holds_alternative<double>(a) && !std::holds_alternative<double>(b);
}

int64_t as_int(const Scalar& s) {
  if (const auto* b = std::get_if<bool>(&s)) return *b ? 1 : 0;
  return std::get<int64_t>(s);
}

std::optional<Result> fold_arith(const NodeView& node, const std::string& op) {
  if (node.inputs.size() < 2 || !is_scalar(node.inputs[0]) || !is_scalar(node.inputs[1])) return std::nullopt;
  Scalar a = scalar_operand(node, 0), b = scalar_operand(node, 1);
  const double x = scalar_as_double(a), y = scalar_as_double(b);
  if (op == "lt") return Result{x < y};
  if (op == "le") return Result{x <= y};
  if (op == "gt") return Result{x > y};
  if (op == "ge") return Result{x >= y};
  if (op == "eq") return Result{x == y};
  if (op == "ne") return Result{x != y};
  if (op == "div") {
    if (y == 0) conversion_error(node, "division by zero in scalar arithmetic");
    return Result{x / y};
  }
  if (both_int(a, b)) {
    const int64_t i = as_int(a), j = as_int(b);
    if (op == "add") return Result{i + j};
    if (op == "sub") return Result{i - j};
    if (op == "mul") return Result{i * j};
    if (op == "remainder") {
      if (j == 0) conversion_error(node, "modulo by zero in scalar arithmetic");
      int64_t r = i % j;
      if (r != 0 && ((r < 0) != (j < 0))) r += j;
      return Result{r};
    }
    if (op == "pow") return Result{std::pow(x, y)};
  } else {
    if (op == "add") return Result{x + y};
    if (op == "sub") return Result{x - y};
    if (op == "mul") return Result{x * y};
    if (op == "remainder") return Result{x - std::floor(x / y) * y};
    if (op == "pow") return Result{std::pow(x, y)};
  }
  return std::nullopt;
}

// ── Building blocks ─────────────────────────────────────────────────────────

// a `op` b after promoting both operands to `dtype`.
ir::Value* binary_as(ConversionContext& ctx, const NodeView& node, size_t a, size_t b, const std::string& op,
                     ir::DType dtype) {
  return ctx.graph().add1(op, {operand_as(ctx, node, a, dtype), operand_as(ctx, node, b, dtype)});
}

// Truncation toward zero for floats: where(x < 0, ceil(x), floor(x)).
ir::Value* trunc_float(ir::Graph& g, ir::Value* x) {
  ir::Value* zero = scalar_constant(g, 0.0, x->type.dtype);
  ir::Value* neg = g.add1("less", {x, zero});
  return g.add1("where", {neg, g.add1("ceil", {x}), g.add1("floor", {x})});
}

// other * alpha (alpha == 1 skipped); a scalar other folds with alpha.
ir::Value* scaled_operand(ConversionContext& ctx, const NodeView& node, size_t other, size_t alpha,
                          ir::DType dtype) {
  if (is_absent(node, alpha)) return operand_as(ctx, node, other, dtype);
  Scalar al = scalar_operand(node, alpha);
  if (scalar_as_double(al) == 1.0) return operand_as(ctx, node, other, dtype);
  if (is_scalar(node.inputs[other])) {
    Scalar o = scalar_operand(node, other);
    Scalar prod = both_int(o, al) ? Scalar{as_int(o) * as_int(al)} : Scalar{scalar_as_double(o) * scalar_as_double(al)};
    return scalar_constant(ctx.graph(), prod, dtype);
  }
  return ctx.graph().add1("mul", {operand_as(ctx, node, other, dtype), scalar_constant(ctx.graph(), al, dtype)});
}

// self + alpha * other  /  self - alpha * other  (bool add is logical or).
OpConverter add_sub(bool subtract, bool reversed) {
  return [subtract, reversed](ConversionContext& ctx, const NodeView& node) -> Result {
    if (!reversed)
      if (auto folded = fold_arith(node, subtract ? "sub" : "add"); folded && is_absent(node, 2)) return *folded;
    const size_t lhs = reversed ? 1 : 0, rhs = reversed ? 0 : 1;
    ir::DType dt = result_type(operands_at(node, {0, 1}));
    if (!any_tensor(node, {0, 1})) conversion_error(node, "needs a Tensor operand");
    if (dt == ir::DType::Bool) {
      if (subtract) conversion_error(node, "subtraction of bool tensors is not supported by PyTorch");
      return one(binary_as(ctx, node, lhs, rhs, "logical_or", dt));
    }
    ir::Value* a = operand_as(ctx, node, lhs, dt);
    ir::Value* b = scaled_operand(ctx, node, rhs, 2, dt);
    return one(ctx.graph().add1(subtract ? "sub" : "add", {a, b}));
  };
}

Result mul(ConversionContext& ctx, const NodeView& node) {
  if (auto folded = fold_arith(node, "mul")) return *folded;
  ir::DType dt = result_type(operands_at(node, {0, 1}));
  return one(binary_as(ctx, node, 0, 1, dt == ir::DType::Bool ? "logical_and" : "mul", dt));
}

// div(self, other, rounding_mode=None|'trunc'|'floor'); true division of
// integers gives f32.
Result div(ConversionContext& ctx, const NodeView& node) {
  if (auto folded = fold_arith(node, "div"); folded && node.inputs.size() == 2) return *folded;
  std::string mode;
  if (!is_absent(node, 2)) {
    mode = ctx.string(node, 2);
    if (mode != "trunc" && mode != "floor")
      conversion_error(node, fmt::format("rounding_mode='{}' is not one of None, 'trunc', 'floor'", mode));
  }
  ir::DType dt = result_type(operands_at(node, {0, 1}));
  ir::Graph& g = ctx.graph();
  if (mode.empty()) return one(binary_as(ctx, node, 0, 1, "div", float_or_default(dt)));
  if (dt == ir::DType::Bool) dt = ir::DType::I64;  // PyTorch divides bools as integers
  if (mode == "floor") return one(binary_as(ctx, node, 0, 1, "floor_div", dt));
  if (!ir::is_float(dt)) return one(binary_as(ctx, node, 0, 1, "div", dt));  // integer div truncates
  return one(trunc_float(g, binary_as(ctx, node, 0, 1, "div", dt)));
}

Result floor_divide(ConversionContext& ctx, const NodeView& node) {
  ir::DType dt = result_type(operands_at(node, {0, 1}));
  if (dt == ir::DType::Bool) dt = ir::DType::I64;
  return one(binary_as(ctx, node, 0, 1, "floor_div", dt));
}

Result remainder(ConversionContext& ctx, const NodeView& node) {
  if (auto folded = fold_arith(node, "remainder")) return *folded;
  ir::DType dt = result_type(operands_at(node, {0, 1}));
  if (dt == ir::DType::Bool) dt = ir::DType::I64;
  return one(binary_as(ctx, node, 0, 1, "mod", dt));
}

// fmod: a - trunc(a / b) * b (sign of a).
Result fmod(ConversionContext& ctx, const NodeView& node) {
  ir::DType dt = result_type(operands_at(node, {0, 1}));
  if (dt == ir::DType::Bool) dt = ir::DType::I64;
  ir::Graph& g = ctx.graph();
  ir::Value* a = operand_as(ctx, node, 0, dt);
  ir::Value* b = operand_as(ctx, node, 1, dt);
  ir::Value* q = g.add1("div", {a, b});
  if (ir::is_float(dt)) q = trunc_float(g, q);
  return one(g.add1("sub", {a, g.add1("mul", {q, b})}));
}

// pow.Tensor_Tensor, pow.Tensor_Scalar, pow.Scalar (number ** tensor).
Result pow(ConversionContext& ctx, const NodeView& node) {
  if (auto folded = fold_arith(node, "pow")) return *folded;
  ir::DType dt = result_type(operands_at(node, {0, 1}));
  if (dt == ir::DType::Bool) dt = ir::DType::I64;
  ir::Graph& g = ctx.graph();
  if (is_tensor(node.inputs[0]) && is_scalar(node.inputs[1])) {
    const double e = scalar_as_double(scalar_operand(node, 1));
    ir::Value* x = operand_as(ctx, node, 0, dt);
    if (e == 1.0) return one(x);
    if (e == 2.0) return one(g.add1("mul", {x, x}));
    if (e == 0.5 && ir::is_float(dt)) return one(g.add1("sqrt", {x}));
    if (e == -1.0 && ir::is_float(dt)) return one(g.add1("reciprocal", {x}));
  }
  return one(binary_as(ctx, node, 0, 1, "pow", dt));
}

OpConverter binary_promoted(std::string ir_op) {
  return [ir_op](ConversionContext& ctx, const NodeView& node) -> Result {
    ir::DType dt = result_type(operands_at(node, {0, 1}));
    if (dt == ir::DType::Bool) {
      // maximum/minimum of bools: logical or/and.
      if (ir_op == "maximum") return one(binary_as(ctx, node, 0, 1, "logical_or", dt));
      if (ir_op == "minimum") return one(binary_as(ctx, node, 0, 1, "logical_and", dt));
    }
    return one(binary_as(ctx, node, 0, 1, ir_op, dt));
  };
}

OpConverter comparison(std::string torch_name, std::string ir_op) {
  return [torch_name, ir_op](ConversionContext& ctx, const NodeView& node) -> Result {
    if (auto folded = fold_arith(node, torch_name)) return *folded;
    ir::DType dt = result_type(operands_at(node, {0, 1}));
    if (dt == ir::DType::Bool) dt = ir::DType::I32;  // compare bools as 0/1
    return one(binary_as(ctx, node, 0, 1, ir_op, dt));
  };
}

// Float math: integer and bool inputs compute in f32, as PyTorch does.
OpConverter float_unary(std::string ir_op) {
  return [ir_op](ConversionContext& ctx, const NodeView& node) -> Result {
    ir::Value* x = ctx.tensor(node, 0);
    return one(ctx.graph().add1(ir_op, {cast_to(ctx.graph(), x, float_or_default(x->type.dtype))}));
  };
}

// y = f(x) built from other IR ops on the float input.
OpConverter float_composite(std::function<ir::Value*(ir::Graph&, ir::Value*)> build) {
  return [build](ConversionContext& ctx, const NodeView& node) -> Result {
    ir::Value* x = ctx.tensor(node, 0);
    return one(build(ctx.graph(), cast_to(ctx.graph(), x, float_or_default(x->type.dtype))));
  };
}

// floor / ceil / round / trunc: integers pass through unchanged.
OpConverter rounding(std::string ir_op) {
  return [ir_op](ConversionContext& ctx, const NodeView& node) -> Result {
    if (node.inputs.size() == 1 && is_scalar(node.inputs[0])) {
      // aten::floor.float / ceil.float on a number -> int
      double v = scalar_as_double(scalar_operand(node, 0));
      if (ir_op == "floor") return Result{static_cast<int64_t>(std::floor(v))};
      if (ir_op == "ceil") return Result{static_cast<int64_t>(std::ceil(v))};
    }
    ir::Value* x = ctx.tensor(node, 0);
    ir::Graph& g = ctx.graph();
    if (!ir::is_float(x->type.dtype)) return one(x);
    if (ir_op == "trunc") return one(trunc_float(g, x));
    if (ir_op == "round" && !is_absent(node, 1)) {
      // round(x, decimals): round(x * 10^d) / 10^d, as PyTorch computes it.
      const int64_t d = ctx.to_int(node, 1);
      if (d == 0) return one(g.add1("round", {x}));
      const double scale = std::pow(10.0, static_cast<double>(std::llabs(d)));
      ir::Value* s = scalar_constant(g, scale, x->type.dtype);
      if (d > 0) return one(g.add1("div", {g.add1("round", {g.add1("mul", {x, s})}), s}));
      return one(g.add1("mul", {g.add1("round", {g.add1("div", {x, s})}), s}));
    }
    return one(g.add1(ir_op, {x}));
  };
}

Result neg(ConversionContext& ctx, const NodeView& node) {
  if (node.inputs.size() == 1 && is_scalar(node.inputs[0])) {
    Scalar s = scalar_operand(node, 0);
    if (const auto* d = std::get_if<double>(&s)) return Result{-*d};
    return Result{-as_int(s)};
  }
  ir::Value* x = ctx.tensor(node, 0);
  if (x->type.dtype == ir::DType::Bool) conversion_error(node, "negation of a bool tensor is not supported");
  return one(ctx.graph().add1("neg", {x}));
}

Result abs(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  if (x->type.dtype == ir::DType::Bool || x->type.dtype == ir::DType::U8) return one(x);
  return one(ctx.graph().add1("abs", {x}));
}

Result sign(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  if (x->type.dtype == ir::DType::Bool) return one(x);
  return one(ctx.graph().add1("sign", {x}));
}

// isnan: x != x; isinf: |x| == inf; isfinite: |x| < inf (false for NaN).
// Integer and bool tensors are never NaN or infinite.
OpConverter float_class(std::string which) {
  return [which](ConversionContext& ctx, const NodeView& node) -> Result {
    ir::Value* x = ctx.tensor(node, 0);
    ir::Graph& g = ctx.graph();
    if (!ir::is_float(x->type.dtype)) return one(full_value(g, ir::DType::Bool, x->type.shape, which == "isfinite"));
    if (which == "isnan") return one(g.add1("not_equal", {x, x}));
    ir::Value* inf = scalar_constant(g, std::numeric_limits<double>::infinity(), x->type.dtype);
    return one(g.add1(which == "isinf" ? "equal" : "less", {g.add1("abs", {x}), inf}));
  };
}

Result square(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  if (x->type.dtype == ir::DType::Bool) x = cast_to(ctx.graph(), x, ir::DType::I64);
  return one(ctx.graph().add1("mul", {x, x}));
}

ir::Value* to_bool(ir::Graph& g, ir::Value* x) { return cast_to(g, x, ir::DType::Bool); }

OpConverter logical_binary(std::string ir_op) {
  return [ir_op](ConversionContext& ctx, const NodeView& node) -> Result {
    ir::Graph& g = ctx.graph();
    return one(g.add1(ir_op, {to_bool(g, ctx.tensor(node, 0)), to_bool(g, ctx.tensor(node, 1))}));
  };
}

Result logical_not(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  return one(g.add1("logical_not", {to_bool(g, ctx.tensor(node, 0))}));
}

Result bitwise_not(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  ir::Graph& g = ctx.graph();
  if (x->type.dtype == ir::DType::Bool) return one(g.add1("logical_not", {x}));
  if (ir::is_float(x->type.dtype)) conversion_error(node, "bitwise_not needs an integer or bool tensor");
  // Two's complement: ~x == -x - 1.
  return one(g.add1("sub", {g.add1("neg", {x}), scalar_constant(g, int64_t{1}, x->type.dtype)}));
}

// &, |, ^ : bool tensors only (integer bit operations have no IR op).
OpConverter bitwise_binary(std::string ir_op, std::string symbol) {
  return [ir_op, symbol](ConversionContext& ctx, const NodeView& node) -> Result {
    if (node.inputs.size() == 2 && is_scalar(node.inputs[0]) && is_scalar(node.inputs[1])) {
      Scalar a = scalar_operand(node, 0), b = scalar_operand(node, 1);
      if (!both_int(a, b)) conversion_error(node, "bitwise operation on a float");
      const int64_t i = as_int(a), j = as_int(b);
      const int64_t r = symbol == "&" ? (i & j) : symbol == "|" ? (i | j) : (i ^ j);
      if (std::holds_alternative<bool>(a) && std::holds_alternative<bool>(b)) return Result{r != 0};
      return Result{r};
    }
    ir::DType dt = result_type(operands_at(node, {0, 1}));
    if (dt != ir::DType::Bool)
      conversion_error(node, fmt::format("'{}' is supported on bool tensors only, got {}", symbol,
                                         ir::dtype_name(dt)));
    return one(binary_as(ctx, node, 0, 1, ir_op, dt));
  };
}

// ── clamp / where / masked_fill ────────────────────────────────────────────────

// clamp(self, min?, max?) with numbers or tensors; min > max gives max, as
// PyTorch's min(max(x, lo), hi).
Result clamp_general(ConversionContext& ctx, const NodeView& node, size_t min_index, size_t max_index) {
  ir::Graph& g = ctx.graph();
  const bool has_min = min_index != SIZE_MAX && !is_absent(node, min_index);
  const bool has_max = max_index != SIZE_MAX && !is_absent(node, max_index);
  if (!has_min && !has_max) conversion_error(node, "needs at least one of 'min' and 'max'");
  std::vector<Operand> ops{node.inputs[0]};
  if (has_min) ops.push_back(node.inputs[min_index]);
  if (has_max) ops.push_back(node.inputs[max_index]);
  ir::DType dt = result_type(ops);
  if (dt == ir::DType::Bool) conversion_error(node, "clamp of bool tensors is not supported");
  ir::Value* x = operand_as(ctx, node, 0, dt);
  const bool scalar_min = has_min && is_scalar(node.inputs[min_index]);
  const bool scalar_max = has_max && is_scalar(node.inputs[max_index]);
  if ((!has_min || scalar_min) && (!has_max || scalar_max)) {
    ir::Attrs attrs;
    double lo = has_min ? scalar_as_double(scalar_operand(node, min_index)) : 0.0;
    double hi = has_max ? scalar_as_double(scalar_operand(node, max_index)) : 0.0;
    if (has_min && has_max && lo > hi) return one(full_value(g, dt, x->type.shape, hi));
    if (has_min) attrs.set("min", lo);
    if (has_max) attrs.set("max", hi);
    return one(g.add1("clamp", {x}, attrs));
  }
  if (has_min) x = g.add1("maximum", {x, operand_as(ctx, node, min_index, dt)});
  if (has_max) x = g.add1("minimum", {x, operand_as(ctx, node, max_index, dt)});
  return one(x);
}

Result clamp(ConversionContext& ctx, const NodeView& node) { return clamp_general(ctx, node, 1, 2); }
Result clamp_min(ConversionContext& ctx, const NodeView& node) { return clamp_general(ctx, node, 1, SIZE_MAX); }
Result clamp_max(ConversionContext& ctx, const NodeView& node) { return clamp_general(ctx, node, SIZE_MAX, 1); }

ir::Value* condition(ConversionContext& ctx, const NodeView& node, size_t index) {
  ir::Value* c = ctx.tensor(node, index);
  return cast_to(ctx.graph(), c, ir::DType::Bool);
}

// where(cond, self, other) with either branch a number.
Result where(ConversionContext& ctx, const NodeView& node) {
  if (node.inputs.size() == 1)
    conversion_error(node, "where(condition) (nonzero) has a data-dependent shape; not supported");
  ir::DType dt = result_type(operands_at(node, {1, 2}));
  ir::Value* c = condition(ctx, node, 0);
  return one(ctx.graph().add1("where", {c, operand_as(ctx, node, 1, dt), operand_as(ctx, node, 2, dt)}));
}

// masked_fill(self, mask, value): value (number or rank-0 tensor) in self's dtype.
Result masked_fill(ConversionContext& ctx, const NodeView& node) {
  ir::Value* self = ctx.tensor(node, 0);
  ir::Value* mask = condition(ctx, node, 1);
  if (is_tensor(node.inputs.at(2)) && std::get<ir::Value*>(node.inputs[2])->type.rank() != 0)
    conversion_error(node, "'value' must be a number or a 0-dimensional tensor");
  ir::Value* value = operand_as(ctx, node, 2, self->type.dtype);
  ir::Value* out = ctx.graph().add1("where", {mask, value, self});
  if (out->type.shape != self->type.shape)
    conversion_error(node, fmt::format("mask of shape [{}] does not broadcast to self's shape [{}]",
                                       ir::shape_to_string(mask->type.shape),
                                       ir::shape_to_string(self->type.shape)));
  return one(out);
}

// ── casts, identities, copies ──────────────────────────────────────────────────

ir::DType dtype_argument(ConversionContext& ctx, const NodeView& node, size_t index) {
  const Operand& op = node.inputs.at(index);
  if (!std::holds_alternative<int64_t>(op))
    conversion_error(node, fmt::format("argument {} must be a dtype, got {}", index, operand_kind(op)));
  return dtype_from_torch_scalar_type(std::get<int64_t>(op));
}

// aten::to overloads: to.dtype(self, dtype, ...), to.device(self, device,
// dtype, ...), to.other(self, other, ...), to.prim_Device(self, device?,
// dtype?, ...), to.prim_dtype(self, dtype?, ...), to.prim_other(self, ...).
Result to(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  ir::Graph& g = ctx.graph();
  if (node.inputs.size() < 2) return one(x);
  const Operand& a1 = node.inputs[1];
  if (is_tensor(a1)) return one(cast_to(g, x, std::get<ir::Value*>(a1)->type.dtype));
  if (std::holds_alternative<std::string>(a1)) {
    if (is_absent(node, 2)) return one(x);
    return one(cast_to(g, x, dtype_argument(ctx, node, 2)));
  }
  if (std::holds_alternative<int64_t>(a1)) return one(cast_to(g, x, dtype_argument(ctx, node, 1)));
  if (std::holds_alternative<NoneValue>(a1)) {
    // prim_Device with device None: dtype (int) at 2; prim_dtype: non_blocking (bool) at 2.
    if (node.inputs.size() > 2 && std::holds_alternative<int64_t>(node.inputs[2]))
      return one(cast_to(g, x, dtype_argument(ctx, node, 2)));
    return one(x);
  }
  if (std::holds_alternative<bool>(a1)) return one(x);  // prim_other(self, non_blocking, copy)
  conversion_error(node, fmt::format("unsupported argument 1 of kind {}", operand_kind(a1)));
}

// _to_copy(self, *, dtype?, layout?, device?, pin_memory?, non_blocking, memory_format?)
Result to_copy(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  if (is_absent(node, 1)) return one(x);
  return one(cast_to(ctx.graph(), x, dtype_argument(ctx, node, 1)));
}

Result type_as(ConversionContext& ctx, const NodeView& node) {
  return one(cast_to(ctx.graph(), ctx.tensor(node, 0), ctx.tensor(node, 1)->type.dtype));
}

Result identity(ConversionContext& ctx, const NodeView& node) { return one(ctx.tensor(node, 0)); }

// copy_(self, src): src broadcast to self's shape and cast to self's dtype.
Result copy(ConversionContext& ctx, const NodeView& node) {
  ir::Value* self = ctx.tensor(node, 0);
  ir::Graph& g = ctx.graph();
  if (is_scalar(node.inputs.at(1)))
    return one(full_value(g, self->type.dtype, self->type.shape, scalar_operand(node, 1)));
  ir::Value* src = ctx.tensor(node, 1);
  ir::Shape b;
  try {
    b = ir::broadcast_shapes(src->type.shape, self->type.shape);
  } catch (const ir::IrError&) {
    b.clear();
  }
  if (b != self->type.shape)
    conversion_error(node, fmt::format("src of shape [{}] does not broadcast to self's shape [{}]",
                                       ir::shape_to_string(src->type.shape),
                                       ir::shape_to_string(self->type.shape)));
  return one(expand_to(g, cast_to(g, src, self->type.dtype), self->type.shape));
}

// fill_(self, value): value a number or a rank-0 tensor.
Result fill(ConversionContext& ctx, const NodeView& node) {
  ir::Value* self = ctx.tensor(node, 0);
  ir::Graph& g = ctx.graph();
  if (is_tensor(node.inputs.at(1))) {
    ir::Value* v = ctx.tensor(node, 1);
    if (v->type.rank() != 0) conversion_error(node, "'value' tensor must be 0-dimensional");
    return one(expand_to(g, cast_to(g, v, self->type.dtype), self->type.shape));
  }
  return one(full_value(g, self->type.dtype, self->type.shape, scalar_operand(node, 1)));
}

Result zero(ConversionContext& ctx, const NodeView& node) {
  ir::Value* self = ctx.tensor(node, 0);
  return one(full_value(ctx.graph(), self->type.dtype, self->type.shape, int64_t{0}));
}

}  // namespace

void add_elementwise_converters(ConverterTable& table) {
  // Arithmetic (Tensor and Scalar overloads share a row). Aliases such as
  // subtract / multiply / clip / greater never reach a converter: tracing
  // records the canonical op and TorchScript's normalize_ops rewrites them.
  add_row(table, "add", add_sub(false, false), true);
  add_row(table, "sub", add_sub(true, false), true);
  add_row(table, "rsub", add_sub(true, true));
  add_row(table, "mul", mul, true);
  add_row(table, "div", div, true);
  add_row(table, "floor_divide", floor_divide, true);
  add_row(table, "remainder", remainder, true);
  add_row(table, "fmod", fmod, true);
  add_row(table, "pow", pow, true);
  add_row(table, "maximum", binary_promoted("maximum"));
  add_row(table, "minimum", binary_promoted("minimum"));
  add_row(table, "fmax", binary_promoted("maximum"));
  add_row(table, "fmin", binary_promoted("minimum"));

  // Unary math.
  add_row(table, "neg", neg, true);
  add_row(table, "abs", abs, true);
  add_row(table, "sign", sign, true);
  add_row(table, "square", square, true);
  for (const char* op : {"isnan", "isinf", "isfinite"}) add_row(table, op, float_class(op));
  for (const char* op : {"exp", "log", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "tanh", "sigmoid", "erf"})
    add_row(table, op, float_unary(op), true);
  add_row(table, "log1p", float_composite([](ir::Graph& g, ir::Value* x) {
            return g.add1("log", {g.add1("add", {x, scalar_constant(g, 1.0, x->type.dtype)})});
          }), true);
  add_row(table, "expm1", float_composite([](ir::Graph& g, ir::Value* x) {
            return g.add1("sub", {g.add1("exp", {x}), scalar_constant(g, 1.0, x->type.dtype)});
          }), true);
  add_row(table, "log2", float_composite([](ir::Graph& g, ir::Value* x) {
            return g.add1("mul", {g.add1("log", {x}), scalar_constant(g, 1.0 / std::log(2.0), x->type.dtype)});
          }), true);
  add_row(table, "log10", float_composite([](ir::Graph& g, ir::Value* x) {
            return g.add1("mul", {g.add1("log", {x}), scalar_constant(g, 1.0 / std::log(10.0), x->type.dtype)});
          }), true);
  for (const char* op : {"floor", "ceil", "round", "trunc"}) add_row(table, op, rounding(op), true);

  // Comparisons and logic.
  const std::pair<const char*, const char*> comparisons[] = {
      {"eq", "equal"}, {"ne", "not_equal"}, {"lt", "less"}, {"le", "less_equal"}, {"gt", "greater"},
      {"ge", "greater_equal"}};
  for (const auto& [torch_name, ir_op] : comparisons) add_row(table, torch_name, comparison(torch_name, ir_op), true);
  add_row(table, "logical_and", logical_binary("logical_and"), true);
  add_row(table, "logical_or", logical_binary("logical_or"), true);
  add_row(table, "logical_xor", logical_binary("logical_xor"), true);
  add_row(table, "logical_not", logical_not, true);
  add_row(table, "bitwise_not", bitwise_not, true);
  add_row(table, "bitwise_and", bitwise_binary("logical_and", "&"), true);
  add_row(table, "bitwise_or", bitwise_binary("logical_or", "|"), true);
  add_row(table, "bitwise_xor", bitwise_binary("logical_xor", "^"), true);
  add_row(table, "__and__", bitwise_binary("logical_and", "&"));
  add_row(table, "__or__", bitwise_binary("logical_or", "|"));
  add_row(table, "__xor__", bitwise_binary("logical_xor", "^"));
  add_row(table, "__iand__", bitwise_binary("logical_and", "&"));
  add_row(table, "__ior__", bitwise_binary("logical_or", "|"));
  add_row(table, "__ixor__", bitwise_binary("logical_xor", "^"));

  // Clamp, selection.
  add_row(table, "clamp", clamp, true);
  add_row(table, "clamp_min", clamp_min, true);
  add_row(table, "clamp_max", clamp_max, true);
  add_row(table, "where", where);
  add_row(table, "masked_fill", masked_fill, true);

  // Casts and identities (in a frozen, static-shape graph these are no-ops).
  add_row(table, "to", to);
  add_row(table, "_to_copy", to_copy);
  add_row(table, "type_as", type_as);
  for (const char* op : {"contiguous", "detach", "detach_", "clone", "lift_fresh", "lift_fresh_copy", "alias",
                         "positive", "resolve_conj", "resolve_neg"})
    add_row(table, op, identity);

  // Whole-tensor writes.
  add_row(table, "copy", copy, true);
  add_row(table, "fill_", fill);
  add_row(table, "zero_", zero);
}

}  // namespace exporters::frontend
