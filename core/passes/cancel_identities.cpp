// Removes ops that do nothing and merges chains of data-movement ops.
#include <numeric>

#include "passes.hpp"
#include "rewriter.hpp"

namespace exporters::passes {

namespace {

// True when every value of `from` converts to `to` exactly, so that
// cast(cast(x, to), final) == cast(x, final) for any final dtype.
bool cast_is_exact(ir::DType from, ir::DType to) {
  using D = ir::DType;
  if (from == to || from == D::Bool) return true;
  switch (from) {
    case D::I8:
    case D::U8: return to == D::I32 || to == D::I64 || to == D::F16 || to == D::F32;
    case D::I32: return to == D::I64;
    case D::F16: return to == D::F32;
    default: return false;
  }
}

bool is_identity_perm(const std::vector<int64_t>& perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<int64_t>(i)) return false;
  return true;
}

}  // namespace

void cancel_identities(ir::Graph& graph) {
  Rewriter rw(graph);
  auto forward = [&](ir::Node& node) {
    ir::Value* in = node.inputs[0];
    if (rw.can_replace(node.outputs[0], in)) rw.replace(node.outputs[0], in);
  };
  rw.run([&](ir::Node& node) {
    if (node.inputs.empty() || !node.inputs[0]) return;
    ir::Value* in = node.inputs[0];
    const ir::TensorType& out = node.outputs[0]->type;
    if (node.op == "identity") {
      forward(node);
    } else if (node.op == "reshape") {
      if (ir::Node* inner = producer_of(in, "reshape")) node.inputs[0] = in = inner->inputs[0];
      if (in->type == out) forward(node);
    } else if (node.op == "expand") {
      // Broadcasting is transitive: expand(expand(x, s1), s2) == expand(x, s2).
      if (ir::Node* inner = producer_of(in, "expand")) node.inputs[0] = in = inner->inputs[0];
      if (in->type == out) forward(node);
    } else if (node.op == "transpose") {
      if (ir::Node* inner = producer_of(in, "transpose")) {
        const auto& p1 = inner->attrs.ints("perm");
        std::vector<int64_t> p2 = node.attrs.ints("perm");
        for (auto& axis : p2) axis = p1[axis];
        node.inputs[0] = in = inner->inputs[0];
        node.attrs.set("perm", std::move(p2));
      }
      if (is_identity_perm(node.attrs.ints("perm"))) forward(node);
    } else if (node.op == "cast") {
      if (ir::Node* inner = producer_of(in, "cast"); inner && cast_is_exact(inner->inputs[0]->type.dtype, in->type.dtype))
        node.inputs[0] = in = inner->inputs[0];
      if (in->type == out) forward(node);
    }
  });
}

}  // namespace exporters::passes
