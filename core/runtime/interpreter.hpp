// Reference interpreter: runs a verified IR graph on the CPU.
#pragma once

#include <vector>

#include "exporters/ir/graph.hpp"

namespace exporters::runtime {

// Runs `graph` on `inputs` (one per graph input, matching dtype and shape;
// throws std::runtime_error naming the input otherwise) and returns one
// tensor per graph output. Intermediate tensors are freed after their last use.
std::vector<ir::Tensor> run(const ir::Graph& graph, const std::vector<ir::Tensor>& inputs);

// Evaluates one node on concrete inputs (used by constant folding).
std::vector<ir::Tensor> evaluate_node(const ir::Node& node, const std::vector<ir::Tensor>& inputs);

}  // namespace exporters::runtime
