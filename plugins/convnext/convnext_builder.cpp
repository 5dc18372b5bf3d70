// ConvNextModel and ConvNextForImageClassification, as modeling_convnext.py
// (transformers 4.36) computes them in eval mode (drop path and dropout are
// the identity). Every config.json key that code reads either changes the
// graph here or is rejected by name; read_config lists them.
#include "convnext_builder.hpp"

#include <exporters/builder/ir_builder.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace exporters::plugins::convnext {

namespace {

using builder::IrBuilder;
using builder::Value;
using builder::Weights;

// ConvNextLayerNorm inside the model is built with eps=1e-6 whatever the
// config says; layer_norm_eps is the final (pooler) LayerNorm's.
constexpr double kInnerEps = 1e-6;

struct ConvNextConfig {
  int64_t channels = 3, patch = 4, stages = 4;
  std::vector<int64_t> hidden_sizes{96, 192, 384, 768}, depths{3, 3, 9, 3};
  std::string hidden_act = "gelu";
  double layer_norm_eps = 1e-12;
  double layer_scale_init_value = 1e-6;
  int64_t num_labels = -1;  // from id2label / num_labels; -1 = as the classifier weight says
};

int64_t positive(const JsonView& c, const std::string& key, int64_t fallback) {
  const int64_t v = c.integer(key, fallback);
  if (v <= 0) c.reject(key, "must be a positive integer");
  return v;
}

ConvNextConfig read_config(const JsonView& c) {
  ConvNextConfig cfg;
  cfg.channels = positive(c, "num_channels", cfg.channels);
  cfg.patch = positive(c, "patch_size", cfg.patch);
  cfg.stages = positive(c, "num_stages", cfg.stages);
  cfg.hidden_sizes = c.integers("hidden_sizes", cfg.hidden_sizes);
  cfg.depths = c.integers("depths", cfg.depths);
  // ConvNextEncoder indexes both lists by stage, and the final LayerNorm
  // takes hidden_sizes[-1]: other lengths fail inside transformers.
  if (static_cast<int64_t>(cfg.hidden_sizes.size()) != cfg.stages)
    c.reject("hidden_sizes", "needs one size per stage (num_stages " + std::to_string(cfg.stages) + ")");
  if (static_cast<int64_t>(cfg.depths.size()) != cfg.stages)
    c.reject("depths", "needs one depth per stage (num_stages " + std::to_string(cfg.stages) + ")");
  for (int64_t h : cfg.hidden_sizes)
    if (h <= 0) c.reject("hidden_sizes", "sizes must be positive");
  for (int64_t d : cfg.depths)
    if (d < 0) c.reject("depths", "depths must not be negative");
  cfg.hidden_act = c.string("hidden_act", cfg.hidden_act);
  if (!builder::is_activation_name(cfg.hidden_act))
    c.reject("hidden_act", "not an activation transformers 4.36 knows (see ACT2FN)");
  cfg.layer_norm_eps = c.number("layer_norm_eps", cfg.layer_norm_eps);
  if (!(cfg.layer_norm_eps >= 0)) c.reject("layer_norm_eps", "must be a non-negative number");
  // > 0: each layer scales its branch by layer_scale_parameter; else none.
  cfg.layer_scale_init_value = c.number("layer_scale_init_value", cfg.layer_scale_init_value);
  const auto labels = c.string_map("id2label");
  if (!labels.empty()) cfg.num_labels = static_cast<int64_t>(labels.size());
  if (c.has("num_labels")) cfg.num_labels = positive(c, "num_labels", 2);
  // No effect on these classes' outputs: drop_path_rate (stochastic depth
  // is off in eval), image_size (not read by the model), out_features /
  // out_indices / stage_names (ConvNextBackbone only), initializer_range,
  // torchscript, return_dict, output_hidden_states, problem_type (the loss).
  return cfg;
}

class ConvNextGraph {
 public:
  ConvNextGraph(const BuildRequest& req, IrBuilder& b)
      : req_(req), b_(b), cfg_(read_config(req.model.config)),
        base_(builder::base_model_weights(req.weights, "convnext", "embeddings.patch_embeddings.weight")),
        top_(req.weights) {}

  ir::Graph build() {
    const std::string& cls = req_.task.hf_class;
    if (req_.inputs.size() != 1 || req_.inputs[0].first != "pixel_values")
      throw std::invalid_argument("ConvNeXT graph builder: the export must take pixel_values alone");
    Value* pixels = b_.input(req_.inputs[0].first, req_.inputs[0].second);
    const auto& s = pixels->type.shape;
    if (s.size() != 4)
      throw std::invalid_argument("ConvNeXT graph builder: pixel_values must be [batch, channels, h, w]");
    // ConvNextEmbeddings raises the same.
    if (s[1] != cfg_.channels)
      req_.model.config.reject("num_channels", "the export's pixel_values has " + std::to_string(s[1]) + " channels");
    if (cls == "ConvNextForImageClassification")
      builder::require_head_weights(req_.weights, base_, cls, {"classifier.weight", "classifier.bias"});

    // Embeddings: patchify conv + channels-first LayerNorm.
    Value* x = b_.conv2d(pixels, base_, "embeddings.patch_embeddings", {cfg_.patch, cfg_.patch});
    x = channels_first_norm(x, base_, "embeddings.layernorm");
    int64_t prev = cfg_.hidden_sizes[0];
    for (int64_t i = 0; i < cfg_.stages; ++i) {
      const Weights st = base_.scope("encoder.stages." + std::to_string(i));
      const int64_t out = cfg_.hidden_sizes[static_cast<size_t>(i)];
      // ConvNextStage downsamples (LayerNorm + 2x2 stride-2 conv) unless
      // the channels stay and the stride is 1, which is stage 0 alone.
      if (prev != out || i > 0) {
        x = channels_first_norm(x, st, "downsampling_layer.0");
        x = b_.conv2d(x, st, "downsampling_layer.1", {2, 2});
      }
      for (int64_t j = 0; j < cfg_.depths[static_cast<size_t>(i)]; ++j)
        x = layer(x, st.scope("layers." + std::to_string(j)));
      prev = out;
    }
    Value* hidden = x;  // [B, C, h, w]
    // pooler_output = layernorm(mean over h, w).
    Value* pooled = b_.op("reduce_mean", {hidden}, {{"axes", std::vector<int64_t>{2, 3}}, {"keepdims", int64_t{0}}});
    pooled = b_.layer_norm(pooled, base_, "layernorm", cfg_.layer_norm_eps);

    std::vector<Value*> outputs;
    if (cls == "ConvNextModel") {
      outputs = {hidden, pooled};
    } else if (cls == "ConvNextForImageClassification") {
      outputs = {b_.linear(pooled, top_, "classifier", cfg_.num_labels)};
    } else {
      throw std::invalid_argument("ConvNeXT graph builder: no graph for class " + cls);
    }
    b_.task_outputs(outputs, req_.task, "ConvNeXT graph builder");
    return std::move(b_.graph());
  }

 private:
  // ConvNextLayerNorm(data_format="channels_first"): normalise over C of
  // [B, C, H, W], as a LayerNorm over the last axis of the NHWC transpose.
  Value* channels_first_norm(Value* x, const Weights& w, const std::string& module) {
    Value* t = b_.transpose(x, {0, 2, 3, 1});
    return b_.transpose(b_.layer_norm(t, w, module, kInnerEps), {0, 3, 1, 2});
  }

  // x + gamma * pwconv2(act(pwconv1(LN(dwconv(x)))))  with the LN and the
  // pointwise layers in channels-last layout.
  Value* layer(Value* x, const Weights& w) {
    const int64_t dim = x->type.shape[1];
    Value* h = b_.conv2d(x, w, "dwconv", {1, 1}, {3, 3, 3, 3}, {1, 1}, dim);
    h = b_.transpose(h, {0, 2, 3, 1});
    h = b_.layer_norm(h, w, "layernorm", kInnerEps);
    h = b_.activation(b_.linear(h, w, "pwconv1", 4 * dim), cfg_.hidden_act);
    h = b_.linear(h, w, "pwconv2", dim);
    if (cfg_.layer_scale_init_value > 0) h = b_.mul(b_.weight(w, "layer_scale_parameter", {dim}), h);
    return b_.add(x, b_.transpose(h, {0, 3, 1, 2}));
  }

  const BuildRequest& req_;
  IrBuilder& b_;
  ConvNextConfig cfg_;
  Weights base_;
  Weights top_;
};

}  // namespace

ir::Graph build_convnext(const BuildRequest& req) {
  ir::Graph graph;
  IrBuilder b(graph);
  return ConvNextGraph(req, b).build();
}

void add_convnext_builders(PluginRegistrar* r) {
  for (const char* cls : {"ConvNextModel", "ConvNextForImageClassification"}) r->add_graph_builder(cls, build_convnext);
}

}  // namespace exporters::plugins::convnext
