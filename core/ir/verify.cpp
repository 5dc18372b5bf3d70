#include <fmt/format.h>

#include <unordered_set>

#include "exporters/ir/graph.hpp"
#include "exporters/ir/ops.hpp"

namespace exporters::ir {

void verify(const Graph& graph) {
  std::unordered_set<const Value*> defined(graph.inputs().begin(), graph.inputs().end());
  size_t index = 0;
  for (const auto& node : graph.nodes()) {
    auto where = [&] {
      return fmt::format("node #{} '{}'{}", index, node->op, node->name.empty() ? "" : " (" + node->name + ")");
    };
    for (size_t i = 0; i < node->inputs.size(); ++i) {
      const Value* v = node->inputs[i];
      if (v && !defined.count(v))
        throw IrError(fmt::format("{}: input {} (%{}) is used before it is defined", where(), i, v->id));
    }
    std::vector<TensorType> expected;
    try {
      expected = infer_types(node->op, node->inputs, node->attrs, node->name);
    } catch (const IrError& e) {
      throw IrError(fmt::format("{}: {}", where(), e.what()));
    }
    if (expected.size() != node->outputs.size())
      throw IrError(fmt::format("{}: has {} outputs, the op defines {}", where(), node->outputs.size(), expected.size()));
    for (size_t i = 0; i < expected.size(); ++i) {
      const Value* out = node->outputs[i];
      if (out->producer != node.get())
        throw IrError(fmt::format("{}: output {} does not point back to its producer", where(), i));
      if (!(out->type == expected[i]))
        throw IrError(fmt::format("{}: output {} has type {}, the op infers {}", where(), i, out->type.to_string(),
                                  expected[i].to_string()));
      if (!defined.insert(out).second)
        throw IrError(fmt::format("{}: output {} (%{}) is defined twice", where(), i, out->id));
    }
    ++index;
  }
  for (size_t i = 0; i < graph.outputs().size(); ++i)
    if (!defined.count(graph.outputs()[i]))
      throw IrError(fmt::format("graph output {} ('{}') is not defined by any node or input", i,
                                graph.output_names()[i]));
}

}  // namespace exporters::ir
