// GELU written out elementwise, as HF activations trace, back to one op:
//   erf form   x * 0.5 * (1 + erf(x / sqrt(2)))              -> gelu
//   tanh form  0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
//                                                             -> gelu{tanh}
// in the operand orders and groupings the Python spellings produce.
#include <cmath>

#include "passes.hpp"
#include "rewriter.hpp"

namespace exporters::passes {

namespace {

constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kSqrt2OverPi = 0.7978845608028654;
constexpr double kCubicCoeff = 0.044715;

class GeluMatcher {
 public:
  explicit GeluMatcher(const Rewriter& rw) : rw_(rw) {}

  struct Match {
    ir::Value* x = nullptr;
    const char* approximate = "none";
  };

  // root is the final mul/div.
  std::optional<Match> match(const ir::Node& root) const {
    if (root.inputs.size() != 2) return std::nullopt;
    ir::Value* p = root.inputs[0];
    ir::Value* q = root.inputs[1];
    std::optional<Match> m;
    if (root.op == "div") {
      // (x * A) / 2
      if (!is_scalar(q, 2.0)) return std::nullopt;
      m = product_of_x_and_a(p);
    } else if (root.op == "mul") {
      for (int swap = 0; swap < 2 && !m; ++swap, std::swap(p, q)) {
        if (auto a = one_plus(q)) {
          // (x * 0.5) * A
          if (const ir::Node* h = single_use(p, "mul"); h && is_half_times(*h, a->x)) m = a;
          // x * (A * 0.5)
        } else if (const ir::Node* h = single_use(q, "mul")) {
          for (ir::Value* f : h->inputs)
            if (auto a2 = one_plus(f); a2 && a2->x == p && is_scalar(other_operand(*h, f), 0.5)) m = a2;
        }
        // (x * A) * 0.5
        if (!m && is_scalar(q, 0.5)) m = product_of_x_and_a(p);
      }
    }
    if (m && !(m->x->type == root.outputs[0]->type)) return std::nullopt;
    return m;
  }

 private:
  const ir::Node* single_use(const ir::Value* v, const char* op) const {
    ir::Node* n = producer_of(v, op);
    return n && rw_.uses(v) == 1 && !rw_.is_output(v) ? n : nullptr;
  }

  // h == x * 0.5 in either order.
  static bool is_half_times(const ir::Node& h, const ir::Value* x) {
    return is_scalar(other_operand(h, x), 0.5);
  }

  // v == x * A with A == 1 + erf/tanh(... x ...).
  std::optional<Match> product_of_x_and_a(const ir::Value* v) const {
    const ir::Node* n = single_use(v, "mul");
    if (!n) return std::nullopt;
    for (ir::Value* f : n->inputs)
      if (auto a = one_plus(f); a && other_operand(*n, f) == a->x) return a;
    return std::nullopt;
  }

  // v == 1 + erf(x / sqrt(2))  or  1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)).
  std::optional<Match> one_plus(const ir::Value* v) const {
    const ir::Node* add = single_use(v, "add");
    if (!add) return std::nullopt;
    for (ir::Value* t : add->inputs) {
      if (!is_scalar(other_operand(*add, t), 1.0)) continue;
      if (const ir::Node* e = single_use(t, "erf"))
        if (ir::Value* x = erf_argument(e->inputs[0])) return Match{x, "none"};
      if (const ir::Node* th = single_use(t, "tanh"))
        if (ir::Value* x = tanh_argument(th->inputs[0])) return Match{x, "tanh"};
    }
    return std::nullopt;
  }

  // u == x / sqrt(2) or x * (1 / sqrt(2)).
  ir::Value* erf_argument(const ir::Value* u) const {
    if (const ir::Node* d = single_use(u, "div"))
      return is_scalar(d->inputs[1], kSqrt2) && d->inputs[0] != d->inputs[1] ? d->inputs[0] : nullptr;
    if (const ir::Node* m = single_use(u, "mul"))
      for (ir::Value* x : m->inputs)
        if (is_scalar(other_operand(*m, x), 1.0 / kSqrt2) && !scalar_constant(x)) return x;
    return nullptr;
  }

  // s == sqrt(2/pi) * (x + 0.044715 * x^3).
  ir::Value* tanh_argument(const ir::Value* s) const {
    const ir::Node* m = single_use(s, "mul");
    if (!m) return nullptr;
    for (ir::Value* r : m->inputs) {
      if (!is_scalar(other_operand(*m, r), kSqrt2OverPi)) continue;
      const ir::Node* add = single_use(r, "add");
      if (!add) return nullptr;
      for (ir::Value* q : add->inputs) {
        ir::Value* x = other_operand(*add, q);
        if (x && is_cubic_term(q, x)) return x;
      }
    }
    return nullptr;
  }

  // q == 0.044715 * x^3.
  bool is_cubic_term(const ir::Value* q, const ir::Value* x) const {
    const ir::Node* m = single_use(q, "mul");
    if (!m) return false;
    for (ir::Value* c : m->inputs)
      if (is_scalar(other_operand(*m, c), kCubicCoeff) && is_cube(c, x)) return true;
    return false;
  }

  // c == pow(x, 3), x * x * x, x * pow(x, 2) in any grouping.
  bool is_cube(const ir::Value* c, const ir::Value* x) const {
    if (const ir::Node* p = single_use(c, "pow")) return p->inputs[0] == x && is_scalar(p->inputs[1], 3.0);
    const ir::Node* m = single_use(c, "mul");
    if (!m) return false;
    for (ir::Value* sq : m->inputs)
      if (other_operand(*m, sq) == x && is_square(sq, x)) return true;
    return false;
  }

  bool is_square(const ir::Value* sq, const ir::Value* x) const {
    if (const ir::Node* p = single_use(sq, "pow")) return p->inputs[0] == x && is_scalar(p->inputs[1], 2.0);
    const ir::Node* m = single_use(sq, "mul");
    return m && m->inputs[0] == x && m->inputs[1] == x;
  }

  const Rewriter& rw_;
};

}  // namespace

void fuse_gelu(ir::Graph& graph) {
  Rewriter rw(graph);
  GeluMatcher matcher(rw);
  rw.run([&](ir::Node& node) {
    if (node.op != "mul" && node.op != "div") return;
    auto m = matcher.match(node);
    if (!m || !ir::is_float(m->x->type.dtype)) return;
    ir::Value* gelu = rw.emit("gelu", {m->x}, {{"approximate", std::string(m->approximate)}});
    rw.replace(node.outputs[0], gelu);
  });
}

}  // namespace exporters::passes
