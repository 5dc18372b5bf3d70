// Reference interpreter: walks the nodes in order, evaluates each through the
// kernel table and frees every intermediate right after its last use.
#include "interpreter.hpp"

#include <unordered_map>
#include <unordered_set>

#include "exporters/ir/ops.hpp"
#include "kernel.hpp"

namespace exporters::runtime {

namespace {

Tensor widen_half(const Tensor& t) {
  Tensor out = Tensor::zeros(DType::F32, t.shape());
  const auto* src = t.data_as<uint16_t>();
  float* dst = out.mutable_as<float>();
  ir::halves_to_floats(src, dst, static_cast<size_t>(t.numel()));
  return out;
}

Tensor narrow_to_half(const Tensor& t) {
  Tensor out = Tensor::zeros(DType::F16, t.shape());
  const float* src = t.data_as<float>();
  auto* dst = out.mutable_as<uint16_t>();
  ir::floats_to_halves(src, dst, static_cast<size_t>(t.numel()));
  return out;
}

std::string describe(const ir::Node& node) {
  std::string s = "op '" + node.op + "'";
  if (!node.outputs.empty() && node.outputs[0]) s += " producing %" + std::to_string(node.outputs[0]->id);
  if (!node.name.empty()) s += " (" + node.name + ")";
  return s;
}

// Output types inferred by the op table from the concrete inputs. When the
// node declares its outputs they must agree: kernels size their loops from
// these types, so a stale or hand-made node cannot make them read or write
// out of bounds.
std::vector<TensorType> output_types(const ir::Node& node, const std::vector<Tensor>& inputs) {
  const ir::OpSchema* schema = ir::find_op(node.op);
  if (!schema) kernel_error("not an op of the canonical set");
  std::vector<const TensorType*> in_types;
  for (const Tensor& t : inputs) in_types.push_back(t.defined() ? &t.type() : nullptr);
  std::vector<TensorType> types = schema->infer(in_types, node.attrs);
  if (!node.outputs.empty()) {
    if (node.outputs.size() != types.size())
      kernel_error("node declares " + std::to_string(node.outputs.size()) + " outputs, the op has " +
                   std::to_string(types.size()));
    for (size_t i = 0; i < types.size(); ++i) {
      if (!node.outputs[i]) kernel_error("node has a null output");
      if (node.outputs[i]->type != types[i])
        kernel_error("output " + std::to_string(i) + " is declared " + node.outputs[i]->type.to_string() +
                     " but the inputs give " + types[i].to_string());
    }
  }
  return types;
}

std::vector<Tensor> evaluate(const ir::Node& node, const std::vector<Tensor>& inputs) {
  try {
    if (node.is_constant()) return {node.constant()};
    const KernelRow* row = find_kernel(node.op);
    if (!row) kernel_error("no kernel for this op");
    if (!node.inputs.empty() && node.inputs.size() != inputs.size())
      kernel_error("expected " + std::to_string(node.inputs.size()) + " inputs, got " +
                   std::to_string(inputs.size()));
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const ir::Value* v = node.inputs[i];
      if (v && (!inputs[i].defined() || inputs[i].type() != v->type))
        kernel_error("input " + std::to_string(i) + " should be " + v->type.to_string() + ", got " +
                     (inputs[i].defined() ? inputs[i].type().to_string() : std::string("nothing")));
    }
    std::vector<TensorType> types = output_types(node, inputs);

    bool widen = false;
    if (row->half == HalfPolicy::upcast) {
      for (const Tensor& t : inputs) widen |= t.defined() && t.dtype() == DType::F16;
      for (const TensorType& t : types) widen |= t.dtype == DType::F16;
    }
    std::vector<Tensor> results;
    if (widen) {
      std::vector<Tensor> wide = inputs;
      for (Tensor& t : wide)
        if (t.defined() && t.dtype() == DType::F16) t = widen_half(t);
      std::vector<TensorType> wide_types = types;
      for (TensorType& t : wide_types)
        if (t.dtype == DType::F16) t.dtype = DType::F32;
      results = row->fn(KernelArgs{node, wide, wide_types});
      for (size_t i = 0; i < results.size() && i < types.size(); ++i)
        if (types[i].dtype == DType::F16 && results[i].dtype() == DType::F32)
          results[i] = narrow_to_half(results[i]);
    } else {
      results = row->fn(KernelArgs{node, inputs, types});
    }

    if (results.size() != types.size())
      throw std::logic_error("kernel returned " + std::to_string(results.size()) +
                             " outputs, expected " + std::to_string(types.size()));
    for (size_t i = 0; i < results.size(); ++i)
      if (results[i].type() != types[i])
        throw std::logic_error("kernel produced " + results[i].type().to_string() +
                               " where the op table says " + types[i].to_string());
    return results;
  } catch (const std::logic_error& e) {
    throw std::logic_error("runtime: " + describe(node) + ": " + e.what());
  } catch (const std::exception& e) {
    throw std::runtime_error("runtime: " + describe(node) + ": " + e.what());
  }
}

std::string input_label(const ir::Value* v, size_t i) {
  std::string s = "input " + std::to_string(i);
  if (!v->name.empty()) s += " '" + v->name + "'";
  return s;
}

}  // namespace

std::vector<Tensor> evaluate_node(const ir::Node& node, const std::vector<Tensor>& inputs) {
  return evaluate(node, inputs);
}

std::vector<Tensor> run(const ir::Graph& graph, const std::vector<Tensor>& inputs) {
  const auto& graph_inputs = graph.inputs();
  if (inputs.size() != graph_inputs.size())
    throw std::runtime_error("runtime: graph has " + std::to_string(graph_inputs.size()) +
                             " inputs, got " + std::to_string(inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ir::Value* v = graph_inputs[i];
    if (!inputs[i].defined())
      throw std::runtime_error("runtime: " + input_label(v, i) + " has no data");
    if (inputs[i].dtype() != v->type.dtype)
      throw std::runtime_error("runtime: " + input_label(v, i) + " has dtype " +
                               dtype_str(inputs[i].dtype()) + ", the graph expects " +
                               dtype_str(v->type.dtype));
    if (inputs[i].shape() != v->type.shape)
      throw std::runtime_error("runtime: " + input_label(v, i) + " has shape [" +
                               ir::shape_to_string(inputs[i].shape()) + "], the graph expects [" +
                               ir::shape_to_string(v->type.shape) + "]");
  }

  const auto& nodes = graph.nodes();
  // After node i runs, the values in free_after[i] are no longer needed.
  std::unordered_map<const ir::Value*, size_t> last_use;
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const ir::Value* v : nodes[i]->inputs)
      if (v) last_use[v] = i;
  std::unordered_set<const ir::Value*> kept(graph.outputs().begin(), graph.outputs().end());
  std::vector<std::vector<const ir::Value*>> free_after(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const ir::Value* v : nodes[i]->outputs) {
      if (!v || kept.count(v)) continue;
      auto it = last_use.find(v);
      free_after[it == last_use.end() ? i : it->second].push_back(v);
    }

  std::unordered_map<const ir::Value*, Tensor> env;
  for (size_t i = 0; i < inputs.size(); ++i) env[graph_inputs[i]] = inputs[i];

  std::vector<Tensor> args;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const ir::Node& node = *nodes[i];
    args.clear();
    for (const ir::Value* v : node.inputs) {
      if (!v) {
        args.emplace_back();
        continue;
      }
      auto it = env.find(v);
      if (it == env.end())
        throw std::runtime_error("runtime: " + describe(node) + " uses %" + std::to_string(v->id) +
                                 " before it is defined");
      args.push_back(it->second);
    }
    std::vector<Tensor> results = evaluate(node, args);
    args.clear();
    for (size_t k = 0; k < node.outputs.size(); ++k) env[node.outputs[k]] = std::move(results[k]);
    for (const ir::Value* v : free_after[i]) env.erase(v);
  }

  std::vector<Tensor> outputs;
  for (const ir::Value* v : graph.outputs()) {
    auto it = env.find(v);
    if (it == env.end())
      throw std::runtime_error("runtime: graph output %" + std::to_string(v->id) + " is never computed");
    outputs.push_back(it->second);
  }
  return outputs;
}

}  // namespace exporters::runtime
