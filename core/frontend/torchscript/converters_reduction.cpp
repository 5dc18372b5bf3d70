// Reduction converters: sum mean prod max/min (full, binary, dim with
// indices) amax amin argmax argmin norm / linalg_vector_norm var std
// (+ _mean forms) cumsum all any logsumexp.
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "converter_table.hpp"
#include "promotion.hpp"

namespace exporters::frontend {

namespace {

using Result = std::vector<Operand>;

Result one(ir::Value* v) { return Result{v}; }

// The axes a reduction covers: `dims` None or [] means every axis. Rank-0
// inputs accept dim 0 / -1 and reduce nothing.
struct Axes {
  std::vector<int64_t> axes;  // sorted, wrapped; empty = all
  bool keepdim = false;
};

std::vector<int64_t> dims_argument(ConversionContext& ctx, const NodeView& node, size_t index, int64_t rank) {
  if (is_absent(node, index)) return {};
  std::vector<int64_t> dims = ctx.int_list(node, index);
  dims = wrap_dims(node, "dim", dims, rank);
  if (rank == 0) return {};
  return dims;
}

bool keepdim_argument(ConversionContext& ctx, const NodeView& node, size_t index) {
  return !is_absent(node, index) && ctx.to_bool(node, index);
}

ir::Value* reduce(ir::Graph& g, const std::string& op, ir::Value* x, const std::vector<int64_t>& axes,
                  bool keepdim) {
  if (x->type.rank() == 0) return x;
  return g.add1(op, {x}, {{"axes", axes}, {"keepdims", int64_t{keepdim ? 1 : 0}}});
}

// Number of elements the reduction folds together.
int64_t reduced_count(const ir::Value* x, const std::vector<int64_t>& axes) {
  if (axes.empty()) return x->type.numel();
  int64_t n = 1;
  for (int64_t a : axes) n *= x->type.shape[a];
  return n;
}

std::optional<ir::DType> dtype_argument(const NodeView& node, size_t index) {
  if (is_absent(node, index)) return std::nullopt;
  const Operand& op = node.inputs[index];
  if (!std::holds_alternative<int64_t>(op))
    conversion_error(node, fmt::format("'dtype' (argument {}) must be a dtype, got {}", index, operand_kind(op)));
  return dtype_from_torch_scalar_type(std::get<int64_t>(op));
}

// Input cast to the explicit dtype, or to i64 for integer/bool inputs
// (PyTorch's sum/prod/cumsum accumulate integers in int64).
ir::Value* accumulation_input(ir::Graph& g, ir::Value* x, std::optional<ir::DType> dtype) {
  if (dtype) return cast_to(g, x, *dtype);
  if (!ir::is_float(x->type.dtype)) return cast_to(g, x, ir::DType::I64);
  return x;
}

// sum(self, *, dtype) / sum.dim_IntList(self, dim?, keepdim, *, dtype);
// the same layout for mean and prod (prod.dim_int takes one dim).
OpConverter sum_like(std::string ir_op, bool is_mean) {
  return [ir_op, is_mean](ConversionContext& ctx, const NodeView& node) -> Result {
    ir::Value* x = ctx.tensor(node, 0);
    ir::Graph& g = ctx.graph();
    std::vector<int64_t> axes;
    bool keepdim = false;
    std::optional<ir::DType> dtype;
    if (node.inputs.size() <= 2) {
      dtype = dtype_argument(node, 1);
    } else {
      axes = dims_argument(ctx, node, 1, x->type.rank());
      keepdim = keepdim_argument(ctx, node, 2);
      dtype = dtype_argument(node, 3);
    }
    ir::Value* in = is_mean ? cast_to(g, x, dtype ? *dtype : float_or_default(x->type.dtype))
                            : accumulation_input(g, x, dtype);
    return one(reduce(g, ir_op, in, axes, keepdim));
  };
}

// max / min: (self) full reduction, (self, other) elementwise, (self, dim,
// keepdim) -> (values, indices).
OpConverter max_min(bool is_max) {
  return [is_max](ConversionContext& ctx, const NodeView& node) -> Result {
    ir::Graph& g = ctx.graph();
    ir::Value* x = ctx.tensor(node, 0);
    if (node.inputs.size() == 1) {
      ir::Value* in = x->type.dtype == ir::DType::Bool ? cast_to(g, x, ir::DType::I32) : x;
      return one(cast_to(g, reduce(g, is_max ? "reduce_max" : "reduce_min", in, {}, false), x->type.dtype));
    }
    if (is_tensor(node.inputs[1])) {
      ir::DType dt = result_type({node.inputs[0], node.inputs[1]});
      const char* op = dt == ir::DType::Bool ? (is_max ? "logical_or" : "logical_and") : (is_max ? "maximum" : "minimum");
      return one(g.add1(op, {operand_as(ctx, node, 0, dt), operand_as(ctx, node, 1, dt)}));
    }
    const int64_t rank = x->type.rank();
    const int64_t axis = wrap_dim(node, "dim", ctx.to_int(node, 1), rank);
    const bool keepdim = keepdim_argument(ctx, node, 2);
    if (rank == 0) return Result{x, scalar_constant(g, int64_t{0}, ir::DType::I64)};
    ir::Value* in = x->type.dtype == ir::DType::Bool ? cast_to(g, x, ir::DType::I32) : x;
    ir::Value* values = cast_to(g, reduce(g, is_max ? "reduce_max" : "reduce_min", in, {axis}, keepdim), x->type.dtype);
    ir::Value* indices = g.add1(is_max ? "argmax" : "argmin", {in},
                                {{"axis", axis}, {"keepdims", int64_t{keepdim ? 1 : 0}}});
    return Result{values, indices};
  };
}

// amax / amin(self, dim=[], keepdim).
OpConverter amax_amin(bool is_max) {
  return [is_max](ConversionContext& ctx, const NodeView& node) -> Result {
    ir::Graph& g = ctx.graph();
    ir::Value* x = ctx.tensor(node, 0);
    auto axes = dims_argument(ctx, node, 1, x->type.rank());
    ir::Value* in = x->type.dtype == ir::DType::Bool ? cast_to(g, x, ir::DType::I32) : x;
    return one(cast_to(g, reduce(g, is_max ? "reduce_max" : "reduce_min", in, axes, keepdim_argument(ctx, node, 2)),
                       x->type.dtype));
  };
}

// argmax / argmin(self, dim?, keepdim): dim None works on the flattened tensor.
OpConverter arg_reduce(bool is_max) {
  return [is_max](ConversionContext& ctx, const NodeView& node) -> Result {
    ir::Graph& g = ctx.graph();
    ir::Value* x = ctx.tensor(node, 0);
    if (x->type.dtype == ir::DType::Bool) x = cast_to(g, x, ir::DType::I32);
    const bool keepdim = keepdim_argument(ctx, node, 2);
    const int64_t rank = x->type.rank();
    const char* op = is_max ? "argmax" : "argmin";
    if (is_absent(node, 1)) {
      ir::Value* flat = reshape_to(g, x, {x->type.numel()});
      ir::Value* idx = g.add1(op, {flat}, {{"axis", int64_t{0}}, {"keepdims", int64_t{0}}});
      if (keepdim) return one(reshape_to(g, idx, ir::Shape(static_cast<size_t>(rank), 1)));
      return one(idx);
    }
    const int64_t axis = wrap_dim(node, "dim", ctx.to_int(node, 1), rank);
    if (rank == 0) return one(scalar_constant(g, int64_t{0}, ir::DType::I64));
    return one(g.add1(op, {x}, {{"axis", axis}, {"keepdims", int64_t{keepdim ? 1 : 0}}}));
  };
}

// ‖x‖_p over `axes` of a float tensor.
ir::Value* vector_norm(ir::Graph& g, ir::Value* x, double p, const std::vector<int64_t>& axes, bool keepdim) {
  const ir::DType dt = x->type.dtype;
  if (std::isinf(p)) return reduce(g, p > 0 ? "reduce_max" : "reduce_min", g.add1("abs", {x}), axes, keepdim);
  if (p == 0) {
    ir::Value* nz = cast_to(g, g.add1("not_equal", {x, scalar_constant(g, 0.0, dt)}), dt);
    return reduce(g, "reduce_sum", nz, axes, keepdim);
  }
  if (p == 1) return reduce(g, "reduce_sum", g.add1("abs", {x}), axes, keepdim);
  if (p == 2) return g.add1("sqrt", {reduce(g, "reduce_sum", g.add1("mul", {x, x}), axes, keepdim)});
  ir::Value* powed = g.add1("pow", {g.add1("abs", {x}), scalar_constant(g, p, dt)});
  return g.add1("pow", {reduce(g, "reduce_sum", powed, axes, keepdim), scalar_constant(g, 1.0 / p, dt)});
}

double norm_order(ConversionContext& ctx, const NodeView& node, size_t index) {
  if (is_absent(node, index)) return 2.0;
  const Operand& op = node.inputs[index];
  if (const auto* s = std::get_if<std::string>(&op)) {
    if (*s == "fro") return 2.0;
    conversion_error(node, fmt::format("p='{}' is not supported (only numbers and 'fro')", *s));
  }
  return ctx.to_double(node, index);
}

ir::Value* norm_input(ir::Graph& g, ir::Value* x, std::optional<ir::DType> dtype) {
  return cast_to(g, x, dtype ? *dtype : float_or_default(x->type.dtype));
}

// norm.Scalar(self, p), norm.ScalarOpt_dtype(self, p?, dtype),
// norm.ScalarOpt_dim(self, p?, dim, keepdim), norm.ScalarOpt_dim_dtype(+ dtype).
Result norm(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  ir::Value* x = ctx.tensor(node, 0);
  const double p = norm_order(ctx, node, 1);
  if (node.inputs.size() <= 3) {
    auto dtype = node.inputs.size() == 3 ? dtype_argument(node, 2) : std::nullopt;
    return one(vector_norm(g, norm_input(g, x, dtype), p, {}, false));
  }
  auto axes = dims_argument(ctx, node, 2, x->type.rank());
  const bool keepdim = keepdim_argument(ctx, node, 3);
  auto dtype = dtype_argument(node, 4);
  return one(vector_norm(g, norm_input(g, x, dtype), p, axes, keepdim));
}

// linalg_vector_norm(self, ord=2, dim?, keepdim, *, dtype?).
Result linalg_vector_norm(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  ir::Value* x = ctx.tensor(node, 0);
  const double p = norm_order(ctx, node, 1);
  auto axes = dims_argument(ctx, node, 2, x->type.rank());
  return one(vector_norm(g, norm_input(g, x, dtype_argument(node, 4)), p, axes, keepdim_argument(ctx, node, 3)));
}

// frobenius_norm(self) / frobenius_norm.dim(self, dim, keepdim).
Result frobenius_norm(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  ir::Value* x = ctx.tensor(node, 0);
  auto axes = dims_argument(ctx, node, 1, x->type.rank());
  return one(vector_norm(g, norm_input(g, x, std::nullopt), 2.0, axes, keepdim_argument(ctx, node, 2)));
}

// var / std and their _mean forms:
//   (self, unbiased)  (self, dim?, unbiased, keepdim)  (self, dim?, *, correction?, keepdim)
OpConverter variance(bool take_sqrt, bool with_mean) {
  return [take_sqrt, with_mean](ConversionContext& ctx, const NodeView& node) -> Result {
    ir::Graph& g = ctx.graph();
    ir::Value* x = ctx.tensor(node, 0);
    x = cast_to(g, x, float_or_default(x->type.dtype));
    std::vector<int64_t> axes;
    bool keepdim = false;
    double correction = 1.0;
    if (node.inputs.size() <= 2) {
      if (!is_absent(node, 1)) correction = ctx.to_bool(node, 1) ? 1.0 : 0.0;
    } else {
      axes = dims_argument(ctx, node, 1, x->type.rank());
      keepdim = keepdim_argument(ctx, node, 3);
      const Operand& c = node.inputs[2];
      if (std::holds_alternative<bool>(c) && !schema_has_argument(node, "correction")) {
        correction = std::get<bool>(c) ? 1.0 : 0.0;  // unbiased
      } else if (!is_absent(node, 2)) {
        correction = ctx.to_double(node, 2);
      }
    }
    const int64_t n = reduced_count(x, axes);
    ir::Value* mean_keep = reduce(g, "reduce_mean", x, axes, true);
    ir::Value* d = g.add1("sub", {x, mean_keep});
    ir::Value* ss = reduce(g, "reduce_sum", g.add1("mul", {d, d}), axes, keepdim);
    const double denom = std::max(static_cast<double>(n) - correction, 0.0);
    ir::Value* var = g.add1("div", {ss, scalar_constant(g, denom, x->type.dtype)});
    ir::Value* out = take_sqrt ? g.add1("sqrt", {var}) : var;
    if (!with_mean) return one(out);
    ir::Value* mean = keepdim ? mean_keep : reduce(g, "reduce_mean", x, axes, false);
    return Result{out, mean};
  };
}

// cumsum(self, dim, *, dtype?).
Result cumsum(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  ir::Value* x = ctx.tensor(node, 0);
  const int64_t axis = wrap_dim(node, "dim", ctx.to_int(node, 1), x->type.rank());
  ir::Value* in = accumulation_input(g, x, dtype_argument(node, 2));
  if (in->type.rank() == 0) return one(in);
  return one(g.add1("cumsum", {in}, {{"axis", axis}, {"exclusive", int64_t{0}}, {"reverse", int64_t{0}}}));
}

// all / any: (self) or (self, dim, keepdim); bool result (u8 stays u8).
// Also the TorchScript list overloads all.int(int[]) etc.
OpConverter all_any(bool is_all) {
  return [is_all](ConversionContext& ctx, const NodeView& node) -> Result {
    ir::Graph& g = ctx.graph();
    if (!node.inputs.empty() && !is_tensor(node.inputs[0]) && !is_absent(node, 0)) {
      auto values = ctx.int_list(node, 0);
      bool r = is_all;
      for (int64_t v : values) r = is_all ? (r && v != 0) : (r || v != 0);
      return Result{r};
    }
    ir::Value* x = ctx.tensor(node, 0);
    std::vector<int64_t> axes;
    bool keepdim = false;
    if (node.inputs.size() >= 2) {
      axes = dims_argument(ctx, node, 1, x->type.rank());
      keepdim = keepdim_argument(ctx, node, 2);
    }
    ir::Value* as_int = cast_to(g, cast_to(g, x, ir::DType::Bool), ir::DType::I32);
    ir::Value* r = reduce(g, is_all ? "reduce_min" : "reduce_max", as_int, axes, keepdim);
    const ir::DType out = x->type.dtype == ir::DType::U8 ? ir::DType::U8 : ir::DType::Bool;
    return one(cast_to(g, r, out));
  };
}

// logsumexp(self, dim, keepdim) = m + log(sum(exp(x - m))).
Result logsumexp(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  ir::Value* x = ctx.tensor(node, 0);
  x = cast_to(g, x, float_or_default(x->type.dtype));
  auto axes = dims_argument(ctx, node, 1, x->type.rank());
  const bool keepdim = keepdim_argument(ctx, node, 2);
  ir::Value* m = reduce(g, "reduce_max", x, axes, true);
  ir::Value* s = reduce(g, "reduce_sum", g.add1("exp", {g.add1("sub", {x, m})}), axes, keepdim);
  ir::Value* m_out = keepdim ? m : reduce(g, "reduce_max", x, axes, false);
  return one(g.add1("add", {g.add1("log", {s}), m_out}));
}

}  // namespace

void add_reduction_converters(ConverterTable& table) {
  add_row(table, "sum", sum_like("reduce_sum", false));
  add_row(table, "mean", sum_like("reduce_mean", true));
  add_row(table, "prod", sum_like("reduce_prod", false));
  add_row(table, "max", max_min(true));
  add_row(table, "min", max_min(false));
  add_row(table, "amax", amax_amin(true));
  add_row(table, "amin", amax_amin(false));
  add_row(table, "argmax", arg_reduce(true));
  add_row(table, "argmin", arg_reduce(false));
  add_row(table, "norm", norm);
  add_row(table, "linalg_vector_norm", linalg_vector_norm);
  add_row(table, "frobenius_norm", frobenius_norm);
  add_row(table, "var", variance(false, false));
  add_row(table, "std", variance(true, false));
  add_row(table, "var_mean", variance(false, true));
  add_row(table, "std_mean", variance(true, true));
  add_row(table, "cumsum", cumsum, true);
  add_row(table, "all", all_any(true));
  add_row(table, "any", all_any(false));
  add_row(table, "logsumexp", logsumexp);
}

}  // namespace exporters::frontend
