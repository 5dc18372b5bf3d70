// Layer norm written out by hand, as HF traces it (ConvNeXT's channels-first
// LayerNorm, custom norms over the last axis):
//   u = mean(x, A, keepdim); d = x - u; v = mean(d^2 or d*d, A, keepdim)
//   n = d / sqrt(v + eps)  or  d * rsqrt(v + eps)
//   y = n * w + b          (w, b optional constants varying only along A)
// becomes layer_norm over A when A are the trailing axes, or
// transpose -> layer_norm over the last axis -> transpose for one inner axis.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "passes.hpp"
#include "rewriter.hpp"

namespace exporters::passes {

namespace {

struct Core {
  ir::Value* x = nullptr;
  std::vector<int64_t> axes;  // sorted, non-negative
  double epsilon = 0;
};

class LayerNormMatcher {
 public:
  explicit LayerNormMatcher(const Rewriter& rw) : rw_(rw) {}

  // `n` is the div (or mul by rsqrt) that produces the normalised value.
  std::optional<Core> match_core(const ir::Node& n) const {
    if (n.inputs.size() != 2) return std::nullopt;
    ir::Value* d2 = nullptr;
    ir::Value* e = nullptr;
    if (n.op == "div") {
      if (const ir::Node* s = single_use(n.inputs[1], "sqrt")) d2 = n.inputs[0], e = s->inputs[0];
    } else if (n.op == "mul") {
      for (ir::Value* f : n.inputs)
        if (const ir::Node* r = single_use(f, "rsqrt"); r && !d2) d2 = other_operand(n, f), e = r->inputs[0];
    }
    if (!d2 || !e) return std::nullopt;

    // e = var + eps
    const ir::Node* add = single_use(e, "add");
    if (!add) return std::nullopt;
    ir::Value* var = nullptr;
    std::optional<double> eps;
    for (ir::Value* f : add->inputs)
      if (auto c = scalar_constant(other_operand(*add, f)); c && !eps) var = f, eps = c;
    if (!var || !eps || !std::isfinite(*eps) || *eps < 0 || !(var->type == e->type)) return std::nullopt;

    // var = mean(d1^2)
    const ir::Node* mean2 = single_use(var, "reduce_mean");
    if (!mean2) return std::nullopt;
    ir::Value* sq = mean2->inputs[0];
    ir::Value* d1 = nullptr;
    int d1_reads = 1;
    if (const ir::Node* p = single_use(sq, "pow"); p && is_scalar(p->inputs[1], 2.0)) {
      d1 = p->inputs[0];
    } else if (const ir::Node* m = single_use(sq, "mul"); m && m->inputs[0] == m->inputs[1]) {
      d1 = m->inputs[0];
      d1_reads = 2;
    }
    if (!d1) return std::nullopt;

    // d1, d2 = x - u (one node or two identical ones), u = mean(x)
    const ir::Node* sub1 = producer_of(d1, "sub");
    const ir::Node* sub2 = producer_of(d2, "sub");
    if (!sub1 || !sub2 || sub1->inputs != sub2->inputs) return std::nullopt;
    ir::Value* x = sub1->inputs[0];
    ir::Value* u = sub1->inputs[1];
    const ir::Node* mean1 = producer_of(u, "reduce_mean");
    if (!mean1 || mean1->inputs[0] != x || x == u) return std::nullopt;
    if (d1 == d2) {
      if (!only_reads(d1, d1_reads + 1) || !only_reads(u, 1)) return std::nullopt;
    } else if (!only_reads(d1, d1_reads) || !only_reads(d2, 1) || !only_reads(u, 2)) {
      return std::nullopt;
    }

    auto axes1 = reduced_axes(*mean1, x->type.rank());
    auto axes2 = reduced_axes(*mean2, x->type.rank());
    if (!axes1 || axes1 != axes2) return std::nullopt;
    if (!ir::is_float(x->type.dtype) || !(n.outputs[0]->type == x->type)) return std::nullopt;
    return Core{x, *axes1, shortest_epsilon(*eps, e->type.dtype)};
  }

  // The constant `w` broadcasts against x only along `axes`, with their full
  // extent: returns it reshaped to the normalised shape.
  static std::optional<ir::Tensor> affine_param(const ir::Value* w, const Core& core) {
    const ir::Node* c = producer_of(w, "constant");
    if (!c || w->type.dtype != core.x->type.dtype || w->type.rank() > core.x->type.rank()) return std::nullopt;
    const ir::Shape& xs = core.x->type.shape;
    const ir::Shape& ws = w->type.shape;
    const size_t lead = xs.size() - ws.size();
    ir::Shape norm;
    for (size_t i = 0; i < xs.size(); ++i) {
      int64_t wd = i < lead ? 1 : ws[i - lead];
      bool normalised = std::binary_search(core.axes.begin(), core.axes.end(), static_cast<int64_t>(i));
      if (normalised) {
        if (wd != xs[i]) return std::nullopt;
        norm.push_back(xs[i]);
      } else if (wd != 1) {
        return std::nullopt;
      }
    }
    return c->constant().reshaped(norm);
  }

 private:
  const ir::Node* single_use(const ir::Value* v, const char* op) const {
    ir::Node* n = producer_of(v, op);
    return n && only_reads(v, 1) ? n : nullptr;
  }
  bool only_reads(const ir::Value* v, int reads) const { return rw_.uses(v) == reads && !rw_.is_output(v); }

  static std::optional<std::vector<int64_t>> reduced_axes(const ir::Node& mean, int64_t rank) {
    if (mean.attrs.i("keepdims", 0) != 1) return std::nullopt;
    std::vector<int64_t> axes = mean.attrs.ints("axes", {});
    if (axes.empty()) {
      axes.resize(static_cast<size_t>(rank));
      std::iota(axes.begin(), axes.end(), 0);
    }
    std::sort(axes.begin(), axes.end());
    return axes;
  }

  // 1e-6 stored as f32 reads back as 9.99999997e-07; keep the short decimal
  // the model author wrote when it names the same float.
  static double shortest_epsilon(double eps, ir::DType dtype) {
    if (dtype != ir::DType::F32) return eps;
    return std::stod(fmt::format("{}", static_cast<float>(eps)));
  }

  const Rewriter& rw_;
};

bool are_trailing(const std::vector<int64_t>& axes, int64_t rank) {
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[i] != rank - static_cast<int64_t>(axes.size() - i)) return false;
  return true;
}

}  // namespace

void fuse_layer_norm(ir::Graph& graph) {
  Rewriter rw(graph);
  LayerNormMatcher matcher(rw);
  rw.run([&](ir::Node& node) {
    if (node.op != "div" && node.op != "mul") return;
    auto core = matcher.match_core(node);
    if (!core) return;
    const int64_t rank = core->x->type.rank();
    const bool trailing = are_trailing(core->axes, rank);
    if (!trailing && core->axes.size() != 1) return;

    // Absorb y = n * w + b that follows (each step only if it is the sole reader).
    ir::Value* root = node.outputs[0];
    ir::Value* gamma = nullptr;
    ir::Value* beta = nullptr;
    // The parameter as layer_norm wants it: a new constant sharing the
    // weight's bytes (the old one may sit after the node being rewritten).
    auto absorb = [&](const char* op, ir::Value*& param) {
      ir::Node* user = rw.single_user(root);
      if (!user || user->op != op || !(user->outputs[0]->type == root->type)) return;
      ir::Value* w = other_operand(*user, root);
      auto t = w ? LayerNormMatcher::affine_param(w, *core) : std::nullopt;
      if (!t) return;
      param = rw.emit_constant(*t, w->producer->name);
      rw.skip(user);
      root = user->outputs[0];
    };
    absorb("mul", gamma);
    absorb("add", beta);

    ir::Value* x = core->x;
    std::vector<int64_t> perm, inverse;
    if (!trailing) {
      const int64_t axis = core->axes[0];
      for (int64_t i = 0; i < rank; ++i)
        if (i != axis) perm.push_back(i);
      perm.push_back(axis);
      inverse.resize(perm.size());
      for (size_t i = 0; i < perm.size(); ++i) inverse[static_cast<size_t>(perm[i])] = static_cast<int64_t>(i);
      x = rw.emit("transpose", {x}, {{"perm", perm}});
    }
    std::vector<int64_t> ln_axes;
    for (size_t i = 0; i < core->axes.size(); ++i) ln_axes.push_back(rank - static_cast<int64_t>(core->axes.size() - i));
    std::vector<ir::Value*> args{x, gamma, beta};
    while (!args.back()) args.pop_back();
    ir::Value* y = rw.emit("layer_norm", std::move(args), {{"axes", ln_axes}, {"epsilon", core->epsilon}});
    if (!trailing) y = rw.emit("transpose", {y}, {{"perm", inverse}});
    rw.replace(root, y);
  });
}

}  // namespace exporters::passes
