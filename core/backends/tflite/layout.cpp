// Transpose optimisation on the lowered model. Lowering wraps every NHWC op
// (conv, pool, resize) in NCHW->NHWC / NHWC->NCHW transposes; here they are
// composed, pushed down through elementwise ops (folding the permutation
// into constant operands) and cancelled, then dead ops and tensors go.
#include <algorithm>
#include <numeric>
#include <unordered_set>

#include "lowering.hpp"

namespace exporters::tflite {

namespace {

using Op = fb::BuiltinOperator;

bool is_unary_elementwise(int32_t code) {
  static const std::unordered_set<int32_t> s = {
      Op::BuiltinOperator_RELU, Op::BuiltinOperator_RELU6, Op::BuiltinOperator_RELU_N1_TO_1,
      Op::BuiltinOperator_LOGISTIC, Op::BuiltinOperator_TANH, Op::BuiltinOperator_EXP, Op::BuiltinOperator_LOG,
      Op::BuiltinOperator_SQRT, Op::BuiltinOperator_RSQRT, Op::BuiltinOperator_NEG, Op::BuiltinOperator_ABS,
      Op::BuiltinOperator_SIN, Op::BuiltinOperator_COS, Op::BuiltinOperator_GELU, Op::BuiltinOperator_HARD_SWISH,
      Op::BuiltinOperator_LEAKY_RELU, Op::BuiltinOperator_ELU, Op::BuiltinOperator_FLOOR, Op::BuiltinOperator_CEIL,
      Op::BuiltinOperator_ROUND, Op::BuiltinOperator_SIGN, Op::BuiltinOperator_SQUARE, Op::BuiltinOperator_CAST,
      Op::BuiltinOperator_LOGICAL_NOT};
  return s.count(code) != 0;
}

bool is_binary_elementwise(int32_t code) {
  static const std::unordered_set<int32_t> s = {
      Op::BuiltinOperator_ADD, Op::BuiltinOperator_SUB, Op::BuiltinOperator_MUL, Op::BuiltinOperator_DIV,
      Op::BuiltinOperator_MAXIMUM, Op::BuiltinOperator_MINIMUM, Op::BuiltinOperator_POW,
      Op::BuiltinOperator_SQUARED_DIFFERENCE, Op::BuiltinOperator_FLOOR_DIV, Op::BuiltinOperator_FLOOR_MOD,
      Op::BuiltinOperator_LESS, Op::BuiltinOperator_LESS_EQUAL, Op::BuiltinOperator_GREATER,
      Op::BuiltinOperator_GREATER_EQUAL, Op::BuiltinOperator_EQUAL, Op::BuiltinOperator_NOT_EQUAL,
      Op::BuiltinOperator_LOGICAL_AND, Op::BuiltinOperator_LOGICAL_OR};
  return s.count(code) != 0;
}

class TransposeOptimizer {
 public:
  explicit TransposeOptimizer(TflModel& m) : m_(m), L_(m) {}

  void run() {
    // Every rewrite moves a transpose towards the outputs or removes one; the
    // cap only guards against a rule pair undoing each other.
    for (size_t i = 0; i < 64 * m_.ops.size() + 64 && step(); ++i) {
    }
    remove_dead();
  }

 private:
  TflModel& m_;
  Lowering L_;
  std::vector<int32_t> producer_;  // tensor -> op index, -1
  std::vector<int> uses_;          // tensor -> consumer count (graph outputs count)
  std::vector<bool> is_output_;

  void analyse() {
    producer_.assign(m_.tensors.size(), -1);
    uses_.assign(m_.tensors.size(), 0);
    is_output_.assign(m_.tensors.size(), false);
    for (size_t k = 0; k < m_.ops.size(); ++k) {
      for (int32_t t : m_.ops[k].outputs) producer_[t] = static_cast<int32_t>(k);
      for (int32_t t : m_.ops[k].inputs)
        if (t >= 0) ++uses_[t];
    }
    for (int32_t t : m_.outputs) {
      ++uses_[t];
      is_output_[t] = true;
    }
  }

  // The TRANSPOSE producing `t` (with a constant perm), or nullptr.
  const TflOp* transpose_of(int32_t t, std::vector<int64_t>* perm) const {
    if (t < 0 || producer_[t] < 0) return nullptr;
    const TflOp& op = m_.ops[producer_[t]];
    if (op.code != Op::BuiltinOperator_TRANSPOSE || op.inputs.size() < 2) return nullptr;
    const TflTensor& p = m_.tensors[op.inputs[1]];
    if (!p.is_const()) return nullptr;
    perm->clear();
    for (int64_t i = 0; i < p.data->numel(); ++i) perm->push_back(p.data->element_as_int(i));
    return &op;
  }

  bool only_elementwise_consumers(int32_t t) const {
    for (const auto& op : m_.ops) {
      if (std::find(op.inputs.begin(), op.inputs.end(), t) == op.inputs.end()) continue;
      bool used = std::any_of(op.outputs.begin(), op.outputs.end(), [&](int32_t o) { return uses_[o] > 0; });
      if (!used) continue;
      if (!is_unary_elementwise(op.code) && !is_binary_elementwise(op.code)) return false;
    }
    return true;
  }

  static bool moves_only_unit_axes(const Dims& in, const std::vector<int64_t>& perm) {
    int64_t last = -1;
    for (int64_t p : perm) {
      if (in[p] == 1) continue;
      if (p < last) return false;
      last = p;
    }
    return true;
  }

  // Does transpose(reshape(transpose(x, p_first), mid), p_second) keep x's
  // row-major element order? Checked by moving an iota through the chain.
  static bool is_pure_reshape(const Dims& x, const std::vector<int64_t>& p_first, const Dims& mid,
                              const std::vector<int64_t>& p_second) {
    const int64_t n = ir::shape_numel(x);
    if (n > (int64_t{1} << 22) || p_first.size() != x.size() || p_second.size() != mid.size()) return false;
    ir::Tensor iota = ir::Tensor::zeros(ir::DType::I32, x);
    for (int64_t i = 0; i < n; ++i) iota.mutable_as<int32_t>()[i] = static_cast<int32_t>(i);
    ir::Tensor moved = permute_tensor(permute_tensor(iota, p_first).reshaped(mid), p_second);
    for (int64_t i = 0; i < n; ++i)
      if (moved.data_as<int32_t>()[i] != i) return false;
    return true;
  }

  void to_reshape(TflOp& op) {
    op.code = Op::BuiltinOperator_RESHAPE;
    op.options = {};
    op.inputs = {op.inputs[0], L_.const_i32(m_.tensors[op.outputs[0]].shape)};
  }

  static bool is_identity(const std::vector<int64_t>& perm) {
    for (size_t i = 0; i < perm.size(); ++i)
      if (perm[i] != static_cast<int64_t>(i)) return false;
    return true;
  }

  void replace_uses(int32_t from, int32_t to) {
    for (auto& op : m_.ops)
      for (auto& t : op.inputs)
        if (t == from) t = to;
  }

  // Rewrites op k to produce `pre` and inserts TRANSPOSE(pre, perm) -> old output after it.
  void push_below(size_t k, const std::vector<int64_t>& perm, const Dims& pre_shape) {
    int32_t old_out = m_.ops[k].outputs[0];
    TflTensor pre;
    pre.name = m_.tensors[old_out].name + "/pre_transpose";
    pre.type = m_.tensors[old_out].type;
    pre.shape = pre_shape;
    int32_t pre_idx = m_.add_tensor(std::move(pre));
    m_.ops[k].outputs[0] = pre_idx;
    TflOp t;
    t.code = Op::BuiltinOperator_TRANSPOSE;
    t.inputs = {pre_idx, L_.const_i32(perm)};
    t.outputs = {old_out};
    m_.ops.insert(m_.ops.begin() + static_cast<std::ptrdiff_t>(k) + 1, std::move(t));
  }

  // A constant operand seen through `perm`: expanded to full rank, then inverse-permuted.
  int32_t fold_into_constant(int32_t c, const std::vector<int64_t>& perm) {
    const size_t r = perm.size();
    ir::Tensor d = *m_.tensors[c].data;
    ir::Shape s = d.shape();
    while (s.size() < r) s.insert(s.begin(), 1);
    return L_.constant(permute_tensor(d.reshaped(s), inverse_perm(perm)), "folded");
  }

  static bool all_ones(const Dims& s) {
    return std::all_of(s.begin(), s.end(), [](int64_t d) { return d == 1; });
  }

  bool step() {
    analyse();
    for (size_t k = 0; k < m_.ops.size(); ++k) {
      TflOp& op = m_.ops[k];
      std::vector<int64_t> p1, p2;
      // Dead ops (their transposes already rerouted) are left for remove_dead().
      if (std::all_of(op.outputs.begin(), op.outputs.end(), [&](int32_t t) { return uses_[t] == 0; })) continue;
      if (op.code == Op::BuiltinOperator_TRANSPOSE && op.inputs.size() == 2 && m_.tensors[op.inputs[0]].is_const() &&
          m_.tensors[op.inputs[1]].is_const() && !is_output_[op.outputs[0]]) {
        transpose_of(op.outputs[0], &p1);
        int32_t c = L_.constant(permute_tensor(*m_.tensors[op.inputs[0]].data, p1), "folded");
        replace_uses(op.outputs[0], c);
        return true;
      }
      if (op.code == Op::BuiltinOperator_TRANSPOSE && op.inputs.size() == 2 && m_.tensors[op.inputs[1]].is_const()) {
        transpose_of(op.outputs[0], &p1);
        // Moving only size-1 axes is a reshape.
        if (moves_only_unit_axes(m_.tensors[op.inputs[0]].shape, p1)) {
          to_reshape(op);
          return true;
        }
        // TRANSPOSE -> RESHAPE -> TRANSPOSE that amounts to a reshape
        // (NHWC -> NCHW -> [N, C, HW] -> [N, HW, C] is just NHWC -> [N, HW, C]).
        int32_t r = op.inputs[0];
        if (producer_[r] >= 0 && m_.ops[producer_[r]].code == Op::BuiltinOperator_RESHAPE) {
          const TflOp& reshape = m_.ops[producer_[r]];
          const TflOp* first = transpose_of(reshape.inputs[0], &p2);
          if (first && is_pure_reshape(m_.tensors[first->inputs[0]].shape, p2, m_.tensors[r].shape, p1)) {
            op.inputs[0] = first->inputs[0];
            to_reshape(op);
            return true;
          }
        }
      }
      if (op.code == Op::BuiltinOperator_TRANSPOSE && op.inputs.size() == 2) {
        const TflOp* inner = transpose_of(op.inputs[0], &p1);
        if (!inner || !transpose_of(op.outputs[0], &p2)) continue;
        std::vector<int64_t> composed(p2.size());
        for (size_t i = 0; i < p2.size(); ++i) composed[i] = p1[p2[i]];
        int32_t x = inner->inputs[0];
        if (is_identity(composed)) {
          if (is_output_[op.outputs[0]]) continue;
          replace_uses(op.outputs[0], x);
        } else {
          op.inputs = {x, L_.const_i32(composed)};
        }
        return true;
      }
      if (is_unary_elementwise(op.code) && op.inputs.size() == 1) {
        int32_t a = op.inputs[0];
        const TflOp* t = transpose_of(a, &p1);
        // A shared transpose is pushed only when every consumer is elementwise,
        // so all of them move below it and it dies (SiLU: x * sigmoid(x)).
        if (!t || is_output_[a] || (uses_[a] != 1 && !only_elementwise_consumers(a))) continue;
        int32_t x = t->inputs[0];
        op.inputs[0] = x;
        push_below(k, p1, m_.tensors[x].shape);
        return true;
      }
      if (is_binary_elementwise(op.code) && op.inputs.size() == 2) {
        int32_t a = op.inputs[0], b = op.inputs[1];
        const TflOp* ta = transpose_of(a, &p1);
        const TflOp* tb = transpose_of(b, &p2);
        auto single = [&](int32_t t) { return uses_[t] == 1 && !is_output_[t]; };
        std::vector<int64_t> perm;
        int32_t na = -1, nb = -1;
        if (ta && tb && p1 == p2 && (single(a) || single(b) || a == b)) {
          perm = p1;
          na = ta->inputs[0];
          nb = tb->inputs[0];
        } else if (ta && single(a) && !tb) {
          perm = p1;
          na = ta->inputs[0];
          if (m_.tensors[b].is_const() && m_.tensors[b].shape.size() <= perm.size()) nb = fold_into_constant(b, perm);
          else if (all_ones(m_.tensors[b].shape) && m_.tensors[b].shape.size() <= perm.size()) nb = b;
        } else if (tb && single(b) && !ta) {
          perm = p2;
          nb = tb->inputs[0];
          if (m_.tensors[a].is_const() && m_.tensors[a].shape.size() <= perm.size()) na = fold_into_constant(a, perm);
          else if (all_ones(m_.tensors[a].shape) && m_.tensors[a].shape.size() <= perm.size()) na = a;
        }
        if (na < 0 || nb < 0) continue;
        Dims pre = broadcast_dims(m_.tensors[na].shape, m_.tensors[nb].shape);
        if (pre.size() != perm.size()) continue;
        m_.ops[k].inputs = {na, nb};
        push_below(k, perm, pre);
        return true;
      }
    }
    return false;
  }

  void remove_dead() {
    analyse();
    // Backwards: an op is dead when none of its outputs is used.
    std::vector<bool> keep(m_.ops.size(), true);
    for (size_t k = m_.ops.size(); k-- > 0;) {
      bool used = false;
      for (int32_t t : m_.ops[k].outputs) used = used || uses_[t] > 0;
      if (!used) {
        keep[k] = false;
        for (int32_t t : m_.ops[k].inputs)
          if (t >= 0) --uses_[t];
      }
    }
    std::vector<TflOp> ops;
    for (size_t k = 0; k < m_.ops.size(); ++k)
      if (keep[k]) ops.push_back(std::move(m_.ops[k]));
    m_.ops = std::move(ops);
    compact_tensors(m_);
  }

 public:
  static void compact_tensors(TflModel& m) {
    std::vector<bool> live(m.tensors.size(), false);
    for (const auto& op : m.ops) {
      for (int32_t t : op.inputs)
        if (t >= 0) live[t] = true;
      for (int32_t t : op.outputs) live[t] = true;
    }
    for (int32_t t : m.inputs) live[t] = true;
    for (int32_t t : m.outputs) live[t] = true;
    std::vector<int32_t> remap(m.tensors.size(), -1);
    std::vector<TflTensor> tensors;
    for (size_t i = 0; i < m.tensors.size(); ++i)
      if (live[i]) {
        remap[i] = static_cast<int32_t>(tensors.size());
        tensors.push_back(std::move(m.tensors[i]));
      }
    m.tensors = std::move(tensors);
    auto fix = [&](std::vector<int32_t>& v) {
      for (auto& t : v)
        if (t >= 0) t = remap[t];
    };
    for (auto& op : m.ops) {
      fix(op.inputs);
      fix(op.outputs);
    }
    fix(m.inputs);
    fix(m.outputs);
    for (auto& s : m.signatures) {
      for (auto& [n, t] : s.inputs) t = remap[t];
      for (auto& [n, t] : s.outputs) t = remap[t];
    }
  }
};

}  // namespace

void optimize_transposes(TflModel& model) { TransposeOptimizer(model).run(); }

size_t count_ops(const TflModel& model, int32_t code) {
  return static_cast<size_t>(
      std::count_if(model.ops.begin(), model.ops.end(), [&](const TflOp& op) { return op.code == code; }));
}

}  // namespace exporters::tflite

namespace exporters::tflite {
void compact_tensors(TflModel& model) { TransposeOptimizer::compact_tensors(model); }
}  // namespace exporters::tflite
