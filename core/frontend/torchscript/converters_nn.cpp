// Converters for torch.nn: linear algebra (linear, matmul, einsum), convolutions,
// normalisations, pooling, resizing, activations, softmax, embedding and
// dropout. Each row follows the op's documented PyTorch semantics for every
// argument it accepts and rejects (ConversionError) what the IR cannot express.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <map>
#include <numeric>
#include <set>

#include <fmt/format.h>

#include "converter_table.hpp"
#include "exporters/ir/ops.hpp"
#include "graph_builders.hpp"

namespace exporters::frontend {
namespace {

using Outputs = std::vector<Operand>;
using ir::Value;

bool present(const NodeView& node, size_t index) {
  if (index >= node.inputs.size()) return false;
  const Operand& op = node.inputs[index];
  if (std::holds_alternative<NoneValue>(op)) return false;
  if (const auto* v = std::get_if<Value*>(&op)) return *v != nullptr;
  return true;
}

int64_t int_or(const ConversionContext& ctx, const NodeView& node, size_t index, int64_t fallback) {
  return present(node, index) ? ctx.to_int(node, index) : fallback;
}
double double_or(const ConversionContext& ctx, const NodeView& node, size_t index, double fallback) {
  return present(node, index) ? ctx.to_double(node, index) : fallback;
}
bool bool_or(const ConversionContext& ctx, const NodeView& node, size_t index, bool fallback) {
  return present(node, index) ? ctx.to_bool(node, index) : fallback;
}
Value* tensor_or_null(const ConversionContext& ctx, const NodeView& node, size_t index) {
  return present(node, index) ? ctx.optional_tensor(node, index) : nullptr;
}

[[noreturn]] void fail(const NodeView& node, const std::string& message) {
  throw ConversionError(fmt::format("{}: {}", node.kind, message));
}

void require_float(const NodeView& node, const Value* x) {
  if (!ir::is_float(x->type.dtype)) {
    fail(node, fmt::format("expects a floating-point tensor, got {}", x->type.to_string()));
  }
}

// An int / int[] argument expanded to `n` values (PyTorch's _pair/_single).
std::vector<int64_t> expand_list(const ConversionContext& ctx, const NodeView& node, size_t index, size_t n,
                                 const char* what) {
  std::vector<int64_t> v = ctx.int_list(node, index);
  if (v.size() == 1 && n > 1) v.assign(n, v[0]);
  if (v.size() != n) fail(node, fmt::format("{} needs {} values, got {}", what, n, v.size()));
  return v;
}

std::vector<int64_t> twice(const std::vector<int64_t>& v) {
  std::vector<int64_t> r = v;
  r.insert(r.end(), v.begin(), v.end());
  return r;
}

std::vector<int64_t> iota_axes(int64_t from, int64_t to) {
  std::vector<int64_t> r;
  for (int64_t i = from; i < to; ++i) r.push_back(i);
  return r;
}

// ── Linear algebra ─────────────────────────────────────────────────────────

Outputs convert_linear(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  Value* x = ctx.tensor(node, 0);
  Value* w = ctx.tensor(node, 1);
  Value* b = tensor_or_null(ctx, node, 2);
  if (w->type.rank() == 1) {  // y = x @ w + b
    Value* y = build::torch_matmul(g, x, w);
    return {b ? g.add1("add", {y, b}) : y};
  }
  if (b != nullptr && b->type.rank() != 1) {
    // A bias that is not [N] broadcasts against the output.
    return {g.add1("add", {g.add1("linear", {x, w, nullptr}), b})};
  }
  return {g.add1("linear", {x, w, b})};
}

// beta * self + alpha * (a @ b), for addmm / baddbmm / addmv / addbmm-like rows.
Outputs convert_add_product(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  Value* self = ctx.tensor(node, 0);
  Value* a = ctx.tensor(node, 1);
  Value* b = ctx.tensor(node, 2);
  const double beta = double_or(ctx, node, 3, 1.0);
  const double alpha = double_or(ctx, node, 4, 1.0);
  Value* product = build::scale(g, build::torch_matmul(g, a, b), alpha);
  if (beta == 0.0) {
    // PyTorch ignores self (even NaN) when beta is 0, but it still broadcasts.
    ir::Shape shape = ir::broadcast_shapes(product->type.shape, self->type.shape);
    if (shape != product->type.shape) product = g.add1("expand", {product}, {{"shape", shape}});
    return {product};
  }
  return {g.add1("add", {build::scale(g, self, beta), product})};
}

Outputs convert_matmul(ConversionContext& ctx, const NodeView& node) {
  return {build::torch_matmul(ctx.graph(), ctx.tensor(node, 0), ctx.tensor(node, 1))};
}

Outputs convert_mm(ConversionContext& ctx, const NodeView& node) {
  Value* a = ctx.tensor(node, 0);
  Value* b = ctx.tensor(node, 1);
  const int64_t rank = node.kind == "aten::bmm" ? 3 : 2;
  if (a->type.rank() != rank || b->type.rank() != rank) {
    fail(node, fmt::format("expects two rank-{} tensors, got {} and {}", rank, a->type.to_string(),
                           b->type.to_string()));
  }
  return {ctx.graph().add1("matmul", {a, b})};
}

Outputs convert_vector_product(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  Value* a = ctx.tensor(node, 0);
  Value* b = ctx.tensor(node, 1);
  if (node.kind == "aten::outer") {
    return {g.add1("matmul", {build::reshape(g, a, {a->type.numel(), 1}), build::reshape(g, b, {1, b->type.numel()})})};
  }
  return {build::torch_matmul(g, a, b)};  // dot, mv
}

Outputs convert_t(ConversionContext& ctx, const NodeView& node) {
  Value* x = ctx.tensor(node, 0);
  if (x->type.rank() > 2) fail(node, fmt::format("expects a tensor of rank <= 2, got {}", x->type.to_string()));
  if (x->type.rank() < 2) return {x};
  return {build::transpose(ctx.graph(), x, {1, 0})};
}

// ── einsum ─────────────────────────────────────────────────────────────────

// Labels are letters; the dims covered by "..." get labels kEllipsis + k,
// aligned from the right across operands as broadcasting does.
constexpr int kEllipsis = 1000;

struct Labelled {
  Value* value;
  std::vector<int> labels;  // one per dim
};

std::string label_name(int label) {
  return label >= kEllipsis ? fmt::format("...{}", label - kEllipsis) : std::string(1, static_cast<char>(label));
}

// Contracts `a` and `b` to a value whose dims carry `out` labels (every
// label of `out` appears in a or b).
Labelled contract_pair(ir::Graph& g, const NodeView& node, Labelled a, Labelled b, const std::vector<int>& out) {
  auto has = [](const std::vector<int>& v, int l) { return std::find(v.begin(), v.end(), l) != v.end(); };
  auto pos = [](const std::vector<int>& v, int l) {
    return static_cast<int64_t>(std::find(v.begin(), v.end(), l) - v.begin());
  };
  // Sum out labels only one operand has and the result does not keep.
  auto sum_private = [&](Labelled& x, const Labelled& other) {
    std::vector<int64_t> axes;
    std::vector<int> kept;
    for (size_t i = 0; i < x.labels.size(); ++i) {
      if (!has(other.labels, x.labels[i]) && !has(out, x.labels[i])) {
        axes.push_back(static_cast<int64_t>(i));
      } else {
        kept.push_back(x.labels[i]);
      }
    }
    x.value = build::reduce_sum(g, x.value, axes, false);
    x.labels = kept;
  };
  sum_private(a, b);
  sum_private(b, a);

  std::vector<int> batch, a_keep, contracted, b_keep;
  for (int l : a.labels) {
    if (has(b.labels, l)) (has(out, l) ? batch : contracted).push_back(l);
    else a_keep.push_back(l);
  }
  for (int l : b.labels) {
    if (!has(a.labels, l)) b_keep.push_back(l);
  }
  auto size_of = [&](const Labelled& x, int l) { return x.value->type.shape[pos(x.labels, l)]; };
  // A contracted dim of size 1 on one side broadcasts: sum the other side first.
  for (int l : contracted) {
    int64_t sa = size_of(a, l), sb = size_of(b, l);
    if (sa == sb) continue;
    if (sa != 1 && sb != 1) {
      fail(node, fmt::format("label {} has sizes {} and {}", label_name(l), sa, sb));
    }
    Labelled& big = sa == 1 ? b : a;
    big.value = build::reduce_sum(g, big.value, {pos(big.labels, l)}, true);
  }
  for (int l : batch) {
    int64_t sa = size_of(a, l), sb = size_of(b, l);
    if (sa != sb && sa != 1 && sb != 1) fail(node, fmt::format("label {} has sizes {} and {}", label_name(l), sa, sb));
  }

  auto arrange = [&](Labelled& x, const std::vector<int>& first, const std::vector<int>& second,
                     const std::vector<int>& third) {
    std::vector<int64_t> perm;
    ir::Shape shape;
    for (int l : first) {
      perm.push_back(pos(x.labels, l));
      shape.push_back(size_of(x, l));
    }
    int64_t m = 1, k = 1;
    for (int l : second) {
      perm.push_back(pos(x.labels, l));
      m *= size_of(x, l);
    }
    for (int l : third) {
      perm.push_back(pos(x.labels, l));
      k *= size_of(x, l);
    }
    Value* t = build::transpose(g, x.value, perm);
    shape.push_back(m);
    shape.push_back(k);
    return build::reshape(g, t, shape);
  };
  Value* lhs = arrange(a, batch, a_keep, contracted);  // [batch..., M, K]
  Value* rhs = arrange(b, batch, contracted, b_keep);  // [batch..., K, N]
  Value* product = g.add1("matmul", {lhs, rhs});
  ir::Shape shape(product->type.shape.begin(), product->type.shape.end() - 2);
  std::vector<int> labels = batch;
  for (int l : a_keep) {
    shape.push_back(size_of(a, l));
    labels.push_back(l);
  }
  for (int l : b_keep) {
    shape.push_back(size_of(b, l));
    labels.push_back(l);
  }
  Value* result = build::reshape(g, product, shape);
  std::vector<int64_t> perm;
  for (int l : out) {
    if (!has(labels, l)) fail(node, fmt::format("output label {} is not in the operands", label_name(l)));
    perm.push_back(pos(labels, l));
  }
  return {build::transpose(g, result, perm), out};
}

// A label repeated within one operand selects the diagonal of those dims
// ('ii->i'); the dims move to the end and one flat gather picks i == j.
Labelled take_diagonals(ir::Graph& g, const NodeView& node, Labelled x) {
  for (;;) {
    int64_t p = -1, q = -1;
    for (size_t i = 0; i < x.labels.size() && q < 0; ++i) {
      for (size_t j = i + 1; j < x.labels.size(); ++j) {
        if (x.labels[i] == x.labels[j]) {
          p = static_cast<int64_t>(i);
          q = static_cast<int64_t>(j);
          break;
        }
      }
    }
    if (q < 0) return x;
    const int64_t n = x.value->type.shape[p];
    if (x.value->type.shape[q] != n) {
      fail(node, fmt::format("label {} has sizes {} and {} in one operand", label_name(x.labels[p]), n,
                             x.value->type.shape[q]));
    }
    std::vector<int64_t> perm;
    std::vector<int> labels;
    ir::Shape shape;
    for (int64_t i = 0; i < x.value->type.rank(); ++i) {
      if (i == p || i == q) continue;
      perm.push_back(i);
      labels.push_back(x.labels[i]);
      shape.push_back(x.value->type.shape[i]);
    }
    perm.push_back(p);
    perm.push_back(q);
    const int64_t axis = static_cast<int64_t>(shape.size());
    shape.push_back(n * n);
    Value* flat = build::reshape(g, build::transpose(g, x.value, perm), shape);
    std::vector<int64_t> diagonal;
    for (int64_t i = 0; i < n; ++i) diagonal.push_back(i * (n + 1));
    Value* index = g.constant(ir::Tensor::from_i64({n}, diagonal));
    labels.push_back(x.labels[p]);
    x = {g.add1("gather", {flat, index}, {{"axis", axis}}), labels};
  }
}

Outputs convert_einsum(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  std::string equation;
  for (char c : ctx.string(node, 0)) {
    if (c != ' ') equation += c;
  }
  std::vector<Value*> operands = ctx.tensor_list(node, 1);
  if (operands.empty()) fail(node, "needs at least one operand");
  const auto arrow = equation.find("->");
  const std::string lhs = equation.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    auto comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != operands.size()) {
    fail(node, fmt::format("equation '{}' has {} operands, got {} tensors", equation, terms.size(), operands.size()));
  }
  // Letters per term, and the rank the ellipsis covers.
  auto letters_of = [&](const std::string& term, bool& has_ellipsis) {
    std::vector<int> letters;
    has_ellipsis = false;
    for (size_t i = 0; i < term.size(); ++i) {
      if (term.compare(i, 3, "...") == 0) {
        if (has_ellipsis) fail(node, "more than one '...' in a term");
        has_ellipsis = true;
        letters.push_back(-1);
        i += 2;
      } else if (std::isalpha(static_cast<unsigned char>(term[i]))) {
        letters.push_back(term[i]);
      } else {
        fail(node, fmt::format("invalid character '{}' in equation '{}'", term[i], equation));
      }
    }
    return letters;
  };
  std::vector<Labelled> inputs;
  int64_t ellipsis_rank = 0;
  std::vector<std::vector<int>> parsed;
  std::vector<bool> has_ell(terms.size());
  for (size_t t = 0; t < terms.size(); ++t) {
    bool e = false;
    parsed.push_back(letters_of(terms[t], e));
    has_ell[t] = e;
    const int64_t named = static_cast<int64_t>(parsed[t].size()) - (e ? 1 : 0);
    const int64_t rank = operands[t]->type.rank();
    if (e ? rank < named : rank != named) {
      fail(node, fmt::format("term '{}' does not match operand {} of shape {}", terms[t], t,
                             operands[t]->type.to_string()));
    }
    if (e) ellipsis_rank = std::max(ellipsis_rank, rank - named);
  }
  std::map<int, int> counts;
  for (size_t t = 0; t < terms.size(); ++t) {
    const int64_t named = static_cast<int64_t>(parsed[t].size()) - (has_ell[t] ? 1 : 0);
    const int64_t covered = operands[t]->type.rank() - named;
    std::vector<int> labels;
    for (int l : parsed[t]) {
      if (l == -1) {
        for (int64_t k = ellipsis_rank - covered; k < ellipsis_rank; ++k) labels.push_back(kEllipsis + static_cast<int>(k));
      } else {
        labels.push_back(l);
      }
    }
    for (int l : labels) ++counts[l];
    inputs.push_back(take_diagonals(g, node, {operands[t], labels}));
  }
  std::vector<int> out;
  if (arrow != std::string::npos) {
    bool e = false;
    for (int l : letters_of(equation.substr(arrow + 2), e)) {
      if (l == -1) {
        for (int64_t k = 0; k < ellipsis_rank; ++k) out.push_back(kEllipsis + static_cast<int>(k));
      } else {
        if (!counts.count(l)) fail(node, fmt::format("output label {} is not in any operand", label_name(l)));
        out.push_back(l);
      }
    }
    std::set<int> distinct(out.begin(), out.end());
    if (distinct.size() != out.size()) fail(node, "repeated output label");
  } else {
    for (int64_t k = 0; k < ellipsis_rank; ++k) out.push_back(kEllipsis + static_cast<int>(k));
    for (const auto& [l, c] : counts) {  // letters appearing once, alphabetically
      if (l < kEllipsis && c == 1) out.push_back(l);
    }
  }

  if (inputs.size() == 1) {
    Labelled x = inputs[0];
    std::vector<int64_t> axes;
    std::vector<int> kept;
    for (size_t i = 0; i < x.labels.size(); ++i) {
      if (std::find(out.begin(), out.end(), x.labels[i]) == out.end()) axes.push_back(static_cast<int64_t>(i));
      else kept.push_back(x.labels[i]);
    }
    Value* v = build::reduce_sum(g, x.value, axes, false);
    std::vector<int64_t> perm;
    for (int l : out) perm.push_back(std::find(kept.begin(), kept.end(), l) - kept.begin());
    return {build::transpose(g, v, perm)};
  }
  // Left to right; each step keeps the labels still needed later.
  Labelled acc = inputs[0];
  for (size_t t = 1; t < inputs.size(); ++t) {
    std::vector<int> keep;
    if (t + 1 == inputs.size()) {
      keep = out;
    } else {
      std::set<int> needed(out.begin(), out.end());
      for (size_t u = t + 1; u < inputs.size(); ++u) needed.insert(inputs[u].labels.begin(), inputs[u].labels.end());
      for (const Labelled* x : {&acc, &inputs[t]}) {
        for (int l : x->labels) {
          if (needed.count(l) && std::find(keep.begin(), keep.end(), l) == keep.end()) keep.push_back(l);
        }
      }
    }
    acc = contract_pair(g, node, acc, inputs[t], keep);
  }
  return {acc.value};
}

// ── Convolution ────────────────────────────────────────────────────────────

struct ConvArgs {
  std::vector<int64_t> stride, dilation, output_padding;
  std::vector<int64_t> pads;  // begin..., end...
  bool transposed = false;
  int64_t groups = 1;
};

Value* emit_conv(ConversionContext& ctx, const NodeView& node, Value* x, Value* w, Value* b, const ConvArgs& a) {
  ir::Graph& g = ctx.graph();
  const int64_t spatial = w->type.rank() - 2;
  const bool unbatched = x->type.rank() == spatial + 1;
  if (unbatched) x = build::unsqueeze(g, x, 0);
  ir::Attrs attrs{{"strides", a.stride}, {"dilations", a.dilation}, {"pads", a.pads}, {"groups", a.groups}};
  Value* y;
  if (a.transposed) {
    attrs.set("output_padding", a.output_padding);
    y = g.add1("conv_transpose", {x, w, b}, attrs);
  } else {
    y = g.add1("conv", {x, w, b}, attrs);
  }
  return unbatched ? build::squeeze(g, y, 0) : y;
}

// padding as int[] or the strings 'same' / 'valid' (conv1d/conv2d overloads).
std::vector<int64_t> conv_pads(const ConversionContext& ctx, const NodeView& node, size_t index, Value* w,
                               const std::vector<int64_t>& dilation, const std::vector<int64_t>& stride) {
  const size_t spatial = static_cast<size_t>(w->type.rank() - 2);
  if (index < node.inputs.size() && std::holds_alternative<std::string>(node.inputs[index])) {
    const std::string mode = ctx.string(node, index);
    if (mode == "valid") return std::vector<int64_t>(2 * spatial, 0);
    if (mode != "same") fail(node, fmt::format("padding must be 'same' or 'valid', got '{}'", mode));
    for (int64_t s : stride) {
      if (s != 1) fail(node, "padding='same' needs stride 1");
    }
    std::vector<int64_t> pads(2 * spatial);
    for (size_t i = 0; i < spatial; ++i) {
      const int64_t total = dilation[i] * (w->type.shape[2 + i] - 1);
      pads[i] = total / 2;                      // PyTorch puts the odd element at the end
      pads[spatial + i] = total - total / 2;
    }
    return pads;
  }
  return twice(expand_list(ctx, node, index, spatial, "padding"));
}

void check_conv_weight(const NodeView& node, Value* x, Value* w) {
  const int64_t spatial = w->type.rank() - 2;
  if (spatial != 1 && spatial != 2) {
    fail(node, fmt::format("only 1-D and 2-D convolutions are supported, weight is {}", w->type.to_string()));
  }
  if (x->type.rank() != spatial + 2 && x->type.rank() != spatial + 1) {
    fail(node, fmt::format("input {} does not match weight {}", x->type.to_string(), w->type.to_string()));
  }
}

// aten::_convolution / aten::convolution:
// (input, weight, bias, stride, padding, dilation, transposed, output_padding, groups, ...)
Outputs convert_convolution(ConversionContext& ctx, const NodeView& node) {
  Value* x = ctx.tensor(node, 0);
  Value* w = ctx.tensor(node, 1);
  check_conv_weight(node, x, w);
  const size_t spatial = static_cast<size_t>(w->type.rank() - 2);
  ConvArgs a;
  a.stride = expand_list(ctx, node, 3, spatial, "stride");
  a.dilation = expand_list(ctx, node, 5, spatial, "dilation");
  a.pads = conv_pads(ctx, node, 4, w, a.dilation, a.stride);
  a.transposed = ctx.to_bool(node, 6);
  a.output_padding = expand_list(ctx, node, 7, spatial, "output_padding");
  a.groups = ctx.to_int(node, 8);
  return {emit_conv(ctx, node, x, w, tensor_or_null(ctx, node, 2), a)};
}

// aten::conv1d / conv2d / _convolution_mode: (input, weight, bias, stride, padding, dilation, groups)
Outputs convert_conv(ConversionContext& ctx, const NodeView& node) {
  Value* x = ctx.tensor(node, 0);
  Value* w = ctx.tensor(node, 1);
  check_conv_weight(node, x, w);
  const size_t spatial = static_cast<size_t>(w->type.rank() - 2);
  ConvArgs a;
  a.stride = present(node, 3) ? expand_list(ctx, node, 3, spatial, "stride") : std::vector<int64_t>(spatial, 1);
  a.dilation = present(node, 5) ? expand_list(ctx, node, 5, spatial, "dilation") : std::vector<int64_t>(spatial, 1);
  a.pads = present(node, 4) ? conv_pads(ctx, node, 4, w, a.dilation, a.stride) : std::vector<int64_t>(2 * spatial, 0);
  a.groups = int_or(ctx, node, 6, 1);
  return {emit_conv(ctx, node, x, w, tensor_or_null(ctx, node, 2), a)};
}

// aten::conv_transpose1d / 2d: (input, weight, bias, stride, padding, output_padding, groups, dilation)
Outputs convert_conv_transpose(ConversionContext& ctx, const NodeView& node) {
  Value* x = ctx.tensor(node, 0);
  Value* w = ctx.tensor(node, 1);
  check_conv_weight(node, x, w);
  const size_t spatial = static_cast<size_t>(w->type.rank() - 2);
  auto list_or = [&](size_t index, int64_t fallback, const char* what) {
    return present(node, index) ? expand_list(ctx, node, index, spatial, what) : std::vector<int64_t>(spatial, fallback);
  };
  ConvArgs a;
  a.transposed = true;
  a.stride = list_or(3, 1, "stride");
  a.pads = twice(list_or(4, 0, "padding"));
  a.output_padding = list_or(5, 0, "output_padding");
  a.groups = int_or(ctx, node, 6, 1);
  a.dilation = list_or(7, 1, "dilation");
  return {emit_conv(ctx, node, x, w, tensor_or_null(ctx, node, 2), a)};
}

// ── F.unfold / F.fold ───────────────────────────────────────────────────────
//
// Decomposed into a plain convolution (unfold) or transposed convolution
// (fold) with a one-hot kernel [kh*kw, 1, kh', kw'], channels folded into
// the batch, dilation spread into the kernel (kh' = d*(kh-1)+1) and an
// uncovered edge of F.fold padded with zeros: every backend has exactly
// these (TFLite's TRANSPOSE_CONV has no groups or dilation, the legacy
// deconvolution no dilation or output padding), and multiplying by 1 and
// adding zeros is exact. A gather formulation would need an index tensor
// per output position and a scatter-add for fold.

struct UnfoldArgs {
  std::vector<int64_t> kernel, dilation, padding, stride;
};

UnfoldArgs unfold_args(ConversionContext& ctx, const NodeView& node, size_t first) {
  UnfoldArgs a;
  a.kernel = expand_list(ctx, node, first, 2, "kernel_size");
  a.dilation = expand_list(ctx, node, first + 1, 2, "dilation");
  a.padding = expand_list(ctx, node, first + 2, 2, "padding");
  a.stride = expand_list(ctx, node, first + 3, 2, "stride");
  for (int i = 0; i < 2; ++i)
    if (a.kernel[i] <= 0 || a.dilation[i] <= 0 || a.stride[i] <= 0 || a.padding[i] < 0)
      fail(node, "kernel_size, dilation and stride must be positive and padding non-negative");
  return a;
}

// Output channel i*kw + j picks input position (i*dh, j*dw).
ir::Value* one_hot_kernel(ir::Graph& g, ir::DType dtype, const UnfoldArgs& a) {
  const int64_t kh = a.kernel[0], kw = a.kernel[1], k = kh * kw;
  const int64_t eh = a.dilation[0] * (kh - 1) + 1, ew = a.dilation[1] * (kw - 1) + 1;
  std::vector<float> w(static_cast<size_t>(k * eh * ew), 0.f);
  for (int64_t i = 0; i < kh; ++i)
    for (int64_t j = 0; j < kw; ++j)
      w[static_cast<size_t>(((i * kw + j) * eh + i * a.dilation[0]) * ew + j * a.dilation[1])] = 1.f;
  return build::cast(g, g.constant(ir::Tensor::from_f32({k, 1, eh, ew}, w)), dtype);
}

ir::Attrs unfold_conv_attrs(const UnfoldArgs& a) {
  return {{"strides", a.stride}, {"dilations", std::vector<int64_t>{1, 1}}, {"pads", twice(a.padding)},
          {"groups", int64_t{1}}};
}

// aten::im2col(self, kernel_size, dilation, padding, stride): [N, C, H, W] -> [N, C*kh*kw, L]
Outputs convert_im2col(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  Value* x = ctx.tensor(node, 0);
  require_float(node, x);
  const bool unbatched = x->type.rank() == 3;
  if (unbatched) x = build::unsqueeze(g, x, 0);
  if (x->type.rank() != 4) fail(node, fmt::format("expects [N, C, H, W] or [C, H, W], got {}", x->type.to_string()));
  const UnfoldArgs a = unfold_args(ctx, node, 1);
  const ir::Shape s = x->type.shape;
  const int64_t k = a.kernel[0] * a.kernel[1];
  for (int i = 0; i < 2; ++i)
    if (s[2 + i] + 2 * a.padding[i] < a.dilation[i] * (a.kernel[i] - 1) + 1)
      fail(node, fmt::format("no complete block fits in {}", x->type.to_string()));
  Value* planes = build::reshape(g, x, {s[0] * s[1], 1, s[2], s[3]});
  Value* cols = g.add1("conv", {planes, one_hot_kernel(g, x->type.dtype, a), nullptr}, unfold_conv_attrs(a));
  const ir::Shape& c = cols->type.shape;  // [N*C, k, oh, ow]
  Value* y = build::reshape(g, cols, {s[0], s[1] * k, c[2] * c[3]});
  return {unbatched ? build::squeeze(g, y, 0) : y};
}

// aten::col2im(self, output_size, kernel_size, dilation, padding, stride): [N, C*kh*kw, L] -> [N, C, H, W]
Outputs convert_col2im(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  Value* x = ctx.tensor(node, 0);
  require_float(node, x);
  const bool unbatched = x->type.rank() == 2;
  if (unbatched) x = build::unsqueeze(g, x, 0);
  if (x->type.rank() != 3) fail(node, fmt::format("expects [N, C*kh*kw, L] or [C*kh*kw, L], got {}", x->type.to_string()));
  const std::vector<int64_t> out = expand_list(ctx, node, 1, 2, "output_size");
  const UnfoldArgs a = unfold_args(ctx, node, 2);
  const ir::Shape s = x->type.shape;
  const int64_t k = a.kernel[0] * a.kernel[1];
  std::vector<int64_t> blocks(2);
  for (int i = 0; i < 2; ++i)
    blocks[i] = (out[i] + 2 * a.padding[i] - a.dilation[i] * (a.kernel[i] - 1) - 1) / a.stride[i] + 1;
  if (s[1] % k != 0 || blocks[0] <= 0 || blocks[1] <= 0 || blocks[0] * blocks[1] != s[2])
    fail(node, fmt::format("input {} does not hold {}x{} blocks of kernel {}x{} for output size {}x{}",
                           x->type.to_string(), blocks[0], blocks[1], a.kernel[0], a.kernel[1], out[0], out[1]));
  const int64_t channels = s[1] / k;
  Value* cols = build::reshape(g, x, {s[0] * channels, k, blocks[0], blocks[1]});
  // The full (unpadded) sum of the blocks, then the output's window of it:
  // `padding` cut at the start, and zeros where the blocks stop short.
  ir::Attrs attrs = unfold_conv_attrs(a);
  attrs.set("pads", std::vector<int64_t>{0, 0, 0, 0});
  attrs.set("output_padding", std::vector<int64_t>{0, 0});
  Value* planes = g.add1("conv_transpose", {cols, one_hot_kernel(g, x->type.dtype, a), nullptr}, attrs);
  std::vector<int64_t> uncovered(2);
  for (int i = 0; i < 2; ++i) {
    const int64_t full = planes->type.shape[2 + i];
    const int64_t end = std::min(full, a.padding[i] + out[i]);
    if (a.padding[i] != 0 || end != full) planes = build::slice(g, planes, 2 + i, a.padding[i], end);
    uncovered[i] = out[i] - (end - a.padding[i]);
  }
  if (uncovered[0] > 0 || uncovered[1] > 0)
    planes = g.add1("pad", {planes}, {{"pads", std::vector<int64_t>{0, 0, 0, 0, 0, 0, uncovered[0], uncovered[1]}},
                                      {"mode", std::string("constant")}, {"value", 0.0}});
  Value* y = build::reshape(g, planes, {s[0], channels, out[0], out[1]});
  return {unbatched ? build::squeeze(g, y, 0) : y};
}

// ── Normalisation ──────────────────────────────────────────────────────────

Outputs convert_layer_norm(ConversionContext& ctx, const NodeView& node) {
  Value* x = ctx.tensor(node, 0);
  require_float(node, x);
  const std::vector<int64_t> normalized = ctx.int_list(node, 1);
  const int64_t rank = x->type.rank();
  const auto k = static_cast<int64_t>(normalized.size());
  if (k == 0 || k > rank || !std::equal(normalized.begin(), normalized.end(), x->type.shape.end() - k)) {
    fail(node, fmt::format("normalized_shape {} does not match the trailing dims of {}",
                           ir::shape_to_string(normalized), x->type.to_string()));
  }
  Value* gamma = tensor_or_null(ctx, node, 2);
  Value* beta = tensor_or_null(ctx, node, 3);
  const double eps = double_or(ctx, node, 4, 1e-5);
  return {ctx.graph().add1("layer_norm", {x, gamma, beta},
                           {{"axes", iota_axes(rank - k, rank)}, {"epsilon", eps}})};
}

Outputs convert_group_norm(ConversionContext& ctx, const NodeView& node) {
  Value* x = ctx.tensor(node, 0);
  require_float(node, x);
  const int64_t groups = ctx.to_int(node, 1);
  if (x->type.rank() < 2 || groups <= 0 || x->type.shape[1] % groups != 0) {
    fail(node, fmt::format("{} channels of {} are not divisible into {} groups",
                           x->type.rank() >= 2 ? x->type.shape[1] : 0, x->type.to_string(), groups));
  }
  return {ctx.graph().add1("group_norm", {x, tensor_or_null(ctx, node, 2), tensor_or_null(ctx, node, 3)},
                           {{"groups", groups}, {"epsilon", double_or(ctx, node, 4, 1e-5)}})};
}

// Normalisation with the statistics of the batch itself, over every axis but 1.
Value* batch_statistics_norm(ir::Graph& g, Value* x, Value* gamma, Value* beta, double eps) {
  std::vector<int64_t> axes{0};
  for (int64_t i = 2; i < x->type.rank(); ++i) axes.push_back(i);
  const ir::Attrs attrs{{"axes", axes}, {"keepdims", int64_t{1}}};
  Value* mean = g.add1("reduce_mean", {x}, attrs);
  Value* centered = g.add1("sub", {x, mean});
  Value* var = g.add1("reduce_mean", {g.add1("mul", {centered, centered})}, attrs);
  Value* denom = g.add1("sqrt", {g.add1("add", {var, build::scalar(g, x->type.dtype, eps)})});
  Value* y = g.add1("div", {centered, denom});
  ir::Shape channel_shape(static_cast<size_t>(x->type.rank()), 1);
  channel_shape[1] = x->type.shape[1];
  if (gamma) y = g.add1("mul", {y, build::reshape(g, gamma, channel_shape)});
  if (beta) y = g.add1("add", {y, build::reshape(g, beta, channel_shape)});
  return y;
}

// (input, weight?, bias?, running_mean?, running_var?, training, momentum, eps, cudnn_enabled)
Outputs convert_batch_norm(ConversionContext& ctx, const NodeView& node) {
  Value* x = ctx.tensor(node, 0);
  require_float(node, x);
  if (x->type.rank() < 2) fail(node, fmt::format("expects at least 2 dims, got {}", x->type.to_string()));
  Value* gamma = tensor_or_null(ctx, node, 1);
  Value* beta = tensor_or_null(ctx, node, 2);
  Value* mean = tensor_or_null(ctx, node, 3);
  Value* var = tensor_or_null(ctx, node, 4);
  const bool training = ctx.to_bool(node, 5);
  const double eps = ctx.to_double(node, 7);
  if (training || mean == nullptr || var == nullptr) {
    return {batch_statistics_norm(ctx.graph(), x, gamma, beta, eps)};
  }
  return {ctx.graph().add1("batch_norm", {x, mean, var, gamma, beta}, {{"epsilon", eps}})};
}

// (input, weight?, bias?, running_mean?, running_var?, use_input_stats, momentum, eps, cudnn_enabled)
Outputs convert_instance_norm(ConversionContext& ctx, const NodeView& node) {
  Value* x = ctx.tensor(node, 0);
  require_float(node, x);
  if (x->type.rank() < 3) fail(node, fmt::format("expects [N, C, *spatial], got {}", x->type.to_string()));
  Value* gamma = tensor_or_null(ctx, node, 1);
  Value* beta = tensor_or_null(ctx, node, 2);
  Value* mean = tensor_or_null(ctx, node, 3);
  Value* var = tensor_or_null(ctx, node, 4);
  const bool use_input_stats = ctx.to_bool(node, 5);
  const double eps = ctx.to_double(node, 7);
  if (!use_input_stats) {
    if (mean == nullptr || var == nullptr) fail(node, "use_input_stats=False needs running statistics");
    return {ctx.graph().add1("batch_norm", {x, mean, var, gamma, beta}, {{"epsilon", eps}})};
  }
  // Per-sample, per-channel statistics: a group norm with one channel per group.
  return {ctx.graph().add1("group_norm", {x, gamma, beta}, {{"groups", x->type.shape[1]}, {"epsilon", eps}})};
}

// w = g * v / ||v||, the norm over every dim but `dim` (dim -1: over all).
Outputs convert_weight_norm(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  Value* v = ctx.tensor(node, 0);
  Value* gain = ctx.tensor(node, 1);
  require_float(node, v);
  const int64_t dim = int_or(ctx, node, 2, 0);
  std::vector<int64_t> axes;
  if (dim == -1) {
    axes = iota_axes(0, v->type.rank());
  } else {
    const int64_t d = build::normalize_dim(dim, v->type.rank(), node.kind);
    for (int64_t i = 0; i < v->type.rank(); ++i) {
      if (i != d) axes.push_back(i);
    }
  }
  // With no axes to reduce (a 1-D v normalised per element) this is |v|.
  Value* norm = g.add1("sqrt", {build::reduce_sum(g, g.add1("mul", {v, v}), axes, true)});
  return {g.add1("mul", {v, g.add1("div", {gain, norm})})};
}

// ── Pooling ────────────────────────────────────────────────────────────────

int64_t pool_spatial(const NodeView& node) {
  return node.kind.find("1d") != std::string::npos ? 1 : 2;
}

// Runs `emit` on a batched input; unbatched [C, *spatial] inputs get a batch dim.
template <class Emit>
Value* batched(ir::Graph& g, const NodeView& node, Value* x, int64_t spatial, Emit emit) {
  if (x->type.rank() == spatial + 2) return emit(x);
  if (x->type.rank() != spatial + 1) {
    fail(node, fmt::format("expects a rank-{} or rank-{} input, got {}", spatial + 1, spatial + 2, x->type.to_string()));
  }
  return build::squeeze(g, emit(build::unsqueeze(g, x, 0)), 0);
}

// max_pool: (self, kernel_size, stride=[], padding=0, dilation=1, ceil_mode=False)
// avg_pool: (self, kernel_size, stride=[], padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None)
Outputs convert_pool(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  const bool is_max = node.kind.find("max_pool") != std::string::npos;
  const int64_t spatial = pool_spatial(node);
  const auto n = static_cast<size_t>(spatial);
  Value* x = ctx.tensor(node, 0);
  std::vector<int64_t> kernel = expand_list(ctx, node, 1, n, "kernel_size");
  std::vector<int64_t> stride = present(node, 2) ? ctx.int_list(node, 2) : std::vector<int64_t>{};
  if (stride.empty()) stride = kernel;
  else stride = expand_list(ctx, node, 2, n, "stride");
  std::vector<int64_t> padding = present(node, 3) ? expand_list(ctx, node, 3, n, "padding") : std::vector<int64_t>(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (padding[i] * 2 > kernel[i]) fail(node, "padding must be at most half the kernel size");
  }
  ir::Attrs attrs{{"kernel", kernel}, {"strides", stride}, {"pads", twice(padding)}};
  if (is_max) {
    if (present(node, 4)) {
      for (int64_t d : expand_list(ctx, node, 4, n, "dilation")) {
        if (d != 1) fail(node, "dilation other than 1 is not supported");
      }
    }
    attrs.set("ceil_mode", int64_t{bool_or(ctx, node, 5, false) ? 1 : 0});
  } else {
    attrs.set("ceil_mode", int64_t{bool_or(ctx, node, 4, false) ? 1 : 0});
    attrs.set("count_include_pad", int64_t{bool_or(ctx, node, 5, true) ? 1 : 0});
    if (present(node, 6)) fail(node, "divisor_override is not supported");
  }
  const std::string op = is_max ? "max_pool" : "avg_pool";
  return {batched(g, node, x, spatial, [&](Value* v) { return g.add1(op, {v}, attrs); })};
}

Outputs convert_adaptive_pool(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  const bool is_max = node.kind.find("max") != std::string::npos;
  const int64_t spatial = pool_spatial(node);
  Value* x = ctx.tensor(node, 0);
  std::vector<int64_t> sizes = expand_list(ctx, node, 1, static_cast<size_t>(spatial), "output_size");
  for (int64_t s : sizes) {
    if (s <= 0) fail(node, "output_size must be positive");
  }
  Value* y = batched(g, node, x, spatial, [&](Value* v) {
    return g.add1(is_max ? "adaptive_max_pool" : "adaptive_avg_pool", {v}, {{"sizes", sizes}});
  });
  if (is_max) return {y, NoneValue{}};  // indices are not computed
  return {y};
}

// ── Resize ─────────────────────────────────────────────────────────────────

// upsample_*.vec: (input, output_size?, [align_corners,] scale_factors?)
// upsample_* (older): (self, output_size, [align_corners,] scales...?)
Outputs convert_upsample(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  const bool nearest = node.kind.find("nearest") != std::string::npos;
  std::string mode = nearest ? "nearest" : node.kind.find("bicubic") != std::string::npos ? "cubic" : "linear";
  const int64_t spatial = node.kind.find("1d") != std::string::npos ? 1 : 2;
  Value* x = ctx.tensor(node, 0);
  if (x->type.rank() != spatial + 2) {
    fail(node, fmt::format("expects [N, C, *spatial] with {} spatial dims, got {}", spatial, x->type.to_string()));
  }
  const bool align_corners = !nearest && ctx.to_bool(node, 2);
  const size_t scales_index = nearest ? 2 : 3;
  std::vector<int64_t> sizes;
  if (present(node, 1)) {
    sizes = expand_list(ctx, node, 1, static_cast<size_t>(spatial), "output_size");
  } else {
    std::vector<double> scales;
    if (scales_index < node.inputs.size()) {
      if (const auto* l = std::get_if<std::vector<double>>(&node.inputs[scales_index])) scales = *l;
      else if (present(node, scales_index)) scales.assign(static_cast<size_t>(spatial), ctx.to_double(node, scales_index));
    }
    if (scales.size() == 1 && spatial > 1) scales.assign(static_cast<size_t>(spatial), scales[0]);
    if (scales.size() != static_cast<size_t>(spatial)) fail(node, "needs output_size or one scale factor per spatial dim");
    for (int64_t i = 0; i < spatial; ++i) {
      const double in = static_cast<double>(x->type.shape[2 + i]);
      const double out = std::floor(in * scales[i]);
      // With a scale factor PyTorch maps coordinates by 1/scale, the IR by
      // in/out; both agree exactly when in * scale is an integer.
      if (!align_corners && std::fabs(out - in * scales[i]) > 1e-9 * std::max(1.0, in * scales[i])) {
        fail(node, fmt::format("scale factor {} on size {} gives a fractional size; use an explicit size", scales[i],
                               x->type.shape[2 + i]));
      }
      sizes.push_back(static_cast<int64_t>(out));
    }
  }
  return {g.add1("resize", {x},
                 {{"mode", mode}, {"sizes", sizes}, {"align_corners", int64_t{align_corners ? 1 : 0}}})};
}

Outputs convert_pixel_shuffle(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  Value* x = ctx.tensor(node, 0);
  const int64_t r = ctx.to_int(node, 1);
  const ir::Shape& s = x->type.shape;
  if (x->type.rank() < 3 || r <= 0) fail(node, fmt::format("expects [*, C, H, W], got {}", x->type.to_string()));
  const int64_t rank = x->type.rank();
  ir::Shape lead(s.begin(), s.end() - 3);
  const int64_t c = s[rank - 3], h = s[rank - 2], w = s[rank - 1];
  const auto b = static_cast<int64_t>(lead.size());
  std::vector<int64_t> perm = iota_axes(0, b);
  ir::Shape split = lead, merged = lead;
  if (node.kind == "aten::pixel_shuffle") {
    if (c % (r * r) != 0) fail(node, fmt::format("channels {} not divisible by {}", c, r * r));
    split.insert(split.end(), {c / (r * r), r, r, h, w});  // [*, C, r1, r2, H, W]
    for (int64_t p : {0, 3, 1, 4, 2}) perm.push_back(b + p);  // [*, C, H, r1, W, r2]
    merged.insert(merged.end(), {c / (r * r), h * r, w * r});
  } else {
    if (h % r != 0 || w % r != 0) fail(node, fmt::format("spatial size not divisible by {}", r));
    split.insert(split.end(), {c, h / r, r, w / r, r});  // [*, C, H', r1, W', r2]
    for (int64_t p : {0, 2, 4, 1, 3}) perm.push_back(b + p);  // [*, C, r1, r2, H', W']
    merged.insert(merged.end(), {c * r * r, h / r, w / r});
  }
  return {build::reshape(g, build::transpose(g, build::reshape(g, x, split), perm), merged)};
}

// ── Activations ────────────────────────────────────────────────────────────

OpConverter unary_row(const std::string& op) {
  return [op](ConversionContext& ctx, const NodeView& node) -> Outputs {
    Value* x = ctx.tensor(node, 0);
    require_float(node, x);
    return {ctx.graph().add1(op, {x})};
  };
}

Value* clamp(ir::Graph& g, Value* x, std::optional<double> lo, std::optional<double> hi) {
  ir::Attrs attrs;
  if (lo) attrs.set("min", *lo);
  if (hi) attrs.set("max", *hi);
  return g.add1("clamp", {x}, attrs);
}

Outputs convert_gelu(ConversionContext& ctx, const NodeView& node) {
  Value* x = ctx.tensor(node, 0);
  require_float(node, x);
  std::string approximate = present(node, 1) ? ctx.string(node, 1) : "none";
  if (approximate != "none" && approximate != "tanh") {
    fail(node, fmt::format("approximate must be 'none' or 'tanh', got '{}'", approximate));
  }
  return {ctx.graph().add1("gelu", {x}, {{"approximate", approximate}})};
}

Outputs convert_relu(ConversionContext& ctx, const NodeView& node) {
  Value* x = ctx.tensor(node, 0);
  if (x->type.dtype == ir::DType::Bool) fail(node, "relu of a bool tensor");
  return {ctx.graph().add1("relu", {x})};
}

Outputs convert_relu6(ConversionContext& ctx, const NodeView& node) {
  return {clamp(ctx.graph(), ctx.tensor(node, 0), 0.0, 6.0)};
}

// hardtanh(self, min_val=-1, max_val=1)
Outputs convert_hardtanh(ConversionContext& ctx, const NodeView& node) {
  const double lo = double_or(ctx, node, 1, -1.0), hi = double_or(ctx, node, 2, 1.0);
  if (lo > hi) fail(node, "min_val must not exceed max_val");
  return {clamp(ctx.graph(), ctx.tensor(node, 0), lo, hi)};
}

// glu(self, dim=-1): a * sigmoid(b) of the two halves along dim.
Outputs convert_glu(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  Value* x = ctx.tensor(node, 0);
  require_float(node, x);
  const int64_t dim = build::normalize_dim(int_or(ctx, node, 1, -1), x->type.rank(), node.kind);
  const int64_t size = x->type.shape[dim];
  if (size % 2 != 0) fail(node, fmt::format("dim {} has odd size {}", dim, size));
  Value* a = build::slice(g, x, dim, 0, size / 2);
  Value* b = build::slice(g, x, dim, size / 2, size);
  return {g.add1("mul", {a, g.add1("sigmoid", {b})})};
}

// softplus(self, beta=1, threshold=20)
Outputs convert_softplus(ConversionContext& ctx, const NodeView& node) {
  Value* x = ctx.tensor(node, 0);
  require_float(node, x);
  return {ctx.graph().add1("softplus", {x},
                           {{"beta", double_or(ctx, node, 1, 1.0)}, {"threshold", double_or(ctx, node, 2, 20.0)}})};
}

Outputs convert_leaky_relu(ConversionContext& ctx, const NodeView& node) {
  Value* x = ctx.tensor(node, 0);
  require_float(node, x);
  return {ctx.graph().add1("leaky_relu", {x}, {{"alpha", double_or(ctx, node, 1, 0.01)}})};
}

// x > 0 ? scale * x : scale * alpha * (exp(x * input_scale) - 1)
Value* general_elu(ir::Graph& g, Value* x, double alpha, double scale, double input_scale) {
  if (input_scale == 1.0) return build::scale(g, g.add1("elu", {x}, {{"alpha", alpha}}), scale);
  // elu_a(x * s) equals the negative branch; the positive branch is x itself.
  Value* negative = g.add1("elu", {build::scale(g, x, input_scale)}, {{"alpha", alpha}});
  Value* zero = build::scalar(g, x->type.dtype, 0.0);
  Value* y = g.add1("add", {g.add1("maximum", {x, zero}), g.add1("minimum", {negative, zero})});
  return build::scale(g, y, scale);
}

// elu(self, alpha=1, scale=1, input_scale=1)
Outputs convert_elu(ConversionContext& ctx, const NodeView& node) {
  Value* x = ctx.tensor(node, 0);
  require_float(node, x);
  return {general_elu(ctx.graph(), x, double_or(ctx, node, 1, 1.0), double_or(ctx, node, 2, 1.0),
                      double_or(ctx, node, 3, 1.0))};
}

Outputs convert_selu(ConversionContext& ctx, const NodeView& node) {
  Value* x = ctx.tensor(node, 0);
  require_float(node, x);
  return {general_elu(ctx.graph(), x, 1.6732632423543772848170429916717, 1.0507009873554804934193349852946, 1.0)};
}

// celu(self, alpha=1) = max(0, x) + min(0, alpha * (exp(x / alpha) - 1))
Outputs convert_celu(ConversionContext& ctx, const NodeView& node) {
  Value* x = ctx.tensor(node, 0);
  require_float(node, x);
  const double alpha = double_or(ctx, node, 1, 1.0);
  if (alpha == 0.0) fail(node, "alpha must not be 0");
  return {general_elu(ctx.graph(), x, alpha, 1.0, 1.0 / alpha)};
}

// prelu(self, weight): weight [1] or [C] on dim 1.
Outputs convert_prelu(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  Value* x = ctx.tensor(node, 0);
  Value* w = ctx.tensor(node, 1);
  require_float(node, x);
  if (w->type.numel() != 1) {
    if (x->type.rank() < 2 || w->type.numel() != x->type.shape[1]) {
      fail(node, fmt::format("weight {} does not match the channels of {}", w->type.to_string(), x->type.to_string()));
    }
    ir::Shape shape(static_cast<size_t>(x->type.rank()), 1);
    shape[1] = w->type.numel();
    w = build::reshape(g, w, shape);
  } else {
    w = build::reshape(g, w, {});
  }
  Value* zero = build::scalar(g, x->type.dtype, 0.0);
  return {g.add1("add", {g.add1("maximum", {x, zero}), g.add1("mul", {w, g.add1("minimum", {x, zero})})})};
}

Outputs convert_mish(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  Value* x = ctx.tensor(node, 0);
  require_float(node, x);
  Value* sp = g.add1("softplus", {x}, {{"beta", 1.0}, {"threshold", 20.0}});
  return {g.add1("mul", {x, g.add1("tanh", {sp})})};
}

// log_sigmoid(x) = -softplus(-x)
Outputs convert_log_sigmoid(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  Value* x = ctx.tensor(node, 0);
  require_float(node, x);
  Value* sp = g.add1("softplus", {g.add1("neg", {x})}, {{"beta", 1.0}, {"threshold", 20.0}});
  return {g.add1("neg", {sp})};
}

// threshold(self, threshold, value): x > threshold ? x : value
Outputs convert_threshold(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  Value* x = ctx.tensor(node, 0);
  Value* th = build::scalar(g, x->type.dtype, ctx.to_double(node, 1));
  Value* value = build::scalar(g, x->type.dtype, ctx.to_double(node, 2));
  return {g.add1("where", {g.add1("greater", {x, th}), x, value})};
}

// softmax / log_softmax(self, dim, dtype=None); _softmax(self, dim, half_to_float)
Outputs convert_softmax(ConversionContext& ctx, const NodeView& node) {
  ir::Graph& g = ctx.graph();
  Value* x = ctx.tensor(node, 0);
  const bool log = node.kind.find("log_softmax") != std::string::npos;
  const bool internal = node.kind.rfind("aten::_", 0) == 0;
  if (!internal && present(node, 2)) {
    x = build::cast(g, x, dtype_from_torch_scalar_type(ctx.to_int(node, 2)));
  } else if (internal && present(node, 2) && ctx.to_bool(node, 2)) {
    x = build::cast(g, x, ir::DType::F32);
  }
  require_float(node, x);
  const int64_t rank = x->type.rank();
  const int64_t axis = build::normalize_dim(ctx.to_int(node, 1), rank, node.kind);
  if (rank == 0) {  // softmax of a scalar is 1 (log: 0)
    Value* y = g.add1(log ? "log_softmax" : "softmax", {build::reshape(g, x, {1})}, {{"axis", int64_t{0}}});
    return {build::reshape(g, y, {})};
  }
  return {g.add1(log ? "log_softmax" : "softmax", {x}, {{"axis", axis}})};
}

// embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False)
Outputs convert_embedding(ConversionContext& ctx, const NodeView& node) {
  Value* weight = ctx.tensor(node, 0);
  Value* indices = ctx.tensor(node, 1);
  if (weight->type.rank() != 2) fail(node, fmt::format("weight must be 2-D, got {}", weight->type.to_string()));
  if (indices->type.dtype != ir::DType::I64 && indices->type.dtype != ir::DType::I32) {
    fail(node, fmt::format("indices must be int32 or int64, got {}", indices->type.to_string()));
  }
  return {ctx.graph().add1("gather", {weight, indices}, {{"axis", int64_t{0}}})};
}

// dropout(input, p, train): the identity in eval mode.
Outputs convert_dropout(ConversionContext& ctx, const NodeView& node) {
  Value* x = ctx.tensor(node, 0);
  if (present(node, 2) && ctx.to_bool(node, 2)) {
    fail(node, "dropout in training mode is random; export the model in eval() mode");
  }
  return {x};
}

}  // namespace

void add_nn_converters(ConverterTable& table) {
  table["aten::linear"] = convert_linear;
  table["aten::addmm"] = convert_add_product;
  table["aten::baddbmm"] = convert_add_product;
  table["aten::addmv"] = convert_add_product;
  table["aten::matmul"] = convert_matmul;
  table["aten::mm"] = convert_mm;
  table["aten::bmm"] = convert_mm;
  table["aten::mv"] = convert_vector_product;
  table["aten::dot"] = convert_vector_product;
  table["aten::outer"] = convert_vector_product;
  table["aten::t"] = convert_t;
  table["aten::einsum"] = convert_einsum;

  table["aten::_convolution"] = convert_convolution;
  table["aten::convolution"] = convert_convolution;
  table["aten::conv1d"] = convert_conv;
  table["aten::_convolution_mode"] = convert_conv;  // string padding
  table["aten::conv2d"] = convert_conv;
  table["aten::conv_transpose1d"] = convert_conv_transpose;
  table["aten::conv_transpose2d"] = convert_conv_transpose;
  table["aten::im2col"] = convert_im2col;
  table["aten::col2im"] = convert_col2im;

  table["aten::layer_norm"] = convert_layer_norm;
  table["aten::group_norm"] = convert_group_norm;
  table["aten::batch_norm"] = convert_batch_norm;
  table["aten::instance_norm"] = convert_instance_norm;
  table["aten::_weight_norm"] = convert_weight_norm;

  for (const char* op : {"aten::max_pool1d", "aten::max_pool2d", "aten::avg_pool1d", "aten::avg_pool2d"}) {
    table[op] = convert_pool;
  }
  for (const char* op : {"aten::adaptive_avg_pool1d", "aten::adaptive_avg_pool2d", "aten::adaptive_max_pool1d",
                         "aten::adaptive_max_pool2d"}) {
    table[op] = convert_adaptive_pool;
  }
  for (const char* op : {"aten::upsample_nearest1d", "aten::upsample_nearest2d", "aten::upsample_linear1d",
                         "aten::upsample_bilinear2d", "aten::upsample_bicubic2d"}) {
    table[op] = convert_upsample;
  }
  table["aten::pixel_shuffle"] = convert_pixel_shuffle;
  table["aten::pixel_unshuffle"] = convert_pixel_shuffle;

  // Activations; the in-place forms compute the same value.
  const std::vector<std::pair<std::string, OpConverter>> activations = {
      {"gelu", convert_gelu},           {"relu", convert_relu},
      {"relu6", convert_relu6},         {"hardtanh", convert_hardtanh},
      {"glu", convert_glu},             {"softplus", convert_softplus},
      {"leaky_relu", convert_leaky_relu}, {"elu", convert_elu},
      {"selu", convert_selu},           {"celu", convert_celu},
      {"prelu", convert_prelu},         {"mish", convert_mish},
      {"log_sigmoid", convert_log_sigmoid}, {"threshold", convert_threshold},
      {"silu", unary_row("silu")},      {"hardswish", unary_row("hardswish")},
      {"hardsigmoid", unary_row("hardsigmoid")},
  };
  for (const auto& [name, converter] : activations) {
    table["aten::" + name] = converter;
    table["aten::" + name + "_"] = converter;
  }
  table["aten::softmax"] = convert_softmax;
  table["aten::log_softmax"] = convert_softmax;
  table["aten::_softmax"] = convert_softmax;
  table["aten::_log_softmax"] = convert_softmax;
  table["aten::embedding"] = convert_embedding;
  for (const char* op : {"aten::dropout", "aten::dropout_", "aten::feature_dropout", "aten::feature_dropout_",
                         "aten::alpha_dropout", "aten::alpha_dropout_", "aten::feature_alpha_dropout",
                         "aten::feature_alpha_dropout_"}) {
    table[op] = convert_dropout;
  }
}

}  // namespace exporters::frontend
