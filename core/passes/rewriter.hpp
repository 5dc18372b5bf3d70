// The sweep every pass is built on: one pass over the nodes in order, new
// nodes placed right before the node being visited, value replacements
// applied as the sweep goes, and nodes left without uses removed at the end.
// Keeps every pass linear in the graph size.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "exporters/ir/graph.hpp"

namespace exporters::passes {

class Rewriter {
 public:
  explicit Rewriter(ir::Graph& graph);

  // Visits every node in topological order. When `visit` runs, the node's
  // inputs already point at their replacements.
  void run(const std::function<void(ir::Node&)>& visit);

  // A new single-output node placed before the node being visited.
  ir::Value* emit(const std::string& op, std::vector<ir::Value*> inputs, ir::Attrs attrs = {},
                  std::string name = {});
  ir::Value* emit_constant(ir::Tensor value, std::string name = {});

  // Every use of `from` (node inputs and graph outputs) now reads `to`.
  // Types must be equal; throws std::logic_error naming the pass otherwise.
  void replace(ir::Value* from, ir::Value* to);
  // False when replacing would make a graph output alias a graph input or
  // another output (backends need distinct output tensors).
  bool can_replace(const ir::Value* from, const ir::Value* to) const;
  // The sweep will not visit `node` (it was absorbed into a match).
  void skip(const ir::Node* node) { skipped_.insert(node); }

  // Number of reads of `v` (each input slot and each graph output counts).
  int uses(const ir::Value* v) const;
  bool is_output(const ir::Value* v) const { return outputs_.count(v) != 0; }
  // The node reading `v` when exactly one node reads it once, else nullptr.
  ir::Node* single_user(const ir::Value* v) const;

  ir::Graph& graph() { return graph_; }

 private:
  ir::Graph& graph_;
  std::vector<std::unique_ptr<ir::Node>> order_;
  std::unordered_map<ir::Value*, ir::Value*> replaced_;
  std::unordered_map<const ir::Value*, int> uses_;
  std::unordered_map<const ir::Value*, ir::Node*> first_user_;
  std::unordered_set<const ir::Value*> outputs_;
  std::unordered_set<const ir::Value*> inputs_;
  std::unordered_set<const ir::Node*> skipped_;
};

// Pattern helpers.

// `v`'s producer when it is an `op` node, else nullptr.
ir::Node* producer_of(const ir::Value* v, const char* op);
// The value of a one-element constant, else nullopt.
std::optional<double> scalar_constant(const ir::Value* v);
// True when `v` is a one-element constant equal to `expected` within the
// precision of its dtype (f16 constants carry only ~3 decimal digits).
bool is_scalar(const ir::Value* v, double expected);
// For a binary node: the operand that is not `v` (nullptr if both are).
ir::Value* other_operand(const ir::Node& node, const ir::Value* v);

}  // namespace exporters::passes
