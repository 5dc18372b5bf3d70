// Dead-code elimination: one reverse sweep marks what the outputs need.
#include <unordered_set>

#include "passes.hpp"

namespace exporters::passes {

void eliminate_dead_code(ir::Graph& graph) {
  std::unordered_set<const ir::Value*> live(graph.outputs().begin(), graph.outputs().end());
  std::unordered_set<const ir::Node*> dead;
  const auto& nodes = graph.nodes();
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    const ir::Node& node = **it;
    bool needed = false;
    for (const ir::Value* out : node.outputs) needed = needed || live.count(out) != 0;
    if (!needed) {
      dead.insert(&node);
      continue;
    }
    for (const ir::Value* in : node.inputs)
      if (in) live.insert(in);
  }
  if (!dead.empty()) graph.remove_nodes_if([&](const ir::Node& node) { return dead.count(&node) != 0; });
}

}  // namespace exporters::passes
