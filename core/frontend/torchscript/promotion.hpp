// PyTorch type promotion and the operand helpers the op converters share:
// how tensors and Python scalars become IR values of one common dtype, and
// small builders (casts, scalar constants, axis normalisation) used by every
// converters_*.cpp. LibTorch-free: only the SDK API.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "exporters/frontend/converter.hpp"
#include "exporters/ir/graph.hpp"

namespace exporters::frontend {

// ── Type promotion ──────────────────────────────────────────────────────────

// torch.promote_types over the IR dtypes. u8 with i8 gives i16 in PyTorch,
// which the IR lacks; it becomes i32 (every value fits).
ir::DType promote_types(ir::DType a, ir::DType b);

// torch.result_type over tensors and Python scalars (None entries are
// skipped). PyTorch ranks operands in three tiers - tensors of rank > 0,
// rank-0 tensors, Python scalars - and a lower tier only changes the result
// when it has a higher category (bool < integer < float): f16 tensor + 2.5
// stays f16, i32 tensor + 2.5 becomes f32, i32 tensor + i64 rank-0 tensor
// stays i32. Throws ConversionError when no operand is a tensor or scalar.
ir::DType result_type(const std::vector<Operand>& operands);

// The dtype of a Python scalar operand as a tensor: bool, i64 or f32
// (PyTorch's default float dtype). nullopt for non-scalars.
std::optional<ir::DType> scalar_dtype(const Operand& operand);

// int/double/bool.
bool is_scalar(const Operand& operand);
// A non-null ir::Value*.
bool is_tensor(const Operand& operand);
// Absent operand: index past the end or None.
bool is_absent(const NodeView& node, size_t index);

// Integer and bool dtypes become f32 (true division, exp, sqrt...).
ir::DType float_or_default(ir::DType dtype);

// ── Building values ─────────────────────────────────────────────────────────

// `value` itself when it already has `dtype`, else a cast node.
ir::Value* cast_to(ir::Graph& graph, ir::Value* value, ir::DType dtype);

// A tensor operand cast to `dtype`, or a scalar operand as a rank-0
// constant of `dtype`.
ir::Value* operand_as(ConversionContext& ctx, const NodeView& node, size_t index, ir::DType dtype);

// Python scalar held as the widest C++ type of its kind.
using Scalar = std::variant<int64_t, double, bool>;
Scalar scalar_operand(const NodeView& node, size_t index);  // throws naming the argument
double scalar_as_double(const Scalar& s);

// A tensor of `shape` filled with `value`, converted to `dtype` as a
// static_cast would (f16 rounds to nearest even).
ir::Tensor filled_tensor(ir::DType dtype, const ir::Shape& shape, const Scalar& value);
// Rank-0 constant.
ir::Value* scalar_constant(ir::Graph& graph, const Scalar& value, ir::DType dtype);
// A constant holding `values` (converted to `dtype`) with `shape`.
ir::Value* constant_from_doubles(ir::Graph& graph, ir::DType dtype, const ir::Shape& shape,
                                 const std::vector<double>& values);
ir::Value* constant_from_ints(ir::Graph& graph, ir::DType dtype, const ir::Shape& shape,
                              const std::vector<int64_t>& values);
// A tensor of `shape` and `dtype` filled with `value`: a constant for small
// tensors, an `expand` of a rank-0 constant for large ones (no large
// all-equal weights).
ir::Value* full_value(ir::Graph& graph, ir::DType dtype, const ir::Shape& shape, const Scalar& value);

// Writes element i of an owned tensor from a double / int64.
void set_element(ir::Tensor& tensor, int64_t i, double value);
void set_element_int(ir::Tensor& tensor, int64_t i, int64_t value);

// ── Shapes and axes ─────────────────────────────────────────────────────────

// PyTorch dim wrapping: dim in [-rank, rank) (rank 0 accepts -1 and 0).
// Throws ConversionError naming the op and argument.
int64_t wrap_dim(const NodeView& node, const std::string& arg, int64_t dim, int64_t rank);
// Wraps every dim and rejects repeats; sorted ascending.
std::vector<int64_t> wrap_dims(const NodeView& node, const std::string& arg, const std::vector<int64_t>& dims,
                               int64_t rank);

// reshape, skipped when the shape is unchanged.
ir::Value* reshape_to(ir::Graph& graph, ir::Value* value, const ir::Shape& shape);
// expand, skipped when the shape is unchanged.
ir::Value* expand_to(ir::Graph& graph, ir::Value* value, const ir::Shape& shape);
// transpose, skipped for the identity permutation.
ir::Value* permute(ir::Graph& graph, ir::Value* value, const std::vector<int64_t>& perm);
// One slice along `axis`; start/end already clamped to [0, dim].
ir::Value* slice_axis(ir::Graph& graph, ir::Value* value, int64_t axis, int64_t start, int64_t end,
                      int64_t step = 1);

// ConversionError "<op>: <message>".
[[noreturn]] void conversion_error(const NodeView& node, const std::string& message);

// Whether the node's schema names an argument `name` ("dtype", "names",
// "correction"). Schemas reach converters without the overload name, so
// overloads are told apart by their arguments.
bool schema_has_argument(const NodeView& node, const std::string& name);

// Registers `converter` under "aten::<name>" and, when `inplace`, also under
// "aten::<name>_" with the result cast back to self's dtype and checked to
// keep self's shape, as PyTorch's in-place ops do.
void add_row(std::map<std::string, OpConverter>& table, const std::string& name, OpConverter converter,
             bool inplace = false);

}  // namespace exporters::frontend
