#include "exporters/ir/graph.hpp"

#include <fmt/format.h>

#include "exporters/ir/ops.hpp"

namespace exporters::ir {

namespace {
template <class T>
const T& get_attr(const std::map<std::string, Attr>& map, const std::string& key, const char* kind) {
  auto it = map.find(key);
  if (it == map.end()) throw IrError(fmt::format("missing attribute '{}'", key));
  if (auto* v = std::get_if<T>(&it->second)) return *v;
  throw IrError(fmt::format("attribute '{}' is not {}", key, kind));
}
}  // namespace

int64_t Attrs::i(const std::string& key) const { return get_attr<int64_t>(map_, key, "an int"); }
int64_t Attrs::i(const std::string& key, int64_t fallback) const { return has(key) ? i(key) : fallback; }
double Attrs::f(const std::string& key) const {
  auto it = map_.find(key);
  if (it != map_.end())
    if (auto* v = std::get_if<int64_t>(&it->second)) return static_cast<double>(*v);
  return get_attr<double>(map_, key, "a float");
}
double Attrs::f(const std::string& key, double fallback) const { return has(key) ? f(key) : fallback; }
const std::string& Attrs::s(const std::string& key) const { return get_attr<std::string>(map_, key, "a string"); }
std::string Attrs::s(const std::string& key, const std::string& fallback) const {
  return has(key) ? s(key) : fallback;
}
const std::vector<int64_t>& Attrs::ints(const std::string& key) const {
  return get_attr<std::vector<int64_t>>(map_, key, "an int list");
}
std::vector<int64_t> Attrs::ints(const std::string& key, std::vector<int64_t> fallback) const {
  return has(key) ? ints(key) : fallback;
}
const std::vector<double>& Attrs::floats(const std::string& key) const {
  return get_attr<std::vector<double>>(map_, key, "a float list");
}
const Tensor& Attrs::tensor(const std::string& key) const { return get_attr<Tensor>(map_, key, "a tensor"); }

Value* Graph::new_value(TensorType type, std::string name) {
  auto v = std::make_unique<Value>();
  v->id = next_id_++;
  v->type = std::move(type);
  v->name = std::move(name);
  values_.push_back(std::move(v));
  return values_.back().get();
}

Value* Graph::add_input(std::string name, TensorType type) {
  Value* v = new_value(std::move(type), std::move(name));
  inputs_.push_back(v);
  return v;
}

void Graph::add_output(Value* value, std::string name) {
  if (!value) throw IrError("graph output '" + name + "' is null");
  outputs_.push_back(value);
  output_names_.push_back(std::move(name));
}

void Graph::set_output(size_t index, Value* value) {
  if (index >= outputs_.size()) throw IrError(fmt::format("graph has no output {}", index));
  outputs_[index] = value;
}

std::vector<TensorType> infer_types(const std::string& op, const std::vector<Value*>& inputs,
                                    const Attrs& attrs, const std::string& name) {
  const OpSchema* schema = find_op(op);
  auto where = [&] { return name.empty() ? op : fmt::format("{} ({})", op, name); };
  if (!schema) throw IrError(fmt::format("unknown op '{}'", where()));
  const int n = static_cast<int>(inputs.size());
  if (n < schema->min_inputs || (schema->max_inputs >= 0 && n > schema->max_inputs))
    throw IrError(fmt::format("op {}: takes {}..{} inputs, got {}", where(), schema->min_inputs,
                              schema->max_inputs < 0 ? std::string("n") : std::to_string(schema->max_inputs), n));
  std::vector<const TensorType*> types;
  types.reserve(inputs.size());
  for (int i = 0; i < n; ++i) {
    if (!inputs[i] && i < schema->min_inputs)
      throw IrError(fmt::format("op {}: required input {} is missing", where(), i));
    types.push_back(inputs[i] ? &inputs[i]->type : nullptr);
  }
  try {
    return schema->infer(types, attrs);
  } catch (const IrError& e) {
    throw IrError(fmt::format("op {}: {}", where(), e.what()));
  } catch (const std::exception& e) {
    throw IrError(fmt::format("op {}: {}", where(), e.what()));
  }
}

std::unique_ptr<Node> Graph::make_node(const std::string& op, std::vector<Value*> inputs, Attrs attrs,
                                       std::string name) {
  std::vector<TensorType> types = infer_types(op, inputs, attrs, name);
  auto node = std::make_unique<Node>();
  node->op = op;
  node->inputs = std::move(inputs);
  node->attrs = std::move(attrs);
  node->name = std::move(name);
  for (size_t i = 0; i < types.size(); ++i) {
    Value* v = new_value(std::move(types[i]));
    v->producer = node.get();
    v->output_index = static_cast<int>(i);
    node->outputs.push_back(v);
  }
  return node;
}

std::vector<Value*> Graph::add(const std::string& op, std::vector<Value*> inputs, Attrs attrs, std::string name) {
  auto node = make_node(op, std::move(inputs), std::move(attrs), std::move(name));
  std::vector<Value*> outs = node->outputs;
  nodes_.push_back(std::move(node));
  return outs;
}

Value* Graph::add1(const std::string& op, std::vector<Value*> inputs, Attrs attrs, std::string name) {
  auto outs = add(op, std::move(inputs), std::move(attrs), std::move(name));
  if (outs.size() != 1) throw IrError(fmt::format("op {} has {} outputs, expected 1", op, outs.size()));
  return outs[0];
}

Value* Graph::constant(Tensor value, std::string name) {
  Attrs attrs;
  attrs.set("value", std::move(value));
  return add1("constant", {}, std::move(attrs), std::move(name));
}

void Graph::set_outputs(std::vector<Value*> values, std::vector<std::string> names) {
  if (values.size() != names.size()) throw IrError("set_outputs: as many names as values are needed");
  for (size_t i = 0; i < values.size(); ++i)
    if (!values[i]) throw IrError("graph output '" + names[i] + "' is null");
  outputs_ = std::move(values);
  output_names_ = std::move(names);
}

void Graph::set_output_name(size_t index, std::string name) {
  if (index >= outputs_.size()) throw IrError(fmt::format("graph has no output {}", index));
  output_names_[index] = std::move(name);
}

void Graph::replace_uses(const std::unordered_map<Value*, Value*>& map) {
  if (map.empty()) return;
  auto resolve = [&](Value* v) {
    for (size_t guard = 0; v && guard <= map.size(); ++guard) {
      auto it = map.find(v);
      if (it == map.end()) return v;
      v = it->second;
    }
    return v;
  };
  for (auto& node : nodes_)
    for (auto& in : node->inputs) in = resolve(in);
  for (auto& out : outputs_) out = resolve(out);
}

void Graph::remove_nodes_if(const std::function<bool(const Node&)>& dead) {
  std::vector<std::unique_ptr<Node>> kept;
  kept.reserve(nodes_.size());
  for (auto& node : nodes_)
    if (!dead(*node)) kept.push_back(std::move(node));
  nodes_ = std::move(kept);
}

std::vector<std::unique_ptr<Node>> Graph::take_nodes() { return std::move(nodes_); }

void Graph::set_order(std::vector<std::unique_ptr<Node>> order) { nodes_ = std::move(order); }

}  // namespace exporters::ir
