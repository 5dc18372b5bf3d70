#include "rewriter.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "passes.hpp"

namespace exporters::passes {

Rewriter::Rewriter(ir::Graph& graph) : graph_(graph) {
  for (const auto& node : graph.nodes())
    for (ir::Value* in : node->inputs) {
      if (!in) continue;
      if (uses_[in]++ == 0) first_user_[in] = node.get();
    }
  for (ir::Value* out : graph.outputs()) {
    ++uses_[out];
    outputs_.insert(out);
  }
  inputs_.insert(graph.inputs().begin(), graph.inputs().end());
}

void Rewriter::run(const std::function<void(ir::Node&)>& visit) {
  auto nodes = graph_.take_nodes();
  order_.clear();
  order_.reserve(nodes.size());
  try {
    for (auto& node : nodes) {
      for (auto& in : node->inputs)
        if (auto it = replaced_.find(in); in && it != replaced_.end()) in = it->second;
      if (!skipped_.count(node.get())) visit(*node);
      order_.push_back(std::move(node));
    }
  } catch (...) {
    // Leave a complete graph behind: the rest of the nodes in their order.
    for (auto& node : nodes)
      if (node) order_.push_back(std::move(node));
    graph_.set_order(std::move(order_));
    graph_.replace_uses(replaced_);
    throw;
  }
  graph_.set_order(std::move(order_));
  graph_.replace_uses(replaced_);
  eliminate_dead_code(graph_);
}

ir::Value* Rewriter::emit(const std::string& op, std::vector<ir::Value*> inputs, ir::Attrs attrs,
                          std::string name) {
  for (auto& in : inputs) {
    if (auto it = replaced_.find(in); in && it != replaced_.end()) in = it->second;
    if (in) ++uses_[in];
  }
  auto node = graph_.make_node(op, std::move(inputs), std::move(attrs), std::move(name));
  if (node->outputs.size() != 1)
    throw std::logic_error(fmt::format("passes: emitted op {} has {} outputs", op, node->outputs.size()));
  ir::Value* out = node->outputs[0];
  order_.push_back(std::move(node));
  return out;
}

ir::Value* Rewriter::emit_constant(ir::Tensor value, std::string name) {
  ir::Attrs attrs;
  attrs.set("value", std::move(value));
  return emit("constant", {}, std::move(attrs), std::move(name));
}

void Rewriter::replace(ir::Value* from, ir::Value* to) {
  if (!(from->type == to->type))
    throw std::logic_error(fmt::format("passes: replacing %{} ({}) with %{} ({}) changes its type", from->id,
                                       from->type.to_string(), to->id, to->type.to_string()));
  replaced_[from] = to;
  uses_[to] += uses_[from];
  uses_[from] = 0;
  if (outputs_.count(from)) outputs_.insert(to);
}

bool Rewriter::can_replace(const ir::Value* from, const ir::Value* to) const {
  if (!outputs_.count(from)) return true;
  return !inputs_.count(to) && !outputs_.count(to);
}

int Rewriter::uses(const ir::Value* v) const {
  auto it = uses_.find(v);
  return it == uses_.end() ? 0 : it->second;
}

ir::Node* Rewriter::single_user(const ir::Value* v) const {
  if (uses(v) != 1 || outputs_.count(v)) return nullptr;
  auto it = first_user_.find(v);
  return it == first_user_.end() ? nullptr : it->second;
}

ir::Node* producer_of(const ir::Value* v, const char* op) {
  return v && v->producer && v->producer->op == op ? v->producer : nullptr;
}

std::optional<double> scalar_constant(const ir::Value* v) {
  const ir::Node* c = producer_of(v, "constant");
  if (!c || c->constant().numel() != 1) return std::nullopt;
  return c->constant().element_as_double(0);
}

bool is_scalar(const ir::Value* v, double expected) {
  auto c = scalar_constant(v);
  if (!c) return false;
  if (*c == expected) return true;
  double tol = v->type.dtype == ir::DType::F16 ? 1e-3 : v->type.dtype == ir::DType::F32 ? 1e-6 : 0.0;
  return std::abs(*c - expected) <= tol * std::abs(expected);
}

ir::Value* other_operand(const ir::Node& node, const ir::Value* v) {
  if (node.inputs.size() != 2 || node.inputs[0] == node.inputs[1]) return nullptr;
  if (node.inputs[0] == v) return node.inputs[1];
  if (node.inputs[1] == v) return node.inputs[0];
  return nullptr;
}

}  // namespace exporters::passes
