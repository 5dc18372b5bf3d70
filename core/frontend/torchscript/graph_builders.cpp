#include "graph_builders.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "exporters/ir/ops.hpp"

namespace exporters::frontend::build {

ir::Value* scalar(ir::Graph& g, ir::DType dtype, double v) {
  ir::Tensor t = ir::is_float(dtype) ? ir::Tensor::scalar_f32(static_cast<float>(v))
                                     : ir::Tensor::scalar_i64(static_cast<int64_t>(v));
  if (t.dtype() != dtype) t = t.cast(dtype);
  return g.constant(std::move(t));
}

ir::Value* reshape(ir::Graph& g, ir::Value* x, const ir::Shape& shape) {
  if (x->type.shape == shape) return x;
  return g.add1("reshape", {x}, {{"shape", shape}});
}

ir::Value* transpose(ir::Graph& g, ir::Value* x, const std::vector<int64_t>& perm) {
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i) identity = identity && perm[i] == static_cast<int64_t>(i);
  if (identity) return x;
  return g.add1("transpose", {x}, {{"perm", perm}});
}

ir::Value* cast(ir::Graph& g, ir::Value* x, ir::DType dtype) {
  if (x->type.dtype == dtype) return x;
  return g.add1("cast", {x}, {{"dtype", std::string(ir::dtype_name(dtype))}});
}

ir::Value* binary(ir::Graph& g, const std::string& op, ir::Value* a, ir::Value* b) {
  return g.add1(op, {a, b});
}

ir::Value* unary(ir::Graph& g, const std::string& op, ir::Value* x) { return g.add1(op, {x}); }

ir::Value* slice(ir::Graph& g, ir::Value* x, int64_t axis, int64_t start, int64_t end) {
  if (start == 0 && end == x->type.shape[axis]) return x;
  return g.add1("slice", {x},
                {{"axes", std::vector<int64_t>{axis}},
                 {"starts", std::vector<int64_t>{start}},
                 {"ends", std::vector<int64_t>{end}},
                 {"steps", std::vector<int64_t>{1}}});
}

ir::Value* reduce_sum(ir::Graph& g, ir::Value* x, const std::vector<int64_t>& axes, bool keepdims) {
  if (axes.empty()) return x;
  return g.add1("reduce_sum", {x}, {{"axes", axes}, {"keepdims", int64_t{keepdims ? 1 : 0}}});
}

ir::Value* scale(ir::Graph& g, ir::Value* x, double factor) {
  if (factor == 1.0) return x;
  return g.add1("mul", {x, scalar(g, x->type.dtype, factor)});
}

ir::Value* unsqueeze(ir::Graph& g, ir::Value* x, int64_t axis) {
  ir::Shape shape = x->type.shape;
  shape.insert(shape.begin() + axis, 1);
  return reshape(g, x, shape);
}

ir::Value* squeeze(ir::Graph& g, ir::Value* x, int64_t axis) {
  ir::Shape shape = x->type.shape;
  shape.erase(shape.begin() + axis);
  return reshape(g, x, shape);
}

ir::Value* torch_matmul(ir::Graph& g, ir::Value* a, ir::Value* b) {
  const int64_t ra = a->type.rank();
  const int64_t rb = b->type.rank();
  if (ra == 0 || rb == 0) {
    throw ir::IrError(fmt::format("matmul: both arguments need at least 1 dimension, got {} and {}",
                                  a->type.to_string(), b->type.to_string()));
  }
  ir::Value* a2 = ra == 1 ? reshape(g, a, {1, a->type.shape[0]}) : a;
  ir::Value* b2 = rb == 1 ? reshape(g, b, {b->type.shape[0], 1}) : b;
  // Equal ranks, so the IR matmul only has to broadcast size-1 batch dims.
  const int64_t rank = std::max(a2->type.rank(), b2->type.rank());
  auto pad_rank = [&](ir::Value* v) {
    ir::Shape s = v->type.shape;
    s.insert(s.begin(), static_cast<size_t>(rank - v->type.rank()), 1);
    return reshape(g, v, s);
  };
  a2 = pad_rank(a2);
  b2 = pad_rank(b2);
  ir::Value* out = g.add1("matmul", {a2, b2});
  ir::Shape shape = out->type.shape;
  // Drop the padded batch dims again (torch's result rank is max(ra, rb)).
  const int64_t out_rank = std::max(ra, rb);
  ir::Shape final_shape(shape.end() - 2, shape.end());
  ir::Shape batch(shape.begin(), shape.end() - 2);
  const int64_t keep_batch = std::max<int64_t>(out_rank - 2, 0);
  batch.erase(batch.begin(), batch.end() - keep_batch);
  final_shape.insert(final_shape.begin(), batch.begin(), batch.end());
  if (rb == 1) final_shape.erase(final_shape.end() - 1);
  if (ra == 1) final_shape.erase(final_shape.end() - (rb == 1 ? 1 : 2));
  return reshape(g, out, final_shape);
}

int64_t normalize_dim(int64_t dim, int64_t rank, const std::string& op) {
  const int64_t r = std::max<int64_t>(rank, 1);
  if (dim < -r || dim >= r) {
    throw ir::IrError(fmt::format("{}: dim {} out of range for a rank-{} tensor", op, dim, rank));
  }
  return dim < 0 ? dim + r : dim;
}

}  // namespace exporters::frontend::build
