// BertModel and its heads, as modeling_bert.py (transformers 4.36) computes
// them in eval mode (dropout is the identity). Every config.json key that
// code reads either changes the graph here or is rejected by name;
// read_config lists them.
#include "bert_builder.hpp"

#include <exporters/builder/ir_builder.hpp>

#include <cmath>
#include <map>
#include <stdexcept>
#include <string>

namespace exporters::plugins::bert {

namespace {

using builder::IrBuilder;
using builder::Value;
using builder::Weights;

struct BertConfig {
  int64_t vocab = 30522, hidden = 768, layers = 12, heads = 12, intermediate = 3072;
  int64_t max_positions = 512, type_vocab = 2;
  std::string hidden_act = "gelu";
  double layer_norm_eps = 1e-12;
  std::string position_embedding_type = "absolute";
  bool tie_word_embeddings = true;
  int64_t num_labels = -1;  // from id2label / num_labels; -1 = as the classifier weight says
};

int64_t positive(const JsonView& c, const std::string& key, int64_t fallback) {
  const int64_t v = c.integer(key, fallback);
  if (v <= 0) c.reject(key, "must be a positive integer");
  return v;
}

BertConfig read_config(const JsonView& c) {
  BertConfig cfg;
  cfg.vocab = positive(c, "vocab_size", cfg.vocab);
  cfg.hidden = positive(c, "hidden_size", cfg.hidden);
  cfg.layers = positive(c, "num_hidden_layers", cfg.layers);
  cfg.heads = positive(c, "num_attention_heads", cfg.heads);
  cfg.intermediate = positive(c, "intermediate_size", cfg.intermediate);
  cfg.max_positions = positive(c, "max_position_embeddings", cfg.max_positions);
  cfg.type_vocab = positive(c, "type_vocab_size", cfg.type_vocab);
  // BertSelfAttention raises the same (its embedding_size escape still
  // leaves a head size that does not tile hidden_size).
  if (cfg.hidden % cfg.heads != 0)
    c.reject("hidden_size", "not a multiple of num_attention_heads " + std::to_string(cfg.heads));
  cfg.hidden_act = c.string("hidden_act", cfg.hidden_act);
  if (!builder::is_activation_name(cfg.hidden_act))
    c.reject("hidden_act", "not an activation transformers 4.36 knows (see ACT2FN)");
  cfg.layer_norm_eps = c.number("layer_norm_eps", cfg.layer_norm_eps);
  if (!(cfg.layer_norm_eps >= 0)) c.reject("layer_norm_eps", "must be a non-negative number");
  cfg.position_embedding_type = c.string("position_embedding_type", cfg.position_embedding_type);
  if (cfg.position_embedding_type != "absolute" && cfg.position_embedding_type != "relative_key" &&
      cfg.position_embedding_type != "relative_key_query")
    c.reject("position_embedding_type", "BERT supports absolute, relative_key and relative_key_query");
  cfg.tie_word_embeddings = c.boolean("tie_word_embeddings", true);
  // Decoder variants change the attention (causal mask, cross-attention).
  if (c.boolean("is_decoder", false)) c.reject("is_decoder", "BERT as a decoder is not supported by the graph builder");
  if (c.boolean("add_cross_attention", false))
    c.reject("add_cross_attention", "cross-attention is not supported by the graph builder");
  if (c.has("pruned_heads") && c.text("pruned_heads") != "{}")
    c.reject("pruned_heads", "checkpoints with pruned attention heads are not supported by the graph builder");
  const auto labels = c.string_map("id2label");
  if (!labels.empty()) cfg.num_labels = static_cast<int64_t>(labels.size());
  if (c.has("num_labels")) cfg.num_labels = positive(c, "num_labels", 2);
  // No effect on inference outputs: hidden_dropout_prob,
  // attention_probs_dropout_prob, classifier_dropout (dropout is off),
  // chunk_size_feed_forward (chunking computes the same values),
  // pad_token_id (only nn.Embedding's gradient), use_cache (decoder only),
  // initializer_range, gradient_checkpointing, torchscript, return_dict,
  // output_attentions / output_hidden_states (extra outputs the task does
  // not export), problem_type (the loss).
  return cfg;
}

class BertGraph {
 public:
  BertGraph(const BuildRequest& req, IrBuilder& b)
      : req_(req), b_(b), cfg_(read_config(req.model.config)),
        base_(builder::base_model_weights(req.weights, "bert", "embeddings.word_embeddings.weight")),
        top_(req.weights) {}

  ir::Graph build() {
    const std::string& cls = req_.task.hf_class;
    std::map<std::string, Value*> in;
    for (const auto& [name, type] : req_.inputs) {
      if (name != "input_ids" && name != "attention_mask" && name != "token_type_ids")
        throw std::invalid_argument("BERT graph builder: unknown input '" + name + "'");
      in[name] = b_.input(name, type);
    }
    if (!in.count("input_ids")) throw std::invalid_argument("BERT graph builder: the export has no input_ids input");
    require_heads(cls);

    // BertForMultipleChoice folds the choices into the batch.
    const ir::Shape shape = in["input_ids"]->type.shape;
    const bool choices = cls == "BertForMultipleChoice";
    if (choices) {
      if (shape.size() != 3) throw std::invalid_argument("BertForMultipleChoice: input_ids must be [batch, choices, sequence]");
      for (auto& [name, v] : in) v = b_.reshape(v, {shape[0] * shape[1], shape[2]});
    } else if (shape.size() != 2) {
      throw std::invalid_argument("BERT graph builder: input_ids must be [batch, sequence]");
    }
    Value* ids = in["input_ids"];
    Value* mask = in.count("attention_mask") ? in["attention_mask"] : nullptr;
    Value* types = in.count("token_type_ids") ? in["token_type_ids"] : nullptr;

    const bool pooler = cls == "BertModel" || cls == "BertForSequenceClassification" || cls == "BertForMultipleChoice" ||
                        cls == "BertForNextSentencePrediction" || cls == "BertForPreTraining";
    Value* hidden = encoder(embeddings(ids, types), mask);
    Value* pooled = pooler ? pool(hidden) : nullptr;

    std::vector<Value*> outputs;
    if (cls == "BertModel") {
      outputs = {hidden, pooled};
    } else if (cls == "BertForMaskedLM") {
      outputs = {lm_head(hidden)};
    } else if (cls == "BertForSequenceClassification") {
      outputs = {b_.linear(pooled, top_, "classifier", cfg_.num_labels)};
    } else if (cls == "BertForTokenClassification") {
      outputs = {b_.linear(hidden, top_, "classifier", cfg_.num_labels)};
    } else if (cls == "BertForQuestionAnswering") {
      Value* logits = b_.linear(hidden, top_, "qa_outputs", 2);  // [B, S, 2]
      outputs = {b_.select(logits, -1, 0), b_.select(logits, -1, 1)};
    } else if (cls == "BertForMultipleChoice") {
      Value* scores = b_.linear(pooled, top_, "classifier", 1);  // [B*C, 1]
      outputs = {b_.reshape(scores, {shape[0], shape[1]})};
    } else if (cls == "BertForNextSentencePrediction") {
      outputs = {b_.linear(pooled, top_, "cls.seq_relationship", 2)};
    } else if (cls == "BertForPreTraining") {
      outputs = {lm_head(hidden), b_.linear(pooled, top_, "cls.seq_relationship", 2)};
    } else {
      throw std::invalid_argument("BERT graph builder: no graph for class " + cls);
    }
    b_.task_outputs(outputs, req_.task, "BERT graph builder");
    return std::move(b_.graph());
  }

 private:
  // One error listing every head tensor the checkpoint lacks.
  void require_heads(const std::string& cls) {
    std::vector<std::string> need;
    auto add = [&](const std::string& module) {
      need.push_back(module + ".weight");
      need.push_back(module + ".bias");
    };
    if (cls == "BertForMaskedLM" || cls == "BertForPreTraining") {
      add("cls.predictions.transform.dense");
      if (!top_.has("cls.predictions.transform.LayerNorm.gamma")) add("cls.predictions.transform.LayerNorm");
      if (!top_.has("cls.predictions.decoder.bias")) need.push_back("cls.predictions.bias");
      if (!cfg_.tie_word_embeddings) need.push_back("cls.predictions.decoder.weight");
    }
    if (cls == "BertForSequenceClassification" || cls == "BertForTokenClassification" || cls == "BertForMultipleChoice")
      add("classifier");
    if (cls == "BertForQuestionAnswering") add("qa_outputs");
    if (cls == "BertForNextSentencePrediction" || cls == "BertForPreTraining") add("cls.seq_relationship");
    builder::require_head_weights(req_.weights, base_, cls, need);
  }

  Value* embeddings(Value* ids, Value* types) {
    const Weights e = base_.scope("embeddings");
    const int64_t seq = ids->type.shape[1];
    if (seq > cfg_.max_positions)
      throw std::invalid_argument("BERT graph builder: sequence length " + std::to_string(seq) +
                                  " exceeds max_position_embeddings " + std::to_string(cfg_.max_positions));
    Value* x = b_.embedding(ids, e.tensor("word_embeddings.weight", {cfg_.vocab, cfg_.hidden}),
                            e.full_name("word_embeddings.weight"));
    // Without token_type_ids BertEmbeddings uses its all-zero buffer.
    Value* type_ids = types ? types : b_.constant(ir::Tensor::zeros(ids->type.dtype, ids->type.shape));
    x = b_.add(x, b_.embedding(type_ids, e.tensor("token_type_embeddings.weight", {cfg_.type_vocab, cfg_.hidden}),
                               e.full_name("token_type_embeddings.weight")));
    if (cfg_.position_embedding_type == "absolute") {
      std::vector<int64_t> positions(static_cast<size_t>(seq));
      for (int64_t i = 0; i < seq; ++i) positions[static_cast<size_t>(i)] = i;
      Value* pos = b_.constant(ir::Tensor::from_i64({1, seq}, positions));
      x = b_.add(x, b_.embedding(pos, e.tensor("position_embeddings.weight", {cfg_.max_positions, cfg_.hidden}),
                                 e.full_name("position_embeddings.weight")));
    }
    return b_.layer_norm(x, e, "LayerNorm", cfg_.layer_norm_eps);
  }

  Value* encoder(Value* x, Value* mask) {
    Value* additive = mask ? b_.additive_mask(mask) : nullptr;
    for (int64_t l = 0; l < cfg_.layers; ++l) x = layer(x, additive, base_.scope("encoder.layer." + std::to_string(l)));
    return x;
  }

  // l - r + max_positions - 1 for every query l and key r, as an index into
  // the distance embedding (BertSelfAttention's relative positions).
  Value* distance_embeddings(const Weights& self, int64_t seq, int64_t head_dim) {
    std::vector<int64_t> idx(static_cast<size_t>(seq * seq));
    for (int64_t l = 0; l < seq; ++l)
      for (int64_t r = 0; r < seq; ++r) idx[static_cast<size_t>(l * seq + r)] = l - r + cfg_.max_positions - 1;
    Value* table = b_.weight(self, "distance_embedding.weight", {2 * cfg_.max_positions - 1, head_dim});
    return b_.gather(table, b_.constant(ir::Tensor::from_i64({seq, seq}, idx)), 0);  // [L, R, D]
  }

  Value* layer(Value* x, Value* mask, const Weights& w) {
    const int64_t batch = x->type.shape[0], seq = x->type.shape[1];
    const int64_t head_dim = cfg_.hidden / cfg_.heads;
    const Weights self = w.scope("attention.self");
    Value* q = b_.split_heads(b_.linear(x, self, "query", cfg_.hidden), cfg_.heads);  // [B, H, S, D]
    Value* k = b_.split_heads(b_.linear(x, self, "key", cfg_.hidden), cfg_.heads);
    Value* v = b_.split_heads(b_.linear(x, self, "value", cfg_.hidden), cfg_.heads);
    Value* bias = nullptr;
    if (cfg_.position_embedding_type != "absolute") {
      Value* pe = distance_embeddings(self, seq, head_dim);  // [L, R, D]
      const int64_t bh = batch * cfg_.heads;
      // einsum("bhld,lrd->bhlr", q, pe) as a batched matmul over l.
      Value* ql = b_.reshape(b_.transpose(q, {2, 0, 1, 3}), {seq, bh, head_dim});
      Value* by_query = b_.matmul(ql, b_.transpose(pe, {0, 2, 1}));  // [L, BH, R]
      bias = b_.transpose(b_.reshape(by_query, {seq, batch, cfg_.heads, seq}), {1, 2, 0, 3});
      if (cfg_.position_embedding_type == "relative_key_query") {
        // einsum("bhrd,lrd->bhlr", k, pe) as a batched matmul over r.
        Value* kr = b_.reshape(b_.transpose(k, {2, 0, 1, 3}), {seq, bh, head_dim});
        Value* by_key = b_.matmul(kr, b_.transpose(pe, {1, 2, 0}));  // [R, BH, L]
        bias = b_.add(bias, b_.transpose(b_.reshape(by_key, {seq, batch, cfg_.heads, seq}), {1, 2, 3, 0}));
      }
    }
    Value* context = b_.attention(q, k, v, {std::sqrt(static_cast<double>(head_dim)), bias, mask});
    Value* attn = b_.linear(b_.merge_heads(context), w, "attention.output.dense", cfg_.hidden);
    attn = b_.layer_norm(b_.add(attn, x), w, "attention.output.LayerNorm", cfg_.layer_norm_eps);
    Value* h = b_.activation(b_.linear(attn, w, "intermediate.dense", cfg_.intermediate), cfg_.hidden_act);
    h = b_.linear(h, w, "output.dense", cfg_.hidden);
    return b_.layer_norm(b_.add(h, attn), w, "output.LayerNorm", cfg_.layer_norm_eps);
  }

  // BertPooler: tanh(dense(first token)).
  Value* pool(Value* hidden) {
    return b_.op("tanh", {b_.linear(b_.select(hidden, 1, 0), base_, "pooler.dense", cfg_.hidden)});
  }

  // BertLMPredictionHead: transform (dense, hidden_act, LayerNorm), then the
  // decoder tied to the word embeddings, with its own bias.
  Value* lm_head(Value* hidden) {
    const Weights p = top_.scope("cls.predictions");
    Value* h = b_.activation(b_.linear(hidden, p, "transform.dense", cfg_.hidden), cfg_.hidden_act);
    h = b_.layer_norm(h, p, "transform.LayerNorm", cfg_.layer_norm_eps);
    ir::Tensor decoder = builder::tied_weight(p, "decoder.weight", base_.scope("embeddings"), "word_embeddings.weight",
                                              cfg_.tie_word_embeddings, {cfg_.vocab, cfg_.hidden});
    // decoder.bias and cls.predictions.bias are one parameter in transformers.
    ir::Tensor bias = p.has("bias") ? p.tensor("bias", {cfg_.vocab}) : p.tensor("decoder.bias", {cfg_.vocab});
    return b_.linear(h, decoder, bias, p.full_name("decoder"));
  }

  const BuildRequest& req_;
  IrBuilder& b_;
  BertConfig cfg_;
  Weights base_;
  Weights top_;
};

}  // namespace

ir::Graph build_bert(const BuildRequest& req) {
  ir::Graph graph;
  IrBuilder b(graph);
  return BertGraph(req, b).build();
}

void add_bert_builders(PluginRegistrar* r) {
  for (const char* cls : {"BertModel", "BertForMaskedLM", "BertForSequenceClassification", "BertForTokenClassification",
                          "BertForQuestionAnswering", "BertForMultipleChoice", "BertForNextSentencePrediction",
                          "BertForPreTraining"})
    r->add_graph_builder(cls, build_bert);
}

}  // namespace exporters::plugins::bert
