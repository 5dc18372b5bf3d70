// The HF extended attention mask, (1 - mask.to(f32)) * finfo.min added to
// the scores, made compact without changing a single result bit:
//  * elementwise steps applied after an `expand` of the mask run on the small
//    mask instead, and an expand feeding a broadcasting add/sub/mul/div is
//    dropped (the op broadcasts by itself);
//  * for a bool mask, (1 - cast(m)) * C and the masked_fill spelling
//    where(cast(1 - cast(m), bool), C, 1 - cast(m)) become where(m, 0, C).
// Integer masks keep their arithmetic: (1 - m) * C differs from a select for
// values other than 0 and 1, and the float32 min is never clamped here
// (float16 legalisation is the quantizer's job).
#include <cmath>

#include "exporters/ir/ops.hpp"
#include "passes.hpp"
#include "rewriter.hpp"

namespace exporters::passes {

namespace {

bool is_sinkable_unary(const std::string& op) { return op == "cast" || op == "neg"; }
bool is_broadcasting_binary(const std::string& op) {
  return op == "add" || op == "sub" || op == "mul" || op == "div";
}

ir::Tensor scalar_of(ir::DType dtype, double v) { return ir::Tensor::scalar_f32(static_cast<float>(v)).cast(dtype); }

class MaskRewriter {
 public:
  explicit MaskRewriter(Rewriter& rw) : rw_(rw) {}

  void visit(ir::Node& node) {
    if (sink_expand(node)) return;
    if (is_broadcasting_binary(node.op) && drop_expand_operand(node)) return;
    if (node.op == "mul") select_for_bool_mask(node);
    if (node.op == "where") select_for_masked_fill(node);
  }

 private:
  // f(expand(x)) -> expand(f(x)) for an elementwise f of one tensor operand.
  bool sink_expand(ir::Node& node) {
    if (node.outputs.size() != 1) return false;
    size_t arg = 0;
    if (is_sinkable_unary(node.op)) {
      arg = 0;
    } else if (is_broadcasting_binary(node.op) && node.inputs.size() == 2) {
      // The other operand is a scalar constant of rank <= the small shape.
      bool found = false;
      for (size_t i = 0; i < 2 && !found; ++i)
        if (producer_of(node.inputs[i], "expand") && scalar_constant(node.inputs[1 - i]) &&
            node.inputs[1 - i]->type.rank() <= node.inputs[i]->producer->inputs[0]->type.rank())
          arg = i, found = true;
      if (!found) return false;
    } else {
      return false;
    }
    ir::Value* expanded = node.inputs[arg];
    const ir::Node* expand = producer_of(expanded, "expand");
    if (!expand || rw_.uses(expanded) != 1 || rw_.is_output(expanded)) return false;
    std::vector<ir::Value*> inputs = node.inputs;
    inputs[arg] = expand->inputs[0];
    ir::Value* small = rw_.emit(node.op, std::move(inputs), node.attrs);
    ir::Value* big = rw_.emit("expand", {small}, {{"shape", node.outputs[0]->type.shape}});
    rw_.replace(node.outputs[0], big);
    return true;
  }

  // add(s, expand(y)) -> add(s, y) when broadcasting gives the same result type.
  bool drop_expand_operand(ir::Node& node) {
    for (auto& in : node.inputs) {
      const ir::Node* expand = producer_of(in, "expand");
      if (!expand) continue;
      ir::Value* small = expand->inputs[0];
      ir::Value* other = node.inputs[0] == in ? node.inputs[1] : node.inputs[0];
      if (other == in) return false;
      ir::Shape shape = ir::broadcast_shapes(other->type.shape, small->type.shape);
      if (shape != node.outputs[0]->type.shape) continue;
      in = small;
      return true;
    }
    return false;
  }

  // v == 1 - cast(m) with m bool; returns m.
  ir::Value* one_minus_bool(const ir::Value* v, int reads) const {
    const ir::Node* sub = producer_of(v, "sub");
    if (!sub || rw_.uses(v) != reads || rw_.is_output(v) || !is_scalar(sub->inputs[0], 1.0)) return nullptr;
    const ir::Node* cast = producer_of(sub->inputs[1], "cast");
    if (!cast || rw_.uses(sub->inputs[1]) != 1 || rw_.is_output(sub->inputs[1])) return nullptr;
    ir::Value* m = cast->inputs[0];
    if (m->type.dtype != ir::DType::Bool || !(sub->outputs[0]->type.shape == m->type.shape)) return nullptr;
    return m;
  }

  void emit_select(ir::Node& node, ir::Value* m, double c, double zero) {
    const ir::DType dtype = node.outputs[0]->type.dtype;
    if (!(m->type.shape == node.outputs[0]->type.shape) || !ir::is_float(dtype)) return;
    ir::Value* z = rw_.emit_constant(scalar_of(dtype, zero));
    ir::Value* fill = rw_.emit_constant(scalar_of(dtype, c));
    rw_.replace(node.outputs[0], rw_.emit("where", {m, z, fill}));
  }

  // (1 - cast(m)) * C == where(m, 0 * C, C) for bool m and finite C
  // (0 * C keeps the sign of zero the product had).
  void select_for_bool_mask(ir::Node& node) {
    for (ir::Value* f : node.inputs) {
      auto c = scalar_constant(other_operand(node, f));
      if (!c || !std::isfinite(*c)) continue;
      if (ir::Value* m = one_minus_bool(f, 1)) {
        emit_select(node, m, *c, 0.0 * *c);
        return;
      }
    }
  }

  // where(cast(inv, bool), C, inv) with inv = 1 - cast(m): inv is 0 exactly
  // where m is true, so this is where(m, +0, C).
  void select_for_masked_fill(ir::Node& node) {
    ir::Value* inv = node.inputs[2];
    const ir::Node* cond = producer_of(node.inputs[0], "cast");
    auto c = scalar_constant(node.inputs[1]);
    if (!cond || cond->inputs[0] != inv || rw_.uses(node.inputs[0]) != 1 || rw_.is_output(node.inputs[0]) || !c)
      return;
    if (ir::Value* m = one_minus_bool(inv, 2)) emit_select(node, m, *c, 0.0);
  }

  Rewriter& rw_;
};

}  // namespace

void simplify_attention_mask(ir::Graph& graph) {
  Rewriter rw(graph);
  MaskRewriter mask(rw);
  rw.run([&](ir::Node& node) { mask.visit(node); });
}

}  // namespace exporters::passes
