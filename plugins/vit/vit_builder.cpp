// ViTModel and ViTForImageClassification, as modeling_vit.py (transformers
// 4.36) computes them in eval mode (dropout is the identity, no position
// interpolation, no mask token). Every config.json key that code reads
// either changes the graph here or is rejected by name; read_config lists
// them.
#include "vit_builder.hpp"

#include <exporters/builder/ir_builder.hpp>

#include <array>
#include <cmath>
#include <stdexcept>
#include <string>

namespace exporters::plugins::vit {

namespace {

using builder::IrBuilder;
using builder::Value;
using builder::Weights;

struct ViTConfig {
  int64_t hidden = 768, layers = 12, heads = 12, intermediate = 3072, channels = 3;
  std::array<int64_t, 2> image{224, 224}, patch{16, 16};
  std::string hidden_act = "gelu";
  double layer_norm_eps = 1e-12;
  bool qkv_bias = true;
  int64_t num_labels = -1;  // from id2label / num_labels; -1 = as the classifier weight says
};

int64_t positive(const JsonView& c, const std::string& key, int64_t fallback) {
  const int64_t v = c.integer(key, fallback);
  if (v <= 0) c.reject(key, "must be a positive integer");
  return v;
}

// image_size / patch_size: one integer for a square, or [height, width]
// (ViTPatchEmbeddings takes either).
std::array<int64_t, 2> size_pair(const JsonView& c, const std::string& key, int64_t fallback) {
  if (!c.has(key)) return {fallback, fallback};
  if (c.text(key).front() != '[') {
    const int64_t v = positive(c, key, fallback);
    return {v, v};
  }
  const auto v = c.integers(key);
  if (v.size() != 2 || v[0] <= 0 || v[1] <= 0) c.reject(key, "must be a positive integer or [height, width]");
  return {v[0], v[1]};
}

ViTConfig read_config(const JsonView& c) {
  ViTConfig cfg;
  cfg.hidden = positive(c, "hidden_size", cfg.hidden);
  cfg.layers = positive(c, "num_hidden_layers", cfg.layers);
  cfg.heads = positive(c, "num_attention_heads", cfg.heads);
  cfg.intermediate = positive(c, "intermediate_size", cfg.intermediate);
  // ViTSelfAttention raises the same.
  if (cfg.hidden % cfg.heads != 0)
    c.reject("hidden_size", "not a multiple of num_attention_heads " + std::to_string(cfg.heads));
  cfg.channels = positive(c, "num_channels", cfg.channels);
  cfg.image = size_pair(c, "image_size", 224);
  cfg.patch = size_pair(c, "patch_size", 16);
  cfg.hidden_act = c.string("hidden_act", cfg.hidden_act);
  if (!builder::is_activation_name(cfg.hidden_act))
    c.reject("hidden_act", "not an activation transformers 4.36 knows (see ACT2FN)");
  cfg.layer_norm_eps = c.number("layer_norm_eps", cfg.layer_norm_eps);
  if (!(cfg.layer_norm_eps >= 0)) c.reject("layer_norm_eps", "must be a non-negative number");
  cfg.qkv_bias = c.boolean("qkv_bias", true);
  const auto labels = c.string_map("id2label");
  if (!labels.empty()) cfg.num_labels = static_cast<int64_t>(labels.size());
  if (c.has("num_labels")) cfg.num_labels = positive(c, "num_labels", 2);
  // No effect on these classes' outputs: hidden_dropout_prob,
  // attention_probs_dropout_prob (dropout is off), encoder_stride
  // (ViTForMaskedImageModeling's decoder, a class the plugin does not
  // serve), initializer_range, chunk_size_feed_forward (same values),
  // torchscript, return_dict, output_attentions / output_hidden_states,
  // problem_type (the loss).
  return cfg;
}

class ViTGraph {
 public:
  ViTGraph(const BuildRequest& req, IrBuilder& b)
      : req_(req), b_(b), cfg_(read_config(req.model.config)),
        base_(builder::base_model_weights(req.weights, "vit", "embeddings.cls_token")), top_(req.weights) {}

  ir::Graph build() {
    const std::string& cls = req_.task.hf_class;
    if (req_.inputs.size() != 1 || req_.inputs[0].first != "pixel_values")
      throw std::invalid_argument("ViT graph builder: the export must take pixel_values alone");
    Value* pixels = b_.input(req_.inputs[0].first, req_.inputs[0].second);
    check_pixels(pixels->type);
    if (cls == "ViTForImageClassification")
      builder::require_head_weights(req_.weights, base_, cls, {"classifier.weight", "classifier.bias"});

    Value* x = embeddings(pixels);
    for (int64_t l = 0; l < cfg_.layers; ++l) x = layer(x, base_.scope("encoder.layer." + std::to_string(l)));
    Value* hidden = b_.layer_norm(x, base_, "layernorm", cfg_.layer_norm_eps);

    std::vector<Value*> outputs;
    if (cls == "ViTModel") {
      // ViTPooler: tanh(dense(first token)).
      outputs = {hidden, b_.op("tanh", {b_.linear(b_.select(hidden, 1, 0), base_, "pooler.dense", cfg_.hidden)})};
    } else if (cls == "ViTForImageClassification") {
      // Built with add_pooling_layer=False: the classifier reads the CLS token.
      outputs = {b_.linear(b_.select(hidden, 1, 0), top_, "classifier", cfg_.num_labels)};
    } else {
      throw std::invalid_argument("ViT graph builder: no graph for class " + cls);
    }
    b_.task_outputs(outputs, req_.task, "ViT graph builder");
    return std::move(b_.graph());
  }

 private:
  // ViTPatchEmbeddings raises for another channel count or (without
  // interpolate_pos_encoding) another image size.
  void check_pixels(const ir::TensorType& t) const {
    const auto& s = t.shape;
    if (s.size() != 4) throw std::invalid_argument("ViT graph builder: pixel_values must be [batch, channels, h, w]");
    if (s[1] != cfg_.channels)
      req_.model.config.reject("num_channels", "the export's pixel_values has " + std::to_string(s[1]) + " channels");
    if (s[2] != cfg_.image[0] || s[3] != cfg_.image[1])
      throw std::invalid_argument("ViT graph builder: pixel_values is " + std::to_string(s[2]) + "x" +
                                  std::to_string(s[3]) + ", config.json's image_size is " +
                                  std::to_string(cfg_.image[0]) + "x" + std::to_string(cfg_.image[1]) +
                                  " (ViT does not interpolate position embeddings here)");
  }

  Value* embeddings(Value* pixels) {
    const Weights e = base_.scope("embeddings");
    const int64_t batch = pixels->type.shape[0];
    const int64_t rows = cfg_.image[0] / cfg_.patch[0], cols = cfg_.image[1] / cfg_.patch[1];
    const int64_t n = rows * cols;
    // Throws naming both shapes when the kernel is not the config's.
    (void)e.tensor("patch_embeddings.projection.weight", {cfg_.hidden, cfg_.channels, cfg_.patch[0], cfg_.patch[1]});
    Value* p = b_.conv2d(pixels, e, "patch_embeddings.projection", {cfg_.patch[0], cfg_.patch[1]});
    // [B, D, rows, cols] -> [B, rows*cols, D]
    p = b_.transpose(b_.reshape(p, {batch, cfg_.hidden, n}), {0, 2, 1});
    Value* cls = b_.weight(e, "cls_token", {1, 1, cfg_.hidden});
    if (batch != 1) cls = b_.op("expand", {cls}, {{"shape", ir::Shape{batch, 1, cfg_.hidden}}});
    Value* x = b_.concat({cls, p}, 1);
    return b_.add(x, b_.weight(e, "position_embeddings", {1, n + 1, cfg_.hidden}));
  }

  // Pre-LN: x + attention(layernorm_before(x)), then + MLP(layernorm_after(.)).
  Value* layer(Value* x, const Weights& w) {
    const Weights a = w.scope("attention.attention");
    const int64_t head_dim = cfg_.hidden / cfg_.heads;
    Value* h = b_.layer_norm(x, w, "layernorm_before", cfg_.layer_norm_eps);
    Value* q = b_.split_heads(b_.linear(h, a, "query", cfg_.hidden, cfg_.qkv_bias), cfg_.heads);
    Value* k = b_.split_heads(b_.linear(h, a, "key", cfg_.hidden, cfg_.qkv_bias), cfg_.heads);
    Value* v = b_.split_heads(b_.linear(h, a, "value", cfg_.hidden, cfg_.qkv_bias), cfg_.heads);
    Value* context = b_.attention(q, k, v, {std::sqrt(static_cast<double>(head_dim)), nullptr, nullptr});
    x = b_.add(b_.linear(b_.merge_heads(context), w, "attention.output.dense", cfg_.hidden), x);
    h = b_.layer_norm(x, w, "layernorm_after", cfg_.layer_norm_eps);
    h = b_.activation(b_.linear(h, w, "intermediate.dense", cfg_.intermediate), cfg_.hidden_act);
    return b_.add(b_.linear(h, w, "output.dense", cfg_.hidden), x);
  }

  const BuildRequest& req_;
  IrBuilder& b_;
  ViTConfig cfg_;
  Weights base_;
  Weights top_;
};

}  // namespace

ir::Graph build_vit(const BuildRequest& req) {
  ir::Graph graph;
  IrBuilder b(graph);
  return ViTGraph(req, b).build();
}

void add_vit_builders(PluginRegistrar* r) {
  for (const char* cls : {"ViTModel", "ViTForImageClassification"}) r->add_graph_builder(cls, build_vit);
}

}  // namespace exporters::plugins::vit
