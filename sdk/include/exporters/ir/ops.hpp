// The canonical op set. Every frontend lowers to these ops, every pass and
// backend consumes only these. Each op is one row of a flat table (name,
// type inference); the interpreter and the backends keep their own tables
// keyed by the same names.
//
// Conventions: shapes are static; axes attributes are already normalised to
// be non-negative; binary elementwise ops broadcast numpy-style and require
// equal input dtypes (the frontend inserts casts, as PyTorch's type
// promotion would). Optional inputs are nullptr.
//
// ─ Constants ─────────────────────────────────────────────────────────────
//   constant            () -> T                 {value: Tensor}
// ─ Elementwise binary (broadcasting; same dtype in, same dtype out) ───────
//   add sub mul div     div on integers truncates toward zero
//   floor_div           floor(a / b)   (Python //)
//   mod                 a - floor(a / b) * b   (Python %, sign of b)
//   pow maximum minimum
// ─ Comparisons and logic (broadcasting; -> bool) ────────────────────────
//   equal not_equal less less_equal greater greater_equal     (same dtype in)
//   logical_and logical_or logical_xor                          (bool in)
// ─ Elementwise unary (same dtype out) ────────────────────────────────────
//   neg abs exp log sqrt rsqrt reciprocal sin cos tanh sigmoid erf floor
//   ceil round(half to even) sign relu silu hardswish hardsigmoid identity
//   logical_not (bool)
//   gelu                {approximate: "none"|"tanh"}
//   softplus            {beta: f, threshold: f}
//   clamp               {min?: f, max?: f}   (absent = unbounded)
//   leaky_relu          {alpha: f}
//   elu                 {alpha: f}
// ─ Type and selection ────────────────────────────────────────────────────
//   cast                (x) {dtype: "f32"|...}
//   where               (cond: bool, a, b) -> broadcast(cond, a, b), dtype of a
// ─ Linear algebra ────────────────────────────────────────────────────────
//   matmul              (a[..., M, K], b[..., K, N]) batch dims broadcast; rank >= 2
//   linear              (x[..., K], w[N, K], bias[N]?) -> [..., N]
//   conv                (x[N, C, *spatial], w[O, C/groups, *k], bias[O]?)
//                       {strides, dilations: [s], pads: [begin..., end...], groups}
//                       1-D and 2-D (spatial rank 1 or 2)
//   conv_transpose      (x[N, C, *], w[C, O/groups, *k], bias[O]?)
//                       {strides, dilations, pads: [begin..., end...], output_padding, groups}
// ─ Normalisation ─────────────────────────────────────────────────────────
//   layer_norm          (x, gamma?, beta?) {axes: trailing axes, epsilon}
//                       gamma/beta have the shape of the normalised trailing dims
//   group_norm          (x[N, C, *], gamma[C]?, beta[C]?) {groups, epsilon}
//   batch_norm          (x[N, C, *], mean[C], var[C], gamma[C]?, beta[C]?) {epsilon}
// ─ Activations over an axis ─────────────────────────────────────────────
//   softmax log_softmax (x) {axis}
// ─ Reductions ────────────────────────────────────────────────────────────
//   reduce_sum reduce_mean reduce_max reduce_min reduce_prod
//                       (x) {axes: [..] (empty = all), keepdims: 0|1}
//   argmax argmin       (x) {axis, keepdims} -> i64
//   cumsum              (x) {axis, exclusive: 0|1, reverse: 0|1}
// ─ Shape and data movement ───────────────────────────────────────────────
//   reshape             (x) {shape: [..]} (fully specified, same numel)
//   transpose           (x) {perm: [..]}
//   slice               (x) {axes, starts, ends, steps} (normalised, clamped, steps > 0)
//   concat              (x0, x1, ...) {axis}
//   expand              (x) {shape} numpy broadcast of x to shape
//   tile                (x) {repeats: [per axis]}
//   flip                (x) {axes}
//   gather              (x, indices: i32|i64) {axis}  out = x.shape[:axis] + idx.shape + x.shape[axis+1:]
//                       negative indices count from the end
//   gather_elements     (x, indices) {axis}   (torch.gather)
//   scatter_elements    (x, indices, updates) {axis}  (torch.scatter, no reduction)
//   pad                 (x) {pads: [begin per axis..., end per axis...], mode:
//                       "constant"|"reflect"|"replicate", value: f}
//   resize              (x[N, C, *spatial]) {mode: "nearest"|"linear"|"cubic",
//                       sizes: [spatial sizes], align_corners: 0|1}
//                       nearest follows PyTorch's 'nearest' (floor(dst * in/out))
// ─ Pooling ───────────────────────────────────────────────────────────────
//   max_pool avg_pool   (x[N, C, *spatial]) {kernel, strides, pads: [begin..., end...],
//                       ceil_mode, count_include_pad (avg only)}
//   adaptive_avg_pool adaptive_max_pool (x[N, C, *spatial]) {sizes}
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "exporters/ir/graph.hpp"

namespace exporters::ir {

// Infers the output types of one op; throws IrError with a message that
// does not need to repeat the op name (the caller prefixes it).
using TypeInference = std::function<std::vector<TensorType>(
    const std::vector<const TensorType*>& inputs, const Attrs& attrs)>;

struct OpSchema {
  std::string name;
  int min_inputs = 0;
  int max_inputs = 0;  // -1 = variadic
  TypeInference infer;
};

// The canonical op table (built once).
const OpSchema* find_op(const std::string& name);
std::vector<std::string> op_names();

// Output types of `op` applied to `inputs` (nullptr = absent optional);
// throws IrError prefixed with the op (and `name` when given).
std::vector<TensorType> infer_types(const std::string& op, const std::vector<Value*>& inputs,
                                    const Attrs& attrs, const std::string& name = {});

// numpy broadcasting of two shapes; throws IrError when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b);
// Normalises a possibly negative axis against `rank`; throws when out of range.
int64_t normalize_axis(int64_t axis, int64_t rank);

}  // namespace exporters::ir
