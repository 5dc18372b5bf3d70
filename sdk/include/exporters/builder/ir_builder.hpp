// An SSA builder over the canonical IR (ir/ops.hpp) with the pieces
// transformer families are made of: linear layers and norms read by module
// name from a checkpoint, embeddings, activations by their transformers
// name, attention heads and masks, convolutions. Every helper appends
// well-typed nodes through ir::Graph::add, so a shape mistake is an IrError
// naming the op at the line that made it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "exporters/builder/weights.hpp"
#include "exporters/ir/graph.hpp"
#include "exporters/model_folder.hpp"

namespace exporters::builder {

using ir::Value;

// The activation names transformers 4.36's ACT2FN knows, sorted.
const std::vector<std::string>& activation_names();
bool is_activation_name(const std::string& name);

// The most negative float32 (torch.finfo(torch.float32).min): what HF adds
// for masked positions. Finite, so 0 * it stays 0; backends writing float16
// saturate it to -65504 instead of -inf.
inline constexpr float kMaskValue = -3.4028234663852886e38f;

class IrBuilder {
 public:
  explicit IrBuilder(ir::Graph& graph) : g_(&graph) {}
  ir::Graph& graph() { return *g_; }

  Value* input(const std::string& name, const ir::TensorType& type) { return g_->add_input(name, type); }
  void output(Value* value, const std::string& name) { g_->add_output(value, name); }
  // The task's outputs, named as TaskSpec::outputs says; `builder` ("BERT
  // graph builder") names the caller when the counts differ.
  void task_outputs(const std::vector<Value*>& values, const TaskSpec& task, const std::string& builder);

  // ── Constants ───────────────────────────────────────────────────────────
  Value* constant(ir::Tensor value, std::string name = {}) { return g_->constant(std::move(value), std::move(name)); }
  Value* scalar(float value);             // f32, rank 0
  Value* ints(const std::vector<int64_t>& values);  // i64 [n]
  // A checkpoint tensor as a constant named after it.
  Value* weight(const Weights& w, const std::string& name);
  Value* weight(const Weights& w, const std::string& name, const ir::Shape& shape);

  // ── Elementwise ────────────────────────────────────────────────────────
  Value* op(const std::string& op, std::vector<Value*> inputs, ir::Attrs attrs = {}) {
    return g_->add1(op, std::move(inputs), std::move(attrs));
  }
  Value* add(Value* a, Value* b) { return op("add", {a, b}); }
  Value* sub(Value* a, Value* b) { return op("sub", {a, b}); }
  Value* mul(Value* a, Value* b) { return op("mul", {a, b}); }
  Value* div(Value* a, Value* b) { return op("div", {a, b}); }
  Value* cast(Value* x, ir::DType dtype);
  // An activation by its transformers name (hidden_act): every ACT2FN name
  // maps to IR ops; another name throws std::invalid_argument listing them.
  Value* activation(Value* x, const std::string& hf_name);
  // Same, reading the name from `config[key]`; an unknown name is one
  // ConfigError naming the file, key and value.
  Value* activation(Value* x, const JsonView& config, const std::string& key);

  // ── Layers from checkpoint tensors ──────────────────────────────────────
  // x[..., K] @ W^T + b with W = `<module>.weight` [N, K] and, when
  // `bias`, b = `<module>.bias` [N]; `out_features` checks N when >= 0.
  Value* linear(Value* x, const Weights& w, const std::string& module, int64_t out_features = -1, bool bias = true);
  Value* linear(Value* x, const ir::Tensor& weight, const std::optional<ir::Tensor>& bias, const std::string& name);
  // LayerNorm over the last axis with `<module>.weight`/`.bias` (or the
  // gamma/beta of older checkpoints), as torch.nn.LayerNorm.
  Value* layer_norm(Value* x, const Weights& w, const std::string& module, double eps);
  // nn.Embedding: rows of `<module>.weight` [V, D] gathered by integer ids.
  Value* embedding(Value* ids, const Weights& w, const std::string& module, int64_t dim = -1);
  Value* embedding(Value* ids, const ir::Tensor& table, const std::string& name);
  // nn.Conv2d with `<module>.weight` [O, C/groups, kh, kw] and optional bias.
  Value* conv2d(Value* x, const Weights& w, const std::string& module, std::vector<int64_t> strides = {1, 1},
                std::vector<int64_t> pads = {0, 0, 0, 0}, std::vector<int64_t> dilations = {1, 1},
                int64_t groups = 1, bool bias = true);

  // ── Shapes ─────────────────────────────────────────────────────────────
  Value* matmul(Value* a, Value* b) { return op("matmul", {a, b}); }
  Value* softmax(Value* x, int64_t axis = -1);
  Value* reshape(Value* x, const ir::Shape& shape);
  Value* transpose(Value* x, const std::vector<int64_t>& perm);
  Value* slice(Value* x, int64_t axis, int64_t start, int64_t end);
  // x[..., index, ...] with the axis removed.
  Value* select(Value* x, int64_t axis, int64_t index);
  Value* concat(const std::vector<Value*>& xs, int64_t axis);
  Value* gather(Value* x, Value* indices, int64_t axis);
  // [B, S, H*D] -> [B, H, S, D] and back.
  Value* split_heads(Value* x, int64_t heads);
  Value* merge_heads(Value* x);

  // ── Attention ──────────────────────────────────────────────────────────
  // HF's extended attention mask: mask [B, S] (1 keep, 0 pad; any dtype) ->
  // f32 [B, 1, 1, S] = (1 - mask) * kMaskValue, added to the scores.
  Value* additive_mask(Value* mask);
  struct AttentionOptions {
    double divide_by = 1;          // scores / divide_by (HF: sqrt(head_dim))
    Value* score_bias = nullptr;   // added to q @ k^T before the division (relative positions)
    Value* mask = nullptr;         // additive mask, added after the division
  };
  // softmax((q @ k^T + bias) / divide_by + mask) @ v over [B, H, S, D].
  Value* attention(Value* q, Value* k, Value* v, const AttentionOptions& options);

 private:
  ir::Graph* g_;
};

}  // namespace exporters::builder
