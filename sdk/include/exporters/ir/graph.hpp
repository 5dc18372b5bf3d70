// The IR: an SSA graph of typed values. Nodes are kept in topological order;
// every value has exactly one producer (a node, or the graph input list).
// Ops come from the canonical set documented in ops.hpp; `Graph::add`
// infers output types through that table, so a graph built with it is
// well-typed by construction and `verify()` re-checks it after passes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "exporters/ir/tensor.hpp"

namespace exporters::ir {

class Node;

struct Value {
  int64_t id = -1;            // unique in the graph, stable for printing
  TensorType type;
  std::string name;           // optional debug / I/O name
  Node* producer = nullptr;   // nullptr for graph inputs
  int output_index = 0;
};

using Attr = std::variant<int64_t, double, std::string, std::vector<int64_t>,
                          std::vector<double>, Tensor>;

// Sorted by key so printing and hashing are stable.
class Attrs {
 public:
  Attrs() = default;
  Attrs(std::initializer_list<std::pair<const std::string, Attr>> init) : map_(init) {}

  bool has(const std::string& key) const { return map_.count(key) != 0; }
  void set(const std::string& key, Attr value) { map_[key] = std::move(value); }
  void erase(const std::string& key) { map_.erase(key); }

  // Typed getters throw IrError naming the key when missing or mistyped.
  int64_t i(const std::string& key) const;
  int64_t i(const std::string& key, int64_t fallback) const;
  double f(const std::string& key) const;  // accepts int64 attrs too
  double f(const std::string& key, double fallback) const;
  const std::string& s(const std::string& key) const;
  std::string s(const std::string& key, const std::string& fallback) const;
  const std::vector<int64_t>& ints(const std::string& key) const;
  std::vector<int64_t> ints(const std::string& key, std::vector<int64_t> fallback) const;
  const std::vector<double>& floats(const std::string& key) const;
  const Tensor& tensor(const std::string& key) const;

  const std::map<std::string, Attr>& entries() const { return map_; }

 private:
  std::map<std::string, Attr> map_;
};

class IrError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Node {
 public:
  std::string op;                  // canonical op name, see ops.hpp
  std::vector<Value*> inputs;      // may contain nullptr for absent optional inputs
  std::vector<Value*> outputs;
  Attrs attrs;
  std::string name;                // optional, e.g. the TorchScript source location

  // For op == "constant": the data (attr "value").
  const Tensor& constant() const { return attrs.tensor("value"); }
  bool is_constant() const { return op == "constant"; }
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  Graph(Graph&&) = default;
  Graph& operator=(Graph&&) = default;

  Value* add_input(std::string name, TensorType type);
  void add_output(Value* value, std::string name);
  void set_output(size_t index, Value* value);
  void set_output_name(size_t index, std::string name);
  // Replaces the whole output list (heads may add or drop outputs).
  void set_outputs(std::vector<Value*> values, std::vector<std::string> names);

  // Appends a node with the canonical op `op`; output types are inferred by
  // the op table (throws IrError naming the op on bad inputs/attributes).
  std::vector<Value*> add(const std::string& op, std::vector<Value*> inputs,
                          Attrs attrs = {}, std::string name = {});
  // Single-output convenience.
  Value* add1(const std::string& op, std::vector<Value*> inputs, Attrs attrs = {},
              std::string name = {});
  Value* constant(Tensor value, std::string name = {});

  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  const std::vector<std::string>& output_names() const { return output_names_; }
  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }

  // Rewrites every use of each key (node inputs and graph outputs) to its
  // mapped value, in one linear sweep. Chains (a->b, b->c) are followed.
  void replace_uses(const std::unordered_map<Value*, Value*>& map);
  // Drops nodes for which `dead(node)` is true (callers ensure no live uses).
  void remove_nodes_if(const std::function<bool(const Node&)>& dead);
  // Passes that splice subgraphs take the node list, build a new one (old
  // nodes plus nodes from make_node) in topological order and set it back.
  std::vector<std::unique_ptr<Node>> take_nodes();
  void set_order(std::vector<std::unique_ptr<Node>> order);
  // A new node with inferred output values, not yet placed in the order.
  std::unique_ptr<Node> make_node(const std::string& op, std::vector<Value*> inputs,
                                  Attrs attrs = {}, std::string name = {});

  // Graph-owned value not yet attached to a producer.
  Value* new_value(TensorType type, std::string name = {});

  // Metadata carried to backends (description, labels, ...).
  std::map<std::string, std::string> metadata;

 private:
  std::vector<std::unique_ptr<Value>> values_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
  std::vector<std::string> output_names_;
  int64_t next_id_ = 0;
};

// Checks topological order, that every input is defined before use, that
// every op exists and that its output types equal what the op table infers.
// Throws IrError naming the op (and its node name) on the first problem.
void verify(const Graph& graph);

// Stable text form, one node per line:
//   graph(%0: i64[1x16] "input_ids") {
//     %3: f32[1x16x32] = gather(%1, %0) {axis=0}
//     return %9 "logits"
//   }
// Constants with more than 8 elements print as `<f32[768x768] data>`.
std::string print(const Graph& graph);

}  // namespace exporters::ir
