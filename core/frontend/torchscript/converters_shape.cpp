// Shape and indexing converters: view/reshape/flatten/unflatten, permute
// transpose movedim, expand/repeat, cat/stack/split/chunk/unbind, flip roll,
// slice select narrow, advanced indexing (index, index_put_), index_select
// gather scatter, (un)squeeze, pad and its per-mode forms, numel.
#include <algorithm>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "converter_table.hpp"
#include "promotion.hpp"

#include "exporters/ir/ops.hpp"

namespace exporters::frontend {

namespace {

using Result = std::vector<Operand>;

Result one(ir::Value* v) { return Result{v}; }

std::string shape_str(const std::vector<int64_t>& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

// A size list with at most one -1, resolved against `numel`.
ir::Shape infer_size(const NodeView& node, const std::string& arg, const std::vector<int64_t>& sizes, int64_t numel) {
  ir::Shape out = sizes;
  int64_t known = 1;
  int64_t infer_at = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (infer_at >= 0) conversion_error(node, fmt::format("{} {} has more than one -1", arg, shape_str(sizes)));
      infer_at = static_cast<int64_t>(i);
    } else if (out[i] < 0) {
      conversion_error(node, fmt::format("{} {} has a negative size", arg, shape_str(sizes)));
    } else {
      known *= out[i];
    }
  }
  if (infer_at >= 0) {
    if (known == 0 || numel % known != 0)
      conversion_error(node, fmt::format("{} {} cannot be inferred for {} elements", arg, shape_str(sizes), numel));
    out[infer_at] = numel / known;
  } else if (known != numel) {
    conversion_error(node, fmt::format("{} {} is invalid for an input of {} elements", arg, shape_str(sizes), numel));
  }
  return out;
}

std::vector<int64_t> static_ints(ConversionContext& ctx, const NodeView& node, size_t index, const std::string& arg) {
  if (index >= node.inputs.size() || is_tensor(node.inputs[index]) || is_absent(node, index))
    conversion_error(node, fmt::format("'{}' must be a constant int list (static shapes only), got {}", arg,
                                       index < node.inputs.size() ? operand_kind(node.inputs[index]) : "nothing"));
  return ctx.int_list(node, index);
}

// ── view / reshape family ─────────────────────────────────────────────────────

Result view(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  if (schema_has_argument(node, "dtype"))
    conversion_error(node, "view(dtype) reinterprets bytes; not supported");
  auto shape = infer_size(node, "size", static_ints(ctx, node, 1, "size"), x->type.numel());
  return one(reshape_to(ctx.graph(), x, shape));
}

Result view_as(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  ir::Value* other = ctx.tensor(node, 1);
  if (other->type.numel() != x->type.numel())
    conversion_error(node, fmt::format("cannot view {} as {}", shape_str(x->type.shape), shape_str(other->type.shape)));
  return one(reshape_to(ctx.graph(), x, other->type.shape));
}

// flatten(self, start_dim=0, end_dim=-1); a rank-0 input becomes [1].
Result flatten(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  const int64_t rank = x->type.rank();
  if (rank == 0) return one(reshape_to(ctx.graph(), x, {1}));
  const int64_t s = wrap_dim(node, "start_dim", is_absent(node, 1) ? 0 : ctx.to_int(node, 1), rank);
  const int64_t e = wrap_dim(node, "end_dim", is_absent(node, 2) ? -1 : ctx.to_int(node, 2), rank);
  if (s > e) conversion_error(node, fmt::format("start_dim {} comes after end_dim {}", s, e));
  ir::Shape out(x->type.shape.begin(), x->type.shape.begin() + s);
  int64_t n = 1;
  for (int64_t i = s; i <= e; ++i) n *= x->type.shape[i];
  out.push_back(n);
  out.insert(out.end(), x->type.shape.begin() + e + 1, x->type.shape.end());
  return one(reshape_to(ctx.graph(), x, out));
}

// unflatten(self, dim, sizes) with one -1 allowed.
Result unflatten(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  const int64_t d = wrap_dim(node, "dim", ctx.to_int(node, 1), x->type.rank());
  if (x->type.rank() == 0) conversion_error(node, "cannot unflatten a 0-dimensional tensor");
  auto sizes = infer_size(node, "sizes", static_ints(ctx, node, 2, "sizes"), x->type.shape[d]);
  ir::Shape out(x->type.shape.begin(), x->type.shape.begin() + d);
  out.insert(out.end(), sizes.begin(), sizes.end());
  out.insert(out.end(), x->type.shape.begin() + d + 1, x->type.shape.end());
  return one(reshape_to(ctx.graph(), x, out));
}

// ── permutations ─────────────────────────────────────────────────────────────

Result permute_op(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  const int64_t rank = x->type.rank();
  auto dims = static_ints(ctx, node, 1, "dims");
  if (static_cast<int64_t>(dims.size()) != rank)
    conversion_error(node, fmt::format("dims has {} entries for a tensor of rank {}", dims.size(), rank));
  std::vector<int64_t> perm;
  for (int64_t d : dims) perm.push_back(wrap_dim(node, "dims", d, rank));
  auto sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < rank; ++i)
    if (sorted[i] != i) conversion_error(node, "dims is not a permutation");
  if (rank == 0) return one(x);
  return one(permute(ctx.graph(), x, perm));
}

Result transpose(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  const int64_t rank = x->type.rank();
  const int64_t a = wrap_dim(node, "dim0", ctx.to_int(node, 1), rank);
  const int64_t b = wrap_dim(node, "dim1", ctx.to_int(node, 2), rank);
  if (rank < 2) return one(x);
  std::vector<int64_t> perm(static_cast<size_t>(rank));
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[a], perm[b]);
  return one(permute(ctx.graph(), x, perm));
}

// movedim(self, source, destination), ints or int lists.
Result movedim(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  const int64_t rank = x->type.rank();
  auto src = ctx.int_list(node, 1);
  auto dst = ctx.int_list(node, 2);
  if (src.size() != dst.size()) conversion_error(node, "source and destination differ in length");
  if (rank == 0) return one(x);
  std::vector<int64_t> perm(static_cast<size_t>(rank), -1);
  std::vector<bool> used(static_cast<size_t>(rank), false);
  for (size_t i = 0; i < src.size(); ++i) {
    const int64_t s = wrap_dim(node, "source", src[i], rank);
    const int64_t d = wrap_dim(node, "destination", dst[i], rank);
    if (perm[d] != -1 || used[s]) conversion_error(node, "repeated dim in source or destination");
    perm[d] = s;
    used[s] = true;
  }
  int64_t next = 0;
  for (auto& p : perm) {
    if (p != -1) continue;
    while (used[next]) ++next;
    p = next;
    used[next] = true;
  }
  return one(permute(ctx.graph(), x, perm));
}

// ── expand / repeat ──────────────────────────────────────────────────────────

ir::Shape expanded_shape(const NodeView& node, const ir::Shape& in, const std::vector<int64_t>& sizes) {
  if (sizes.size() < in.size())
    conversion_error(node, fmt::format("size {} has fewer dims than the input {}", shape_str(sizes), shape_str(in)));
  const size_t lead = sizes.size() - in.size();
  ir::Shape out(sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (i < lead) {
      if (sizes[i] < 0) conversion_error(node, fmt::format("size {}: -1 is not allowed for a new leading dim", shape_str(sizes)));
      out[i] = sizes[i];
      continue;
    }
    const int64_t have = in[i - lead];
    if (sizes[i] == -1 || sizes[i] == have) out[i] = have;
    else if (have == 1 && sizes[i] >= 0) out[i] = sizes[i];
    else conversion_error(node, fmt::format("cannot expand {} to {}", shape_str(in), shape_str(sizes)));
  }
  return out;
}

Result expand(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  auto shape = expanded_shape(node, x->type.shape, static_ints(ctx, node, 1, "size"));
  return one(expand_to(ctx.graph(), x, shape));
}

Result expand_as(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  auto shape = expanded_shape(node, x->type.shape, ctx.tensor(node, 1)->type.shape);
  return one(expand_to(ctx.graph(), x, shape));
}

// repeat(self, repeats): more repeats than dims adds leading dims.
Result repeat(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  auto reps = static_ints(ctx, node, 1, "repeats");
  if (reps.size() < static_cast<size_t>(x->type.rank()))
    conversion_error(node, fmt::format("repeats has {} entries, fewer than the input's rank {}", reps.size(),
                                       x->type.rank()));
  for (int64_t r : reps)
    if (r < 1) conversion_error(node, fmt::format("repeats {} must be >= 1 (empty results are not supported)", shape_str(reps)));
  ir::Shape padded(reps.size() - x->type.shape.size(), 1);
  padded.insert(padded.end(), x->type.shape.begin(), x->type.shape.end());
  ir::Graph& g = ctx.graph();
  ir::Value* y = reshape_to(g, x, padded);
  if (std::all_of(reps.begin(), reps.end(), [](int64_t r) { return r == 1; })) return one(y);
  return one(g.add1("tile", {y}, {{"repeats", reps}}));
}

// ── joining and splitting ──────────────────────────────────────────────────────

// Tensors of a cat/stack list promoted to one dtype.
std::vector<ir::Value*> promoted_list(ConversionContext& ctx, const NodeView& node, size_t index) {
  auto list = ctx.tensor_list(node, index);
  if (list.empty()) conversion_error(node, "'tensors' is empty");
  std::vector<Operand> ops;
  for (ir::Value* v : list) {
    if (!v) conversion_error(node, "'tensors' contains None");
    ops.push_back(v);
  }
  // cat ranks every input alike (no rank-0 tier): promote pairwise.
  ir::DType dt = list[0]->type.dtype;
  for (ir::Value* v : list) dt = promote_types(dt, v->type.dtype);
  for (auto& v : list) v = cast_to(ctx.graph(), v, dt);
  return list;
}

Result cat(ConversionContext& ctx, const NodeView& node) {
  auto list = promoted_list(ctx, node, 0);
  // Legacy: 1-D empty tensors are skipped.
  std::vector<ir::Value*> kept;
  for (ir::Value* v : list)
    if (!(v->type.rank() == 1 && v->type.shape[0] == 0)) kept.push_back(v);
  if (kept.empty()) return one(list[0]);
  const int64_t rank = kept[0]->type.rank();
  if (rank == 0) conversion_error(node, "zero-dimensional tensors cannot be concatenated");
  const int64_t dim = wrap_dim(node, "dim", is_absent(node, 1) ? 0 : ctx.to_int(node, 1), rank);
  if (kept.size() == 1) return one(kept[0]);
  for (ir::Value* v : kept) {
    if (v->type.rank() != rank) conversion_error(node, "tensors have different ranks");
    for (int64_t d = 0; d < rank; ++d)
      if (d != dim && v->type.shape[d] != kept[0]->type.shape[d])
        conversion_error(node, fmt::format("sizes {} and {} differ off dim {}", shape_str(kept[0]->type.shape),
                                           shape_str(v->type.shape), dim));
  }
  return one(ctx.graph().add1("concat", kept, {{"axis", dim}}));
}

Result stack(ConversionContext& ctx, const NodeView& node) {
  auto list = promoted_list(ctx, node, 0);
  const ir::Shape& s0 = list[0]->type.shape;
  const int64_t dim = wrap_dim(node, "dim", is_absent(node, 1) ? 0 : ctx.to_int(node, 1), list[0]->type.rank() + 1);
  ir::Shape expanded = s0;
  expanded.insert(expanded.begin() + dim, 1);
  std::vector<ir::Value*> parts;
  for (ir::Value* v : list) {
    if (v->type.shape != s0)
      conversion_error(node, fmt::format("stack expects equal shapes, got {} and {}", shape_str(s0), shape_str(v->type.shape)));
    parts.push_back(reshape_to(ctx.graph(), v, expanded));
  }
  if (parts.size() == 1) return one(parts[0]);
  return one(ctx.graph().add1("concat", parts, {{"axis", dim}}));
}

Result split_by_sizes(ConversionContext& ctx, const NodeView& node, ir::Value* x, int64_t dim,
                      const std::vector<int64_t>& sizes) {
  std::vector<ir::Value*> parts;
  int64_t start = 0;
  for (int64_t s : sizes) {
    parts.push_back(slice_axis(ctx.graph(), x, dim, start, start + s));
    start += s;
  }
  return Result{parts};
}

// split(self, split_size: int | sizes: int[], dim), split_with_sizes, unsafe_split.
Result split(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  if (x->type.rank() == 0) conversion_error(node, "cannot split a 0-dimensional tensor");
  const int64_t dim = wrap_dim(node, "dim", is_absent(node, 2) ? 0 : ctx.to_int(node, 2), x->type.rank());
  const int64_t n = x->type.shape[dim];
  std::vector<int64_t> sizes;
  if (std::holds_alternative<int64_t>(node.inputs.at(1))) {
    const int64_t size = std::get<int64_t>(node.inputs[1]);
    if (size <= 0 && n > 0) conversion_error(node, fmt::format("split_size={} must be positive", size));
    for (int64_t start = 0; start < n; start += size) sizes.push_back(std::min(size, n - start));
    if (sizes.empty()) sizes.push_back(0);
  } else {
    sizes = static_ints(ctx, node, 1, "split_sizes");
    int64_t total = 0;
    for (int64_t s : sizes) {
      if (s < 0) conversion_error(node, "split_sizes has a negative size");
      total += s;
    }
    if (total != n)
      conversion_error(node, fmt::format("split_sizes {} do not sum to dim {}'s size {}", shape_str(sizes), dim, n));
  }
  return split_by_sizes(ctx, node, x, dim, sizes);
}

// chunk(self, chunks, dim): pieces of ceil(n / chunks), possibly fewer pieces.
Result chunk(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  if (x->type.rank() == 0) conversion_error(node, "cannot chunk a 0-dimensional tensor");
  const int64_t chunks = ctx.to_int(node, 1);
  if (chunks <= 0) conversion_error(node, fmt::format("chunks={} must be positive", chunks));
  const int64_t dim = wrap_dim(node, "dim", is_absent(node, 2) ? 0 : ctx.to_int(node, 2), x->type.rank());
  const int64_t n = x->type.shape[dim];
  const int64_t size = (n + chunks - 1) / chunks;
  std::vector<int64_t> sizes;
  if (size == 0) sizes.assign(static_cast<size_t>(chunks), 0);
  for (int64_t start = 0; size > 0 && start < n; start += size) sizes.push_back(std::min(size, n - start));
  return split_by_sizes(ctx, node, x, dim, sizes);
}

ir::Value* select_index(ir::Graph& g, ir::Value* x, int64_t dim, int64_t index) {
  return g.add1("gather", {x, scalar_constant(g, index, ir::DType::I64)}, {{"axis", dim}});
}

Result unbind(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  if (x->type.rank() == 0) conversion_error(node, "cannot unbind a 0-dimensional tensor");
  const int64_t dim = wrap_dim(node, "dim", is_absent(node, 1) ? 0 : ctx.to_int(node, 1), x->type.rank());
  std::vector<ir::Value*> parts;
  for (int64_t i = 0; i < x->type.shape[dim]; ++i) parts.push_back(select_index(ctx.graph(), x, dim, i));
  return Result{parts};
}

// ── flip / roll ──────────────────────────────────────────────────────────────

Result flip(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  auto axes = wrap_dims(node, "dims", static_ints(ctx, node, 1, "dims"), x->type.rank());
  if (axes.empty() || x->type.rank() == 0) return one(x);
  return one(ctx.graph().add1("flip", {x}, {{"axes", axes}}));
}

ir::Value* roll_axis(ir::Graph& g, ir::Value* x, int64_t axis, int64_t shift) {
  const int64_t n = x->type.shape[axis];
  if (n == 0) return x;
  const int64_t s = ((shift % n) + n) % n;
  if (s == 0) return x;
  return g.add1("concat", {slice_axis(g, x, axis, n - s, n), slice_axis(g, x, axis, 0, n - s)}, {{"axis", axis}});
}

// roll(self, shifts, dims=[]): empty dims rolls the flattened tensor.
Result roll(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  ir::Graph& g = ctx.graph();
  auto shifts = ctx.int_list(node, 1);
  std::vector<int64_t> dims = is_absent(node, 2) ? std::vector<int64_t>{} : ctx.int_list(node, 2);
  if (dims.empty()) {
    if (shifts.size() != 1) conversion_error(node, "shifts must have one entry when dims is empty");
    ir::Value* flat = reshape_to(g, x, {x->type.numel()});
    return one(reshape_to(g, roll_axis(g, flat, 0, shifts[0]), x->type.shape));
  }
  if (shifts.size() != dims.size()) conversion_error(node, "shifts and dims differ in length");
  if (x->type.rank() == 0) return one(x);
  for (size_t i = 0; i < dims.size(); ++i)
    x = roll_axis(g, x, wrap_dim(node, "dims", dims[i], x->type.rank()), shifts[i]);
  return one(x);
}

// ── slicing ─────────────────────────────────────────────────────────────────

// slice(self, dim=0, start?, end?, step=1): Python semantics, clamped.
Result slice(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  if (x->type.rank() == 0) conversion_error(node, "cannot slice a 0-dimensional tensor");
  const int64_t dim = wrap_dim(node, "dim", is_absent(node, 1) ? 0 : ctx.to_int(node, 1), x->type.rank());
  const int64_t n = x->type.shape[dim];
  const int64_t step = is_absent(node, 4) ? 1 : ctx.to_int(node, 4);
  if (step <= 0) conversion_error(node, fmt::format("step={} must be positive", step));
  auto norm = [n](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + n : v, 0, n); };
  const int64_t start = is_absent(node, 2) ? 0 : norm(ctx.to_int(node, 2));
  int64_t end = is_absent(node, 3) ? n : norm(ctx.to_int(node, 3));
  end = std::max(end, start);
  return one(slice_axis(ctx.graph(), x, dim, start, end, step));
}

// narrow(self, dim, start, length); start may be an int or a constant tensor.
Result narrow(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  if (x->type.rank() == 0) conversion_error(node, "cannot narrow a 0-dimensional tensor");
  const int64_t dim = wrap_dim(node, "dim", ctx.to_int(node, 1), x->type.rank());
  const int64_t n = x->type.shape[dim];
  int64_t start = 0;
  if (is_tensor(node.inputs.at(2))) {
    const ir::Tensor* t = ctx.constant_data(ctx.tensor(node, 2));
    if (!t || t->numel() != 1) conversion_error(node, "'start' tensor must be a constant with one element");
    start = t->element_as_int(0);
  } else {
    start = ctx.to_int(node, 2);
  }
  const int64_t length = ctx.to_int(node, 3);
  if (start < -n || start > n) conversion_error(node, fmt::format("start={} out of range for size {}", start, n));
  if (start < 0) start += n;
  if (length < 0 || start + length > n)
    conversion_error(node, fmt::format("start ({}) + length ({}) exceeds dimension size ({})", start, length, n));
  return one(slice_axis(ctx.graph(), x, dim, start, start + length));
}

// select(self, dim, index) with a negative index counting from the end.
Result select(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  if (x->type.rank() == 0) conversion_error(node, "select() cannot be applied to a 0-dimensional tensor");
  const int64_t dim = wrap_dim(node, "dim", ctx.to_int(node, 1), x->type.rank());
  const int64_t n = x->type.shape[dim];
  int64_t index = ctx.to_int(node, 2);
  if (index < -n || index >= n)
    conversion_error(node, fmt::format("index {} out of range for dim {} of size {}", index, dim, n));
  if (index < 0) index += n;
  return one(select_index(ctx.graph(), x, dim, index));
}

// ── (un)squeeze ────────────────────────────────────────────────────────────────

Result unsqueeze(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  const int64_t dim = wrap_dim(node, "dim", ctx.to_int(node, 1), x->type.rank() + 1);
  ir::Shape s = x->type.shape;
  s.insert(s.begin() + dim, 1);
  return one(reshape_to(ctx.graph(), x, s));
}

// squeeze(self), squeeze(self, dim), squeeze(self, dims).
Result squeeze(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  const int64_t rank = x->type.rank();
  std::vector<int64_t> dims;
  if (node.inputs.size() >= 2 && !is_absent(node, 1)) {
    dims = wrap_dims(node, "dim", ctx.int_list(node, 1), rank);
  } else {
    for (int64_t i = 0; i < rank; ++i) dims.push_back(i);
  }
  ir::Shape s;
  for (int64_t i = 0; i < rank; ++i) {
    const bool drop = x->type.shape[i] == 1 && std::find(dims.begin(), dims.end(), i) != dims.end();
    if (!drop) s.push_back(x->type.shape[i]);
  }
  return one(reshape_to(ctx.graph(), x, s));
}

// ── gather / scatter / index_select ──────────────────────────────────────────

ir::Value* index_tensor(const NodeView& node, ir::Value* v, const std::string& arg) {
  if (v->type.dtype != ir::DType::I64 && v->type.dtype != ir::DType::I32)
    conversion_error(node, fmt::format("'{}' must be an int64 or int32 tensor, got {}", arg, ir::dtype_name(v->type.dtype)));
  return v;
}

Result index_select(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  ir::Graph& g = ctx.graph();
  ir::Value* idx = index_tensor(node, ctx.tensor(node, 2), "index");
  if (idx->type.rank() > 1) conversion_error(node, "'index' must be 0- or 1-dimensional");
  if (x->type.rank() == 0) {
    if (idx->type.numel() != 1) conversion_error(node, "index_select on a 0-dimensional tensor needs one index");
    return one(x);
  }
  const int64_t dim = wrap_dim(node, "dim", ctx.to_int(node, 1), x->type.rank());
  return one(g.add1("gather", {x, reshape_to(g, idx, {idx->type.numel()})}, {{"axis", dim}}));
}

Result gather(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  ir::Value* idx = index_tensor(node, ctx.tensor(node, 2), "index");
  const int64_t dim = wrap_dim(node, "dim", ctx.to_int(node, 1), x->type.rank());
  if (idx->type.rank() != x->type.rank())
    conversion_error(node, fmt::format("'index' rank {} differs from self's rank {}", idx->type.rank(), x->type.rank()));
  if (x->type.rank() == 0) return one(x);
  return one(ctx.graph().add1("gather_elements", {x, idx}, {{"axis", dim}}));
}

// Tensor.unfold(dimension, size, step): windows along `dimension` become a
// new axis there, their elements a new last axis. One gather with the
// constant window indices (i*step + j), then a reshape and a transpose.
Result unfold_windows(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  ir::Graph& g = ctx.graph();
  const int64_t rank = x->type.rank();
  const int64_t size = ctx.to_int(node, 2), step = ctx.to_int(node, 3);
  if (rank == 0) conversion_error(node, "unfold of a 0-dimensional tensor is not supported");
  const int64_t dim = wrap_dim(node, "dimension", ctx.to_int(node, 1), rank);
  const int64_t length = x->type.shape[dim];
  if (size < 0 || size > length || step <= 0)
    conversion_error(node, fmt::format("size {} and step {} do not fit dimension {} of {}", size, step, dim,
                                       x->type.to_string()));
  const int64_t windows = (length - size) / step + 1;
  std::vector<int64_t> index;
  for (int64_t i = 0; i < windows; ++i)
    for (int64_t j = 0; j < size; ++j) index.push_back(i * step + j);
  ir::Value* picked = g.add1("gather", {x, g.constant(ir::Tensor::from_i64({windows * size}, index))}, {{"axis", dim}});
  ir::Shape split = x->type.shape;
  split[dim] = size;
  split.insert(split.begin() + dim, windows);  // [..., windows, size, ...]
  std::vector<int64_t> perm;
  for (int64_t a = 0; a <= rank; ++a)
    if (a != dim + 1) perm.push_back(a);
  perm.push_back(dim + 1);
  return one(g.add1("transpose", {reshape_to(g, picked, split)}, {{"perm", perm}}));
}

// scatter(self, dim, index, src | value); the reduce forms are not supported.
Result scatter(ConversionContext& ctx, const NodeView& node) {
  if (node.inputs.size() > 4 && !is_absent(node, 4))
    conversion_error(node, "scatter with 'reduce' is not supported");
  ir::Value* x = ctx.tensor(node, 0);
  ir::Graph& g = ctx.graph();
  ir::Value* idx = index_tensor(node, ctx.tensor(node, 2), "index");
  const int64_t dim = wrap_dim(node, "dim", ctx.to_int(node, 1), x->type.rank());
  if (idx->type.rank() != x->type.rank())
    conversion_error(node, fmt::format("'index' rank {} differs from self's rank {}", idx->type.rank(), x->type.rank()));
  ir::Value* updates;
  if (is_tensor(node.inputs.at(3))) {
    ir::Value* src = cast_to(g, ctx.tensor(node, 3), x->type.dtype);
    if (src->type.rank() != idx->type.rank()) conversion_error(node, "'src' must have the rank of 'index'");
    // Only src[:index.shape] takes part.
    for (int64_t d = 0; d < src->type.rank(); ++d) {
      if (src->type.shape[d] < idx->type.shape[d]) conversion_error(node, "'index' is larger than 'src'");
      src = slice_axis(g, src, d, 0, idx->type.shape[d]);
    }
    updates = src;
  } else {
    updates = full_value(g, x->type.dtype, idx->type.shape, scalar_operand(node, 3));
  }
  if (x->type.rank() == 0) return one(updates);
  return one(g.add1("scatter_elements", {x, idx, updates}, {{"axis", dim}}));
}

// ── advanced indexing ──────────────────────────────────────────────────────────

// Indices of a Tensor?[] list resolved to one integer tensor per indexed
// axis (bool masks expanded to their nonzero coordinates when constant).
struct AdvancedIndex {
  std::vector<int64_t> axes;          // indexed axes, ascending
  std::vector<ir::Value*> indices;    // one per axis, i32/i64
};

// Nonzero coordinates of a constant mask, one i64 vector per mask dim.
std::vector<ir::Value*> mask_to_indices(ir::Graph& g, const ir::Tensor& mask) {
  const int64_t k = static_cast<int64_t>(mask.shape().size());
  std::vector<std::vector<int64_t>> coords(static_cast<size_t>(k));
  std::vector<int64_t> strides(static_cast<size_t>(k), 1);
  for (int64_t d = k - 2; d >= 0; --d) strides[d] = strides[d + 1] * mask.shape()[d + 1];
  for (int64_t i = 0; i < mask.numel(); ++i) {
    if (mask.element_as_int(i) == 0) continue;
    for (int64_t d = 0; d < k; ++d) coords[d].push_back((i / strides[d]) % mask.shape()[d]);
  }
  std::vector<ir::Value*> out;
  for (auto& c : coords) out.push_back(constant_from_ints(g, ir::DType::I64, {static_cast<int64_t>(c.size())}, c));
  return out;
}

bool is_mask(const ir::Value* v) { return v->type.dtype == ir::DType::Bool || v->type.dtype == ir::DType::U8; }

AdvancedIndex resolve_indices(ConversionContext& ctx, const NodeView& node, ir::Value* x,
                              const std::vector<ir::Value*>& list) {
  AdvancedIndex out;
  int64_t axis = 0;
  const int64_t rank = x->type.rank();
  for (ir::Value* v : list) {
    if (!v) {
      ++axis;
      continue;
    }
    if (is_mask(v)) {
      const int64_t k = v->type.rank();
      if (axis + k > rank) conversion_error(node, "too many indices for the tensor's rank");
      for (int64_t d = 0; d < k; ++d)
        if (v->type.shape[d] != x->type.shape[axis + d])
          conversion_error(node, fmt::format("mask of shape {} does not match the indexed dims of {}",
                                             shape_str(v->type.shape), shape_str(x->type.shape)));
      const ir::Tensor* data = ctx.constant_data(v);
      if (!data)
        conversion_error(node, "a boolean mask index must be a constant (the result shape depends on its values)");
      auto coords = mask_to_indices(ctx.graph(), *data);
      for (int64_t d = 0; d < k; ++d) {
        out.axes.push_back(axis + d);
        out.indices.push_back(coords[d]);
      }
      axis += k;
      continue;
    }
    if (axis >= rank) conversion_error(node, "too many indices for the tensor's rank");
    out.axes.push_back(axis++);
    out.indices.push_back(index_tensor(node, v, "indices"));
  }
  if (out.axes.empty()) conversion_error(node, "'indices' holds no index tensor");
  return out;
}

bool adjacent(const std::vector<int64_t>& axes) {
  for (size_t i = 1; i < axes.size(); ++i)
    if (axes[i] != axes[i - 1] + 1) return false;
  return true;
}

// Flat row-major offset into the indexed dims, negatives wrapped; i64.
ir::Value* linear_index(ConversionContext& ctx, ir::Value* x, const AdvancedIndex& adv) {
  ir::Graph& g = ctx.graph();
  ir::Value* total = nullptr;
  int64_t stride = 1;
  for (size_t k = adv.axes.size(); k-- > 0;) {
    const int64_t n = x->type.shape[adv.axes[k]];
    ir::Value* idx = cast_to(g, adv.indices[k], ir::DType::I64);
    ir::Value* wrapped;
    if (const ir::Tensor* t = ctx.constant_data(idx)) {
      std::vector<int64_t> vals(static_cast<size_t>(t->numel()));
      for (int64_t i = 0; i < t->numel(); ++i) {
        int64_t v = t->element_as_int(i);
        vals[i] = (v < 0 ? v + n : v) * stride;
      }
      wrapped = constant_from_ints(g, ir::DType::I64, idx->type.shape, vals);
    } else {
      ir::Value* size = scalar_constant(g, n, ir::DType::I64);
      ir::Value* neg = g.add1("less", {idx, scalar_constant(g, int64_t{0}, ir::DType::I64)});
      wrapped = g.add1("where", {neg, g.add1("add", {idx, size}), idx});
      if (stride != 1) wrapped = g.add1("mul", {wrapped, scalar_constant(g, stride, ir::DType::I64)});
    }
    total = total ? g.add1("add", {total, wrapped}) : wrapped;
    stride *= n;
  }
  return total;
}

// x[indices] for Tensor?[] indices: one gather on the indexed axis, or on
// the indexed dims merged into one (several indices broadcast together).
Result index(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  ir::Graph& g = ctx.graph();
  if (x->type.rank() == 0) conversion_error(node, "cannot index a 0-dimensional tensor");
  AdvancedIndex adv = resolve_indices(ctx, node, x, ctx.tensor_list(node, 1));
  if (adv.axes.size() == 1) return one(g.add1("gather", {x, adv.indices[0]}, {{"axis", adv.axes[0]}}));
  ir::Value* lin = linear_index(ctx, x, adv);
  const ir::Shape& s = x->type.shape;
  int64_t merged = 1;
  for (int64_t a : adv.axes) merged *= s[a];
  if (adjacent(adv.axes)) {
    const int64_t a0 = adv.axes.front(), a1 = adv.axes.back();
    ir::Shape m(s.begin(), s.begin() + a0);
    m.push_back(merged);
    m.insert(m.end(), s.begin() + a1 + 1, s.end());
    return one(g.add1("gather", {reshape_to(g, x, m), lin}, {{"axis", a0}}));
  }
  // Non-adjacent indexed dims go first (PyTorch puts the broadcast index dims in front).
  std::vector<int64_t> perm = adv.axes;
  ir::Shape m{merged};
  for (int64_t i = 0; i < x->type.rank(); ++i)
    if (std::find(adv.axes.begin(), adv.axes.end(), i) == adv.axes.end()) {
      perm.push_back(i);
      m.push_back(s[i]);
    }
  ir::Value* xt = reshape_to(g, permute(g, x, perm), m);
  return one(g.add1("gather", {xt, lin}, {{"axis", int64_t{0}}}));
}

// index_put(self, indices, values, accumulate=False).
Result index_put(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  ir::Graph& g = ctx.graph();
  if (!is_absent(node, 3) && ctx.to_bool(node, 3)) conversion_error(node, "accumulate=True is not supported");
  auto list = ctx.tensor_list(node, 1);
  ir::Value* values = cast_to(g, ctx.tensor(node, 2), x->type.dtype);
  const int64_t rank = x->type.rank();

  // A single boolean mask (possibly after leading ':' entries) whose values
  // broadcast over the dims after it: where(mask, values, self), any mask.
  {
    int64_t lead = 0;
    ir::Value* mask = nullptr;
    size_t count = 0;
    for (ir::Value* v : list) {
      if (v) {
        ++count;
        mask = v;
      } else if (!mask) {
        ++lead;
      }
    }
    if (count == 1 && mask && is_mask(mask)) {
      const int64_t k = mask->type.rank();
      const int64_t trailing = rank - lead - k;
      if (trailing >= 0 && values->type.rank() <= trailing) {
        ir::Shape cs(static_cast<size_t>(lead), 1);
        cs.insert(cs.end(), mask->type.shape.begin(), mask->type.shape.end());
        cs.insert(cs.end(), static_cast<size_t>(trailing), 1);
        ir::Value* cond = reshape_to(g, cast_to(g, mask, ir::DType::Bool), cs);
        ir::Value* out = g.add1("where", {cond, values, x});
        if (out->type.shape != x->type.shape)
          conversion_error(node, fmt::format("values of shape {} do not fit self {}", shape_str(values->type.shape),
                                             shape_str(x->type.shape)));
        return one(out);
      }
    }
  }

  AdvancedIndex adv = resolve_indices(ctx, node, x, list);
  const ir::Shape& s = x->type.shape;
  // Broadcast shape of the index tensors.
  ir::Shape b;
  for (ir::Value* v : adv.indices) b = ir::broadcast_shapes(b, v->type.shape);
  const int64_t nb = ir::shape_numel(b);
  if (nb == 0) return one(x);
  std::vector<int64_t> rest;  // non-indexed axes, in order
  for (int64_t i = 0; i < rank; ++i)
    if (std::find(adv.axes.begin(), adv.axes.end(), i) == adv.axes.end()) rest.push_back(i);
  // Shape of x[indices], which values broadcast to.
  const bool adj = adjacent(adv.axes);
  const int64_t a0 = adv.axes.front();
  ir::Shape result;
  if (adj) {
    result.assign(s.begin(), s.begin() + a0);
    result.insert(result.end(), b.begin(), b.end());
    result.insert(result.end(), s.begin() + adv.axes.back() + 1, s.end());
  } else {
    result = b;
    for (int64_t i : rest) result.push_back(s[i]);
  }
  ir::Shape vb;
  try {
    vb = ir::broadcast_shapes(values->type.shape, result);
  } catch (const ir::IrError&) {
  }
  if (vb != result)
    conversion_error(node, fmt::format("values of shape {} do not broadcast to the indexed shape {}",
                                       shape_str(values->type.shape), shape_str(result)));
  values = expand_to(g, values, result);
  const int64_t nbdims = static_cast<int64_t>(b.size());
  if (adj && a0 > 0) {
    // Move the broadcast index dims of values to the front.
    std::vector<int64_t> vperm;
    for (int64_t i = 0; i < nbdims; ++i) vperm.push_back(a0 + i);
    for (int64_t i = 0; i < a0; ++i) vperm.push_back(i);
    for (int64_t i = a0 + nbdims; i < static_cast<int64_t>(result.size()); ++i) vperm.push_back(i);
    values = permute(g, values, vperm);
  }
  int64_t p = 1, q = 1;
  for (int64_t a : adv.axes) p *= s[a];
  for (int64_t a : rest) q *= s[a];
  std::vector<int64_t> perm = adv.axes;
  perm.insert(perm.end(), rest.begin(), rest.end());
  ir::Shape permuted;
  for (int64_t a : perm) permuted.push_back(s[a]);
  ir::Value* xt = reshape_to(g, permute(g, x, perm), {p, q});
  ir::Value* upd = reshape_to(g, values, {nb, q});
  ir::Value* lin = reshape_to(g, linear_index(ctx, x, adv), {nb, 1});
  lin = expand_to(g, lin, {nb, q});
  ir::Value* scattered = g.add1("scatter_elements", {xt, lin, upd}, {{"axis", int64_t{0}}});
  std::vector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = static_cast<int64_t>(i);
  return one(permute(g, reshape_to(g, scattered, permuted), inverse));
}

// ── padding ────────────────────────────────────────────────────────────────────

// pad: [last_begin, last_end, second_last_begin, ...]; negative entries crop.
ir::Value* pad_value(ConversionContext& ctx, const NodeView& node, ir::Value* x, const std::vector<int64_t>& pad,
                     const std::string& mode, double value) {
  ir::Graph& g = ctx.graph();
  const int64_t rank = x->type.rank();
  if (pad.size() % 2 != 0 || static_cast<int64_t>(pad.size()) > 2 * rank)
    conversion_error(node, fmt::format("pad {} must have an even length of at most 2 * rank ({})", shape_str(pad), 2 * rank));
  std::vector<int64_t> begin(static_cast<size_t>(rank), 0), end(static_cast<size_t>(rank), 0);
  for (size_t i = 0; i < pad.size() / 2; ++i) {
    const int64_t axis = rank - 1 - static_cast<int64_t>(i);
    begin[axis] = pad[2 * i];
    end[axis] = pad[2 * i + 1];
  }
  // Crop negatives first.
  for (int64_t a = 0; a < rank; ++a) {
    if (begin[a] >= 0 && end[a] >= 0) continue;
    if (mode != "constant") conversion_error(node, fmt::format("negative padding needs mode 'constant', got '{}'", mode));
    const int64_t n = x->type.shape[a];
    const int64_t s = begin[a] < 0 ? -begin[a] : 0;
    const int64_t e = end[a] < 0 ? n + end[a] : n;
    if (s > e) conversion_error(node, "negative padding removes more than the whole dim");
    x = slice_axis(g, x, a, s, e);
    begin[a] = std::max<int64_t>(begin[a], 0);
    end[a] = std::max<int64_t>(end[a], 0);
  }
  if (std::all_of(begin.begin(), begin.end(), [](int64_t v) { return v == 0; }) &&
      std::all_of(end.begin(), end.end(), [](int64_t v) { return v == 0; }))
    return x;
  if (mode == "circular") {
    for (int64_t a = 0; a < rank; ++a) {
      if (begin[a] == 0 && end[a] == 0) continue;
      const int64_t n = x->type.shape[a];
      if (begin[a] > n || end[a] > n)
        conversion_error(node, "circular padding must not exceed the dim size");
      std::vector<ir::Value*> parts;
      if (begin[a] > 0) parts.push_back(slice_axis(g, x, a, n - begin[a], n));
      parts.push_back(x);
      if (end[a] > 0) parts.push_back(slice_axis(g, x, a, 0, end[a]));
      x = g.add1("concat", parts, {{"axis", a}});
    }
    return x;
  }
  std::string ir_mode = mode == "reflect" ? "reflect" : mode == "replicate" ? "replicate" : "constant";
  if (mode != "constant" && mode != "reflect" && mode != "replicate")
    conversion_error(node, fmt::format("mode '{}' is not one of constant, reflect, replicate, circular", mode));
  if (mode == "reflect")
    for (int64_t a = 0; a < rank; ++a)
      if (begin[a] >= x->type.shape[a] || end[a] >= x->type.shape[a])
        conversion_error(node, "reflect padding must be smaller than the padded dim");
  std::vector<int64_t> pads = begin;
  pads.insert(pads.end(), end.begin(), end.end());
  ir::Attrs attrs{{"pads", pads}, {"mode", ir_mode}};
  if (mode == "constant") attrs.set("value", value);
  return g.add1("pad", {x}, attrs);
}

// pad(self, pad, mode='constant', value=None).
Result pad(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  const std::string mode = is_absent(node, 2) ? "constant" : ctx.string(node, 2);
  const double value = is_absent(node, 3) ? 0.0 : ctx.to_double(node, 3);
  return one(pad_value(ctx, node, x, static_ints(ctx, node, 1, "pad"), mode, value));
}

Result constant_pad_nd(ConversionContext& ctx, const NodeView& node) {
  ir::Value* x = ctx.tensor(node, 0);
  const double value = is_absent(node, 2) ? 0.0 : ctx.to_double(node, 2);
  return one(pad_value(ctx, node, x, static_ints(ctx, node, 1, "pad"), "constant", value));
}

OpConverter mode_pad(std::string mode, size_t pad_len) {
  return [mode, pad_len](ConversionContext& ctx, const NodeView& node) -> Result {
    ir::Value* x = ctx.tensor(node, 0);
    auto p = static_ints(ctx, node, 1, "padding");
    if (p.size() != pad_len) conversion_error(node, fmt::format("'padding' needs {} values, got {}", pad_len, p.size()));
    return one(pad_value(ctx, node, x, p, mode, 0.0));
  };
}

// repeat_interleave(self, repeats: int | constant tensor, dim?, *, output_size?)
// as one gather with a constant index; dim None works on the flattened
// tensor. repeat_interleave(repeats) alone gives the index itself.
Result repeat_interleave(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  auto constant_counts = [&](size_t index) {
    const ir::Tensor* t = ctx.constant_data(ctx.tensor(node, index));
    if (!t) conversion_error(node, "'repeats' tensor must be a constant (the result shape depends on its values)");
    std::vector<int64_t> counts;
    for (int64_t i = 0; i < t->numel(); ++i) counts.push_back(t->element_as_int(i));
    return counts;
  };
  auto index_for = [&](const std::vector<int64_t>& counts) {
    std::vector<int64_t> idx;
    for (size_t i = 0; i < counts.size(); ++i) {
      if (counts[i] < 0) conversion_error(node, "'repeats' must be non-negative");
      idx.insert(idx.end(), static_cast<size_t>(counts[i]), static_cast<int64_t>(i));
    }
    return idx;
  };
  if (node.inputs.size() <= 2) {  // repeat_interleave.Tensor(repeats, *, output_size)
    auto idx = index_for(constant_counts(0));
    return one(constant_from_ints(g, ir::DType::I64, {static_cast<int64_t>(idx.size())}, idx));
  }
  ir::Value* x = ctx.tensor(node, 0);
  int64_t dim = 0;
  if (is_absent(node, 2)) x = reshape_to(g, x, {x->type.numel()});
  else dim = wrap_dim(node, "dim", ctx.to_int(node, 2), x->type.rank());
  if (x->type.rank() == 0) x = reshape_to(g, x, {1});
  const int64_t n = x->type.shape[dim];
  std::vector<int64_t> counts;
  if (is_tensor(node.inputs[1])) {
    counts = constant_counts(1);
    if (counts.size() == 1) counts.assign(static_cast<size_t>(n), counts[0]);
  } else {
    counts.assign(static_cast<size_t>(n), ctx.to_int(node, 1));
  }
  if (static_cast<int64_t>(counts.size()) != n)
    conversion_error(node, fmt::format("'repeats' has {} entries for a dim of size {}", counts.size(), n));
  auto idx = index_for(counts);
  ir::Value* index = constant_from_ints(g, ir::DType::I64, {static_cast<int64_t>(idx.size())}, idx);
  return one(g.add1("gather", {x, index}, {{"axis", dim}}));
}

// meshgrid(tensors, *, indexing='ij'|'xy'): each 0/1-D input broadcast
// along its own axis ('xy' swaps the first two axes).
Result meshgrid(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  auto list = ctx.tensor_list(node, 0);
  const std::string indexing = is_absent(node, 1) ? "ij" : ctx.string(node, 1);
  if (indexing != "ij" && indexing != "xy")
    conversion_error(node, fmt::format("indexing='{}' is not one of 'ij', 'xy'", indexing));
  const size_t k = list.size();
  std::vector<size_t> position(k);
  for (size_t i = 0; i < k; ++i) position[i] = i;
  if (indexing == "xy" && k >= 2) std::swap(position[0], position[1]);
  ir::Shape full(k, 1);
  for (size_t i = 0; i < k; ++i) {
    if (!list[i] || list[i]->type.rank() > 1) conversion_error(node, "'tensors' must be 0- or 1-dimensional");
    if (list[i]->type.dtype != list[0]->type.dtype) conversion_error(node, "'tensors' must share one dtype");
    full[position[i]] = list[i]->type.numel();
  }
  std::vector<ir::Value*> out;
  for (size_t i = 0; i < k; ++i) {
    ir::Shape s(k, 1);
    s[position[i]] = full[position[i]];
    out.push_back(expand_to(g, reshape_to(g, list[i], s), full));
  }
  return Result{out};
}

Result numel(ConversionContext& ctx, const NodeView& node) { return Result{ctx.tensor(node, 0)->type.numel()}; }

}  // namespace

void add_shape_converters(ConverterTable& table) {
  for (const char* op : {"view", "reshape", "_unsafe_view", "_reshape_alias"}) add_row(table, op, view);
  add_row(table, "view_as", view_as);
  add_row(table, "reshape_as", view_as);
  add_row(table, "flatten", flatten);
  add_row(table, "unflatten", unflatten);
  add_row(table, "permute", permute_op);
  add_row(table, "transpose", transpose);
  add_row(table, "transpose_", transpose);
  add_row(table, "movedim", movedim);
  add_row(table, "expand", expand);
  add_row(table, "expand_as", expand_as);
  add_row(table, "broadcast_to", expand);
  add_row(table, "repeat", repeat);
  add_row(table, "cat", cat);
  add_row(table, "stack", stack);
  add_row(table, "split", split);
  add_row(table, "split_with_sizes", split);
  add_row(table, "unsafe_split", split);
  add_row(table, "unsafe_split_with_sizes", split);
  add_row(table, "chunk", chunk);
  add_row(table, "unsafe_chunk", chunk);
  add_row(table, "unbind", unbind);
  add_row(table, "flip", flip);
  add_row(table, "roll", roll);
  add_row(table, "slice", slice);
  add_row(table, "narrow", narrow);
  add_row(table, "select", select);
  add_row(table, "unsqueeze", unsqueeze);
  add_row(table, "unsqueeze_", unsqueeze);
  add_row(table, "squeeze", squeeze);
  add_row(table, "squeeze_", squeeze);
  add_row(table, "index", index);
  add_row(table, "index_put", index_put, true);
  add_row(table, "index_select", index_select);
  add_row(table, "gather", gather);
  add_row(table, "unfold", unfold_windows);
  add_row(table, "scatter", scatter, true);
  add_row(table, "pad", pad);
  add_row(table, "constant_pad_nd", constant_pad_nd);
  add_row(table, "reflection_pad1d", mode_pad("reflect", 2));
  add_row(table, "reflection_pad2d", mode_pad("reflect", 4));
  add_row(table, "reflection_pad3d", mode_pad("reflect", 6));
  add_row(table, "replication_pad1d", mode_pad("replicate", 2));
  add_row(table, "replication_pad2d", mode_pad("replicate", 4));
  add_row(table, "replication_pad3d", mode_pad("replicate", 6));
  add_row(table, "_pad_circular", [](ConversionContext& ctx, const NodeView& node) -> Result {
    return one(pad_value(ctx, node, ctx.tensor(node, 0), static_ints(ctx, node, 1, "pad"), "circular", 0.0));
  });
  add_row(table, "numel", numel);
  add_row(table, "repeat_interleave", repeat_interleave);
  add_row(table, "meshgrid", meshgrid);
}

}  // namespace exporters::frontend
