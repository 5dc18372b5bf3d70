// DistilBertModel and its heads, as modeling_distilbert.py (transformers
// 4.36) computes them in eval mode (dropout is the identity). Every
// config.json key that code reads either changes the graph here or is
// rejected by name; read_config lists them.
#include "distilbert_builder.hpp"

#include <exporters/builder/ir_builder.hpp>

#include <cmath>
#include <map>
#include <stdexcept>
#include <string>

namespace exporters::plugins::distilbert {

namespace {

using builder::IrBuilder;
using builder::Value;
using builder::Weights;

// DistilBERT's LayerNorms are built with eps=1e-12 whatever the config says.
constexpr double kEps = 1e-12;

struct DistilBertConfig {
  int64_t vocab = 30522, max_positions = 512, layers = 6, heads = 12, dim = 768, hidden_dim = 3072;
  bool sinusoidal = false;
  std::string activation = "gelu";
  bool tie_word_embeddings = true;
  int64_t num_labels = -1;  // from id2label / num_labels; -1 = as the head weight says
};

int64_t positive(const JsonView& c, const std::string& key, int64_t fallback) {
  const int64_t v = c.integer(key, fallback);
  if (v <= 0) c.reject(key, "must be a positive integer");
  return v;
}

DistilBertConfig read_config(const JsonView& c, const std::string& cls) {
  DistilBertConfig cfg;
  cfg.vocab = positive(c, "vocab_size", cfg.vocab);
  cfg.max_positions = positive(c, "max_position_embeddings", cfg.max_positions);
  cfg.layers = positive(c, "n_layers", cfg.layers);
  cfg.heads = positive(c, "n_heads", cfg.heads);
  cfg.dim = positive(c, "dim", cfg.dim);
  cfg.hidden_dim = positive(c, "hidden_dim", cfg.hidden_dim);
  // MultiHeadSelfAttention raises the same.
  if (cfg.dim % cfg.heads != 0) c.reject("dim", "not a multiple of n_heads " + std::to_string(cfg.heads));
  cfg.sinusoidal = c.boolean("sinusoidal_pos_embds", false);
  cfg.activation = c.string("activation", cfg.activation);
  if (!builder::is_activation_name(cfg.activation))
    c.reject("activation", "not an activation transformers 4.36 knows (see ACT2FN)");
  cfg.tie_word_embeddings = c.boolean("tie_word_embeddings", true);
  if (c.has("pruned_heads") && c.text("pruned_heads") != "{}")
    c.reject("pruned_heads", "checkpoints with pruned attention heads are not supported by the graph builder");
  const auto labels = c.string_map("id2label");
  if (!labels.empty()) cfg.num_labels = static_cast<int64_t>(labels.size());
  if (c.has("num_labels")) cfg.num_labels = positive(c, "num_labels", 2);
  // DistilBertForQuestionAnswering raises the same.
  if (cls == "DistilBertForQuestionAnswering" && cfg.num_labels != -1 && cfg.num_labels != 2)
    c.reject(c.has("num_labels") ? "num_labels" : "id2label",
             "DistilBertForQuestionAnswering needs 2 labels (start and end)");
  // No effect on inference outputs: dropout, attention_dropout,
  // qa_dropout, seq_classif_dropout (dropout is off), pad_token_id (only
  // nn.Embedding's gradient), initializer_range, gradient_checkpointing,
  // torchscript, return_dict, output_attentions / output_hidden_states,
  // problem_type (the loss). layer_norm_eps is not read: every LayerNorm
  // uses 1e-12.
  return cfg;
}

class DistilBertGraph {
 public:
  DistilBertGraph(const BuildRequest& req, IrBuilder& b)
      : req_(req), b_(b), cfg_(read_config(req.model.config, req.task.hf_class)),
        base_(builder::base_model_weights(req.weights, "distilbert", "embeddings.word_embeddings.weight")),
        top_(req.weights) {}

  ir::Graph build() {
    const std::string& cls = req_.task.hf_class;
    std::map<std::string, Value*> in;
    for (const auto& [name, type] : req_.inputs) {
      if (name != "input_ids" && name != "attention_mask")
        throw std::invalid_argument("DistilBERT graph builder: unknown input '" + name + "'");
      in[name] = b_.input(name, type);
    }
    if (!in.count("input_ids"))
      throw std::invalid_argument("DistilBERT graph builder: the export has no input_ids input");
    require_heads(cls);

    // DistilBertForMultipleChoice folds the choices into the batch.
    const ir::Shape shape = in["input_ids"]->type.shape;
    const bool choices = cls == "DistilBertForMultipleChoice";
    if (choices) {
      if (shape.size() != 3)
        throw std::invalid_argument("DistilBertForMultipleChoice: input_ids must be [batch, choices, sequence]");
      for (auto& [name, v] : in) v = b_.reshape(v, {shape[0] * shape[1], shape[2]});
    } else if (shape.size() != 2) {
      throw std::invalid_argument("DistilBERT graph builder: input_ids must be [batch, sequence]");
    }
    Value* ids = in["input_ids"];
    Value* hidden = transformer(embeddings(ids), in.count("attention_mask") ? in["attention_mask"] : nullptr);

    std::vector<Value*> outputs;
    if (cls == "DistilBertModel") {
      outputs = {hidden};
    } else if (cls == "DistilBertForMaskedLM") {
      outputs = {lm_head(hidden)};
    } else if (cls == "DistilBertForSequenceClassification") {
      outputs = {b_.linear(pre_classify(hidden), top_, "classifier", cfg_.num_labels)};
    } else if (cls == "DistilBertForTokenClassification") {
      outputs = {b_.linear(hidden, top_, "classifier", cfg_.num_labels)};
    } else if (cls == "DistilBertForQuestionAnswering") {
      Value* logits = b_.linear(hidden, top_, "qa_outputs", 2);  // [B, S, 2]
      outputs = {b_.select(logits, -1, 0), b_.select(logits, -1, 1)};
    } else if (cls == "DistilBertForMultipleChoice") {
      Value* scores = b_.linear(pre_classify(hidden), top_, "classifier", 1);  // [B*C, 1]
      outputs = {b_.reshape(scores, {shape[0], shape[1]})};
    } else {
      throw std::invalid_argument("DistilBERT graph builder: no graph for class " + cls);
    }
    b_.task_outputs(outputs, req_.task, "DistilBERT graph builder");
    return std::move(b_.graph());
  }

 private:
  void require_heads(const std::string& cls) {
    std::vector<std::string> need;
    auto add = [&](const std::string& module) {
      need.push_back(module + ".weight");
      need.push_back(module + ".bias");
    };
    if (cls == "DistilBertForMaskedLM") {
      add("vocab_transform");
      add("vocab_layer_norm");
      need.push_back("vocab_projector.bias");
      if (!cfg_.tie_word_embeddings) need.push_back("vocab_projector.weight");
    }
    if (cls == "DistilBertForSequenceClassification" || cls == "DistilBertForMultipleChoice") {
      add("pre_classifier");
      add("classifier");
    }
    if (cls == "DistilBertForTokenClassification") add("classifier");
    if (cls == "DistilBertForQuestionAnswering") add("qa_outputs");
    builder::require_head_weights(req_.weights, base_, cls, need);
  }

  // create_sinusoidal_embeddings: sin on even, cos on odd columns of
  // pos / 10000^(2 (j // 2) / dim), computed in double as numpy does.
  ir::Tensor sinusoidal_table() const {
    ir::Tensor t = ir::Tensor::zeros(ir::DType::F32, {cfg_.max_positions, cfg_.dim});
    float* p = t.mutable_as<float>();
    for (int64_t pos = 0; pos < cfg_.max_positions; ++pos)
      for (int64_t j = 0; j < cfg_.dim; ++j) {
        const double angle = static_cast<double>(pos) /
                             std::pow(10000.0, 2.0 * static_cast<double>(j / 2) / static_cast<double>(cfg_.dim));
        p[pos * cfg_.dim + j] = static_cast<float>(j % 2 == 0 ? std::sin(angle) : std::cos(angle));
      }
    return t;
  }

  Value* embeddings(Value* ids) {
    const Weights e = base_.scope("embeddings");
    const int64_t seq = ids->type.shape[1];
    if (seq > cfg_.max_positions)
      throw std::invalid_argument("DistilBERT graph builder: sequence length " + std::to_string(seq) +
                                  " exceeds max_position_embeddings " + std::to_string(cfg_.max_positions));
    Value* x = b_.embedding(ids, e.tensor("word_embeddings.weight", {cfg_.vocab, cfg_.dim}),
                            e.full_name("word_embeddings.weight"));
    // The sinusoidal table is a (frozen) parameter, saved with the model;
    // transformers loads the file's copy, so the table is made here only
    // when the checkpoint leaves it out.
    ir::Tensor table = cfg_.sinusoidal && !e.has("position_embeddings.weight")
                           ? sinusoidal_table()
                           : e.tensor("position_embeddings.weight", {cfg_.max_positions, cfg_.dim});
    std::vector<int64_t> positions(static_cast<size_t>(seq));
    for (int64_t i = 0; i < seq; ++i) positions[static_cast<size_t>(i)] = i;
    Value* pos = b_.constant(ir::Tensor::from_i64({1, seq}, positions));
    x = b_.add(x, b_.embedding(pos, table, e.full_name("position_embeddings.weight")));
    return b_.layer_norm(x, e, "LayerNorm", kEps);
  }

  Value* transformer(Value* x, Value* mask) {
    // MultiHeadSelfAttention: scores.masked_fill(mask == 0, finfo.min); a
    // missing mask is all ones (no fill).
    Value* masked = nullptr;
    if (mask) {
      const auto& s = mask->type.shape;
      Value* zero = b_.constant(ir::Tensor::zeros(mask->type.dtype, {}));
      masked = b_.reshape(b_.op("equal", {mask, zero}), {s[0], 1, 1, s[1]});
    }
    for (int64_t l = 0; l < cfg_.layers; ++l)
      x = block(x, masked, base_.scope("transformer.layer." + std::to_string(l)));
    return x;
  }

  Value* block(Value* x, Value* masked, const Weights& w) {
    const Weights a = w.scope("attention");
    const int64_t head_dim = cfg_.dim / cfg_.heads;
    // q is scaled before q @ k^T, as DistilBERT does.
    Value* q = b_.split_heads(b_.linear(x, a, "q_lin", cfg_.dim), cfg_.heads);
    q = b_.div(q, b_.scalar(static_cast<float>(std::sqrt(static_cast<double>(head_dim)))));
    Value* k = b_.split_heads(b_.linear(x, a, "k_lin", cfg_.dim), cfg_.heads);
    Value* v = b_.split_heads(b_.linear(x, a, "v_lin", cfg_.dim), cfg_.heads);
    Value* scores = b_.matmul(q, b_.transpose(k, {0, 1, 3, 2}));
    if (masked) scores = b_.op("where", {masked, b_.scalar(builder::kMaskValue), scores});
    Value* context = b_.merge_heads(b_.matmul(b_.softmax(scores, -1), v));
    Value* sa = b_.layer_norm(b_.add(b_.linear(context, a, "out_lin", cfg_.dim), x), w, "sa_layer_norm", kEps);
    Value* h = b_.activation(b_.linear(sa, w, "ffn.lin1", cfg_.hidden_dim), cfg_.activation);
    h = b_.linear(h, w, "ffn.lin2", cfg_.dim);
    return b_.layer_norm(b_.add(h, sa), w, "output_layer_norm", kEps);
  }

  // Sequence classification and multiple choice: ReLU(pre_classifier(first token)).
  Value* pre_classify(Value* hidden) {
    return b_.op("relu", {b_.linear(b_.select(hidden, 1, 0), top_, "pre_classifier", cfg_.dim)});
  }

  // vocab_transform, the config's activation, vocab_layer_norm, then
  // vocab_projector tied to the word embeddings, with its own bias.
  Value* lm_head(Value* hidden) {
    Value* h = b_.activation(b_.linear(hidden, top_, "vocab_transform", cfg_.dim), cfg_.activation);
    h = b_.layer_norm(h, top_, "vocab_layer_norm", kEps);
    ir::Tensor w = builder::tied_weight(top_, "vocab_projector.weight", base_.scope("embeddings"),
                                        "word_embeddings.weight", cfg_.tie_word_embeddings, {cfg_.vocab, cfg_.dim});
    return b_.linear(h, w, top_.tensor("vocab_projector.bias", {cfg_.vocab}), top_.full_name("vocab_projector"));
  }

  const BuildRequest& req_;
  IrBuilder& b_;
  DistilBertConfig cfg_;
  Weights base_;
  Weights top_;
};

}  // namespace

ir::Graph build_distilbert(const BuildRequest& req) {
  ir::Graph graph;
  IrBuilder b(graph);
  return DistilBertGraph(req, b).build();
}

void add_distilbert_builders(PluginRegistrar* r) {
  for (const char* cls : {"DistilBertModel", "DistilBertForMaskedLM", "DistilBertForSequenceClassification",
                          "DistilBertForTokenClassification", "DistilBertForQuestionAnswering",
                          "DistilBertForMultipleChoice"})
    r->add_graph_builder(cls, build_distilbert);
}

}  // namespace exporters::plugins::distilbert
