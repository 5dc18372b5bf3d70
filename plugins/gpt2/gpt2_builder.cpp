// GPT2Model and its heads, as modeling_gpt2.py (transformers 4.36) computes
// them in eval mode (dropout is the identity, no past key values). Every
// config.json key that code reads either changes the graph here or is
// rejected by name; read_config lists them.
#include "gpt2_builder.hpp"

#include <exporters/builder/ir_builder.hpp>

#include <cmath>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace exporters::plugins::gpt2 {

namespace {

using builder::IrBuilder;
using builder::Value;
using builder::Weights;

struct Gpt2Config {
  int64_t vocab = 50257, positions = 1024, embd = 768, layers = 12, heads = 12;
  int64_t inner = -1;  // n_inner; null = 4 * n_embd
  std::string activation = "gelu_new";
  double layer_norm_eps = 1e-5;
  bool scale_attn_weights = true;
  bool scale_by_inverse_layer_idx = false;
  bool reorder_and_upcast_attn = false;
  bool tie_word_embeddings = true;
  std::optional<int64_t> pad_token_id;
  int64_t num_labels = -1;  // from id2label / num_labels; -1 = as the head weight says
};

int64_t positive(const JsonView& c, const std::string& key, int64_t fallback) {
  const int64_t v = c.integer(key, fallback);
  if (v <= 0) c.reject(key, "must be a positive integer");
  return v;
}

Gpt2Config read_config(const JsonView& c) {
  Gpt2Config cfg;
  cfg.vocab = positive(c, "vocab_size", cfg.vocab);
  cfg.positions = positive(c, "n_positions", cfg.positions);
  cfg.embd = positive(c, "n_embd", cfg.embd);
  cfg.layers = positive(c, "n_layer", cfg.layers);
  cfg.heads = positive(c, "n_head", cfg.heads);
  // GPT2Attention raises the same.
  if (cfg.embd % cfg.heads != 0) c.reject("n_embd", "not a multiple of n_head " + std::to_string(cfg.heads));
  cfg.inner = c.has("n_inner") ? positive(c, "n_inner", 0) : 4 * cfg.embd;
  cfg.activation = c.string("activation_function", cfg.activation);
  if (!builder::is_activation_name(cfg.activation))
    c.reject("activation_function", "not an activation transformers 4.36 knows (see ACT2FN)");
  cfg.layer_norm_eps = c.number("layer_norm_epsilon", cfg.layer_norm_eps);
  if (!(cfg.layer_norm_eps >= 0)) c.reject("layer_norm_epsilon", "must be a non-negative number");
  cfg.scale_attn_weights = c.boolean("scale_attn_weights", true);
  cfg.scale_by_inverse_layer_idx = c.boolean("scale_attn_by_inverse_layer_idx", false);
  cfg.reorder_and_upcast_attn = c.boolean("reorder_and_upcast_attn", false);
  cfg.tie_word_embeddings = c.boolean("tie_word_embeddings", true);
  if (c.boolean("add_cross_attention", false))
    c.reject("add_cross_attention", "cross-attention is not supported by the graph builder");
  if (c.has("pruned_heads") && c.text("pruned_heads") != "{}")
    c.reject("pruned_heads", "checkpoints with pruned attention heads are not supported by the graph builder");
  if (c.has("pad_token_id")) cfg.pad_token_id = c.integer("pad_token_id");
  const auto labels = c.string_map("id2label");
  if (!labels.empty()) cfg.num_labels = static_cast<int64_t>(labels.size());
  if (c.has("num_labels")) cfg.num_labels = positive(c, "num_labels", 2);
  // No effect on inference outputs: resid_pdrop, embd_pdrop, attn_pdrop,
  // classifier_dropout (dropout is off), summary_* (GPT2DoubleHeadsModel
  // only), use_cache (past key values are not exported), bos_token_id /
  // eos_token_id (generation), initializer_range, gradient_checkpointing,
  // torchscript, return_dict, output_attentions / output_hidden_states,
  // problem_type (the loss).
  return cfg;
}

class Gpt2Graph {
 public:
  Gpt2Graph(const BuildRequest& req, IrBuilder& b)
      : req_(req), b_(b), cfg_(read_config(req.model.config)),
        base_(builder::base_model_weights(req.weights, "transformer", "wte.weight")), top_(req.weights) {}

  ir::Graph build() {
    const std::string& cls = req_.task.hf_class;
    std::map<std::string, Value*> in;
    for (const auto& [name, type] : req_.inputs) {
      if (name != "input_ids" && name != "attention_mask")
        throw std::invalid_argument("GPT-2 graph builder: unknown input '" + name + "'");
      in[name] = b_.input(name, type);
    }
    if (!in.count("input_ids")) throw std::invalid_argument("GPT-2 graph builder: the export has no input_ids input");
    Value* ids = in["input_ids"];
    if (ids->type.rank() != 2) throw std::invalid_argument("GPT-2 graph builder: input_ids must be [batch, sequence]");
    require_heads(cls);

    Value* hidden = transformer(ids, in.count("attention_mask") ? in["attention_mask"] : nullptr);
    std::vector<Value*> outputs;
    if (cls == "GPT2Model") {
      outputs = {hidden};
    } else if (cls == "GPT2LMHeadModel") {
      // lm_head has no bias and is tied to wte unless tie_word_embeddings is false.
      ir::Tensor w = builder::tied_weight(top_, "lm_head.weight", base_, "wte.weight", cfg_.tie_word_embeddings,
                                          {cfg_.vocab, cfg_.embd});
      outputs = {b_.linear(hidden, w, std::nullopt, top_.full_name("lm_head"))};
    } else if (cls == "GPT2ForSequenceClassification") {
      outputs = {last_token(ids, b_.linear(hidden, top_, "score", cfg_.num_labels, false))};
    } else if (cls == "GPT2ForTokenClassification") {
      outputs = {b_.linear(hidden, top_, "classifier", cfg_.num_labels)};
    } else {
      throw std::invalid_argument("GPT-2 graph builder: no graph for class " + cls);
    }
    b_.task_outputs(outputs, req_.task, "GPT-2 graph builder");
    return std::move(b_.graph());
  }

 private:
  void require_heads(const std::string& cls) {
    std::vector<std::string> need;
    if (cls == "GPT2LMHeadModel" && !cfg_.tie_word_embeddings) need.push_back("lm_head.weight");
    if (cls == "GPT2ForSequenceClassification") need.push_back("score.weight");
    if (cls == "GPT2ForTokenClassification") need = {"classifier.weight", "classifier.bias"};
    builder::require_head_weights(req_.weights, base_, cls, need);
  }

  // Conv1D: x @ W + b with W stored [in, out] (the transpose of nn.Linear);
  // kept as matmul + add so the weight stays borrowed from the checkpoint.
  Value* conv1d(Value* x, const Weights& w, const std::string& module, int64_t out) {
    const int64_t in = x->type.shape.back();
    Value* y = b_.matmul(x, b_.weight(w, module + ".weight", {in, out}));
    return b_.add(y, b_.weight(w, module + ".bias", {out}));
  }

  Value* transformer(Value* ids, Value* mask) {
    const int64_t seq = ids->type.shape[1];
    if (seq > cfg_.positions)
      throw std::invalid_argument("GPT-2 graph builder: sequence length " + std::to_string(seq) +
                                  " exceeds n_positions " + std::to_string(cfg_.positions));
    Value* x = b_.embedding(ids, base_.tensor("wte.weight", {cfg_.vocab, cfg_.embd}), base_.full_name("wte.weight"));
    std::vector<int64_t> positions(static_cast<size_t>(seq));
    for (int64_t i = 0; i < seq; ++i) positions[static_cast<size_t>(i)] = i;
    Value* pos = b_.constant(ir::Tensor::from_i64({1, seq}, positions));
    x = b_.add(x, b_.embedding(pos, base_.tensor("wpe.weight", {cfg_.positions, cfg_.embd}),
                               base_.full_name("wpe.weight")));
    // GPT2Model: (1 - mask) * finfo.min, added after the causal select.
    Value* additive = mask ? b_.additive_mask(mask) : nullptr;
    // The causal `bias` buffer (lower triangle of n_positions x n_positions),
    // sliced to the sequence as GPT2Attention does.
    ir::Tensor tril = ir::Tensor::zeros(ir::DType::Bool, {1, 1, seq, seq});
    auto* t = tril.mutable_as<uint8_t>();
    for (int64_t i = 0; i < seq; ++i)
      for (int64_t j = 0; j <= i; ++j) t[i * seq + j] = 1;
    Value* causal = b_.constant(std::move(tril));
    for (int64_t l = 0; l < cfg_.layers; ++l) x = block(x, causal, additive, l, base_.scope("h." + std::to_string(l)));
    return b_.layer_norm(x, base_, "ln_f", cfg_.layer_norm_eps);
  }

  Value* block(Value* x, Value* causal, Value* mask, int64_t index, const Weights& w) {
    Value* h = b_.layer_norm(x, w, "ln_1", cfg_.layer_norm_eps);
    x = b_.add(attention(h, causal, mask, index, w.scope("attn")), x);
    h = b_.layer_norm(x, w, "ln_2", cfg_.layer_norm_eps);
    h = b_.activation(conv1d(h, w, "mlp.c_fc", cfg_.inner), cfg_.activation);
    return b_.add(conv1d(h, w, "mlp.c_proj", cfg_.embd), x);
  }

  Value* attention(Value* x, Value* causal, Value* mask, int64_t index, const Weights& w) {
    const int64_t head_dim = cfg_.embd / cfg_.heads;
    Value* qkv = conv1d(x, w, "c_attn", 3 * cfg_.embd);
    Value* q = b_.split_heads(b_.slice(qkv, -1, 0, cfg_.embd), cfg_.heads);
    Value* k = b_.split_heads(b_.slice(qkv, -1, cfg_.embd, 2 * cfg_.embd), cfg_.heads);
    Value* v = b_.split_heads(b_.slice(qkv, -1, 2 * cfg_.embd, 3 * cfg_.embd), cfg_.heads);
    Value* scores = b_.matmul(q, b_.transpose(k, {0, 1, 3, 2}));
    const double root = std::sqrt(static_cast<double>(head_dim));
    const double layer = static_cast<double>(index + 1);
    if (cfg_.reorder_and_upcast_attn) {
      // _upcast_and_reordered_attn: one float32 factor in baddbmm's alpha.
      double scale = 1.0;
      if (cfg_.scale_attn_weights) scale /= root;
      if (cfg_.scale_by_inverse_layer_idx) scale /= layer;
      if (scale != 1.0) scores = b_.mul(scores, b_.scalar(static_cast<float>(scale)));
    } else {
      if (cfg_.scale_attn_weights) scores = b_.div(scores, b_.scalar(static_cast<float>(root)));
      if (cfg_.scale_by_inverse_layer_idx) scores = b_.div(scores, b_.scalar(static_cast<float>(layer)));
    }
    scores = b_.op("where", {causal, scores, b_.scalar(builder::kMaskValue)});
    if (mask) scores = b_.add(scores, mask);
    Value* context = b_.merge_heads(b_.matmul(b_.softmax(scores, -1), v));
    return conv1d(context, w, "c_proj", cfg_.embd);
  }

  // GPT2ForSequenceClassification pools the logits of the token before the
  // first pad token ((argmax(ids == pad) - 1) mod seq: the last token when
  // there is none); without pad_token_id, the last token, batch 1 only.
  Value* last_token(Value* ids, Value* logits) {
    const int64_t batch = logits->type.shape[0], seq = logits->type.shape[1], labels = logits->type.shape[2];
    if (!cfg_.pad_token_id) {
      if (batch != 1)
        throw std::invalid_argument("GPT2ForSequenceClassification: config.json has no pad_token_id, so batch size " +
                                    std::to_string(batch) + " is not supported (transformers takes batch 1 only)");
      return b_.select(logits, 1, seq - 1);
    }
    Value* pad = b_.constant(ir::Tensor::scalar_i64(*cfg_.pad_token_id).cast(ids->type.dtype));
    Value* is_pad = b_.cast(b_.op("equal", {ids, pad}), ir::DType::F32);
    Value* first = b_.op("argmax", {is_pad}, {{"axis", int64_t{1}}, {"keepdims", int64_t{1}}});  // [B, 1] i64
    Value* last = b_.op("mod", {b_.sub(first, b_.constant(ir::Tensor::scalar_i64(1))),
                                b_.constant(ir::Tensor::scalar_i64(seq))});
    std::vector<int64_t> positions(static_cast<size_t>(seq));
    for (int64_t i = 0; i < seq; ++i) positions[static_cast<size_t>(i)] = i;
    Value* hot = b_.cast(b_.op("equal", {last, b_.constant(ir::Tensor::from_i64({1, seq}, positions))}),
                         ir::DType::F32);  // [B, S], one 1 per row
    Value* picked = b_.matmul(b_.reshape(hot, {batch, 1, seq}), logits);  // [B, 1, L]
    return b_.reshape(picked, {batch, labels});
  }

  const BuildRequest& req_;
  IrBuilder& b_;
  Gpt2Config cfg_;
  Weights base_;
  Weights top_;
};

}  // namespace

ir::Graph build_gpt2(const BuildRequest& req) {
  ir::Graph graph;
  IrBuilder b(graph);
  return Gpt2Graph(req, b).build();
}

void add_gpt2_builders(PluginRegistrar* r) {
  for (const char* cls :
       {"GPT2Model", "GPT2LMHeadModel", "GPT2ForSequenceClassification", "GPT2ForTokenClassification"})
    r->add_graph_builder(cls, build_gpt2);
}

}  // namespace exporters::plugins::gpt2
