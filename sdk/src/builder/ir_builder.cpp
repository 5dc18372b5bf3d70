#include "exporters/builder/ir_builder.hpp"

#include "exporters/task.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "exporters/ir/ops.hpp"

namespace exporters::builder {

namespace {

std::vector<int64_t> iota(int64_t n, int64_t from = 0) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = from + i;
  return v;
}

}  // namespace

const std::vector<std::string>& activation_names() {
  // transformers 4.36 activations.py, ACT2CLS.
  static const std::vector<std::string> names = {
      "gelu",       "gelu_10", "gelu_accurate", "gelu_fast", "gelu_new", "gelu_python", "gelu_pytorch_tanh",
      "laplace",    "leaky_relu", "linear",     "mish",      "quick_gelu", "relu",      "relu2",
      "relu6",      "sigmoid", "silu",          "swish",     "tanh"};
  return names;
}

bool is_activation_name(const std::string& name) {
  const auto& names = activation_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

Value* IrBuilder::scalar(float value) { return constant(ir::Tensor::scalar_f32(value)); }

Value* IrBuilder::ints(const std::vector<int64_t>& values) {
  return constant(ir::Tensor::from_i64({static_cast<int64_t>(values.size())}, values));
}

Value* IrBuilder::weight(const Weights& w, const std::string& name) { return constant(w.tensor(name), w.full_name(name)); }

Value* IrBuilder::weight(const Weights& w, const std::string& name, const ir::Shape& shape) {
  return constant(w.tensor(name, shape), w.full_name(name));
}

Value* IrBuilder::cast(Value* x, ir::DType dtype) {
  if (x->type.dtype == dtype) return x;
  return op("cast", {x}, {{"dtype", std::string(ir::dtype_name(dtype))}});
}

Value* IrBuilder::activation(Value* x, const std::string& name) {
  // Each row follows the module transformers builds for the name.
  if (name == "gelu" || name == "gelu_python") return op("gelu", {x}, {{"approximate", std::string("none")}});
  // NewGELU, FastGELU, AccurateGELU and PytorchGELUTanh are all the tanh form
  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), written differently.
  if (name == "gelu_new" || name == "gelu_fast" || name == "gelu_accurate" || name == "gelu_pytorch_tanh")
    return op("gelu", {x}, {{"approximate", std::string("tanh")}});
  if (name == "gelu_10")
    return op("clamp", {op("gelu", {x}, {{"approximate", std::string("none")}})}, {{"min", -10.0}, {"max", 10.0}});
  if (name == "quick_gelu") return mul(x, op("sigmoid", {mul(x, scalar(1.702f))}));
  if (name == "laplace") {
    // 0.5 (1 + erf((x - mu) / (sigma sqrt 2))), mu 0.707107, sigma 0.282095
    Value* z = div(sub(x, scalar(0.707107f)), scalar(static_cast<float>(0.282095 * std::sqrt(2.0))));
    return mul(scalar(0.5f), add(scalar(1.f), op("erf", {z})));
  }
  if (name == "leaky_relu") return op("leaky_relu", {x}, {{"alpha", 0.01}});  // nn.LeakyReLU()'s default slope
  if (name == "linear") return x;
  if (name == "mish") return mul(x, op("tanh", {op("softplus", {x}, {{"beta", 1.0}, {"threshold", 20.0}})}));
  if (name == "relu") return op("relu", {x});
  if (name == "relu2") {
    Value* r = op("relu", {x});
    return mul(r, r);
  }
  if (name == "relu6") return op("clamp", {x}, {{"min", 0.0}, {"max", 6.0}});
  if (name == "sigmoid") return op("sigmoid", {x});
  if (name == "silu" || name == "swish") return op("silu", {x});
  if (name == "tanh") return op("tanh", {x});
  throw std::invalid_argument(fmt::format("activation '{}' is not one transformers knows (ACT2FN: {})", name,
                                          fmt::join(activation_names(), ", ")));
}

Value* IrBuilder::activation(Value* x, const JsonView& config, const std::string& key) {
  const std::string name = config.string(key);
  if (!is_activation_name(name))
    config.reject(key, fmt::format("not an activation transformers 4.36 knows (ACT2FN: {})",
                                   fmt::join(activation_names(), ", ")));
  return activation(x, name);
}

Value* IrBuilder::linear(Value* x, const Weights& w, const std::string& module, int64_t out_features, bool bias) {
  const int64_t in = x->type.shape.back();
  ir::Tensor weight = w.tensor(module + ".weight");
  const int64_t out = out_features >= 0 ? out_features : (weight.shape().empty() ? -1 : weight.shape()[0]);
  weight = w.tensor(module + ".weight", {out, in});
  std::optional<ir::Tensor> b;
  if (bias) b = w.tensor(module + ".bias", {out});
  return linear(x, weight, b, w.full_name(module));
}

Value* IrBuilder::linear(Value* x, const ir::Tensor& weight, const std::optional<ir::Tensor>& bias,
                         const std::string& name) {
  Value* wv = constant(weight, name + ".weight");
  Value* bv = bias ? constant(*bias, name + ".bias") : nullptr;
  return op("linear", {x, wv, bv});
}

Value* IrBuilder::layer_norm(Value* x, const Weights& w, const std::string& module, double eps) {
  const int64_t d = x->type.shape.back();
  const Weights m = w.scope(module);
  Value* gamma = constant(m.first_of({"weight", "gamma"}, {d}), m.full_name("weight"));
  Value* beta = constant(m.first_of({"bias", "beta"}, {d}), m.full_name("bias"));
  return op("layer_norm", {x, gamma, beta}, {{"axes", std::vector<int64_t>{x->type.rank() - 1}}, {"epsilon", eps}});
}

Value* IrBuilder::embedding(Value* ids, const Weights& w, const std::string& module, int64_t dim) {
  ir::Tensor table = w.tensor(module + ".weight");
  if (table.shape().size() != 2 || (dim >= 0 && table.shape()[1] != dim))
    throw WeightError(fmt::format("{}: tensor '{}' is [{}], expected [rows, {}]", w.source().describe(),
                                  w.full_name(module + ".weight"), fmt::join(table.shape(), ", "), dim));
  return embedding(ids, table, w.full_name(module + ".weight"));
}

Value* IrBuilder::embedding(Value* ids, const ir::Tensor& table, const std::string& name) {
  return op("gather", {constant(table, name), ids}, {{"axis", int64_t{0}}});
}

Value* IrBuilder::conv2d(Value* x, const Weights& w, const std::string& module, std::vector<int64_t> strides,
                         std::vector<int64_t> pads, std::vector<int64_t> dilations, int64_t groups, bool bias) {
  ir::Tensor weight = w.tensor(module + ".weight");
  if (weight.shape().size() != 4)
    throw WeightError(fmt::format("{}: tensor '{}' is [{}], expected a 4-D convolution kernel", w.source().describe(),
                                  w.full_name(module + ".weight"), fmt::join(weight.shape(), ", ")));
  Value* b = bias ? constant(w.tensor(module + ".bias", {weight.shape()[0]}), w.full_name(module + ".bias")) : nullptr;
  return op("conv", {x, constant(weight, w.full_name(module + ".weight")), b},
            {{"strides", strides}, {"pads", pads}, {"dilations", dilations}, {"groups", groups}});
}

Value* IrBuilder::softmax(Value* x, int64_t axis) {
  return op("softmax", {x}, {{"axis", ir::normalize_axis(axis, x->type.rank())}});
}

Value* IrBuilder::reshape(Value* x, const ir::Shape& shape) {
  if (x->type.shape == shape) return x;
  return op("reshape", {x}, {{"shape", shape}});
}

Value* IrBuilder::transpose(Value* x, const std::vector<int64_t>& perm) { return op("transpose", {x}, {{"perm", perm}}); }

Value* IrBuilder::slice(Value* x, int64_t axis, int64_t start, int64_t end) {
  axis = ir::normalize_axis(axis, x->type.rank());
  return op("slice", {x},
            {{"axes", std::vector<int64_t>{axis}},
             {"starts", std::vector<int64_t>{start}},
             {"ends", std::vector<int64_t>{end}},
             {"steps", std::vector<int64_t>{1}}});
}

Value* IrBuilder::select(Value* x, int64_t axis, int64_t index) {
  axis = ir::normalize_axis(axis, x->type.rank());
  Value* s = slice(x, axis, index, index + 1);
  ir::Shape shape = s->type.shape;
  shape.erase(shape.begin() + axis);
  return reshape(s, shape);
}

Value* IrBuilder::concat(const std::vector<Value*>& xs, int64_t axis) {
  return op("concat", xs, {{"axis", ir::normalize_axis(axis, xs.front()->type.rank())}});
}

Value* IrBuilder::gather(Value* x, Value* indices, int64_t axis) {
  return op("gather", {x, indices}, {{"axis", ir::normalize_axis(axis, x->type.rank())}});
}

Value* IrBuilder::split_heads(Value* x, int64_t heads) {
  const auto& s = x->type.shape;
  if (s.size() != 3 || s[2] % heads != 0)
    throw ir::IrError(fmt::format("split_heads: [{}] does not split into {} heads", fmt::join(s, ", "), heads));
  return transpose(reshape(x, {s[0], s[1], heads, s[2] / heads}), {0, 2, 1, 3});
}

Value* IrBuilder::merge_heads(Value* x) {
  const auto& s = x->type.shape;
  Value* t = transpose(x, {0, 2, 1, 3});
  return reshape(t, {s[0], s[2], s[1] * s[3]});
}

Value* IrBuilder::additive_mask(Value* mask) {
  const auto& s = mask->type.shape;
  if (s.size() != 2) throw ir::IrError(fmt::format("additive_mask: mask is [{}], expected [batch, sequence]", fmt::join(s, ", ")));
  Value* m = reshape(cast(mask, ir::DType::F32), {s[0], 1, 1, s[1]});
  return mul(sub(scalar(1.f), m), scalar(kMaskValue));
}

Value* IrBuilder::attention(Value* q, Value* k, Value* v, const AttentionOptions& options) {
  const int64_t r = k->type.rank();
  std::vector<int64_t> perm = iota(r);
  std::swap(perm[static_cast<size_t>(r - 1)], perm[static_cast<size_t>(r - 2)]);
  Value* scores = matmul(q, transpose(k, perm));
  if (options.score_bias) scores = add(scores, options.score_bias);
  if (options.divide_by != 1) scores = div(scores, scalar(static_cast<float>(options.divide_by)));
  if (options.mask) scores = add(scores, options.mask);
  return matmul(softmax(scores, -1), v);
}

void IrBuilder::task_outputs(const std::vector<Value*>& values, const TaskSpec& task, const std::string& builder) {
  if (values.size() != task.outputs.size())
    throw std::logic_error(builder + ": " + task.hf_class + " makes " + std::to_string(values.size()) +
                           " outputs, the task names " + std::to_string(task.outputs.size()));
  for (size_t i = 0; i < values.size(); ++i) output(values[i], task.outputs[i].name);
}

}  // namespace exporters::builder
