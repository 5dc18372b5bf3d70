// Constant folding through the reference interpreter's per-node evaluator.
#include <fmt/format.h>

#include <stdexcept>

#include "passes.hpp"
#include "rewriter.hpp"
#include "core/runtime/interpreter.hpp"

namespace exporters::passes {

namespace {

// Folded results become weights a backend writes out: never more than this
// per output, and a result that is larger than its inputs (a broadcast or a
// tile) is only materialised while it stays small.
constexpr size_t kMaxFoldedBytes = size_t{64} << 20;
constexpr size_t kMaxGrowthBytes = size_t{1} << 20;

bool worth_folding(const ir::Node& node) {
  size_t in_bytes = 0;
  for (const ir::Value* in : node.inputs)
    if (in) in_bytes += in->type.nbytes();
  for (const ir::Value* out : node.outputs) {
    size_t bytes = out->type.nbytes();
    if (bytes > kMaxFoldedBytes) return false;
    if (bytes > kMaxGrowthBytes && bytes > in_bytes) return false;
  }
  return true;
}

}  // namespace

void fold_constants(ir::Graph& graph) {
  Rewriter rw(graph);
  rw.run([&](ir::Node& node) {
    if (node.is_constant() || node.inputs.empty()) return;
    std::vector<ir::Tensor> args;
    args.reserve(node.inputs.size());
    for (const ir::Value* in : node.inputs) {
      if (!in) {
        args.emplace_back();
        continue;
      }
      if (!in->producer || !in->producer->is_constant()) return;  // graph inputs are never folded
      args.push_back(in->producer->constant());
    }
    std::vector<ir::Tensor> results;
    if (node.op == "reshape" || node.op == "identity") {
      // A view: shares (and keeps borrowing) the weight's bytes, no copy.
      results.push_back(args[0].reshaped(node.outputs[0]->type.shape));
    } else {
      if (!worth_folding(node)) return;
      try {
        results = runtime::evaluate_node(node, args);
      } catch (const std::exception&) {
        return;  // left for the backend (e.g. an op the interpreter cannot evaluate)
      }
    }
    if (results.size() != node.outputs.size())
      throw std::logic_error(fmt::format("fold_constants: op {} evaluated to {} tensors, expected {}", node.op,
                                         results.size(), node.outputs.size()));
    for (size_t i = 0; i < results.size(); ++i) {
      if (!(results[i].type() == node.outputs[i]->type))
        throw std::logic_error(fmt::format("fold_constants: op {} evaluated to {}, expected {}", node.op,
                                           results[i].type().to_string(), node.outputs[i]->type.to_string()));
      rw.replace(node.outputs[i], rw.emit_constant(std::move(results[i]), node.name));
    }
  });
}

}  // namespace exporters::passes
