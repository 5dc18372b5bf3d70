// A complete exporters plugin that uses every hook of the SDK. It serves
// model_type "hello": a tiny text classifier (token embedding, masked mean
// over the tokens, linear layer), as a trace (model.pt) or as weights
// (config.json + model.safetensors). Build it out of tree against an
// installed SDK:
//   meson setup build && ninja -C build && meson install -C build
#include <exporters/heads.hpp>
#include <exporters/plugin.hpp>
#include <exporters/preprocessing.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace exporters;

// 1. The task, as `exporters plugins list` shows it: no model needed yet.
TaskSpec hello_task() {
  TaskSpec t;
  t.hf_class = "HelloForSequenceClassification";
  t.task = "text-classification";
  t.description = "Hello: a bag-of-embeddings text classifier";
  t.inputs.push_back({"input_ids", ir::DType::I64, {-1, -1}, false, "Token ids from the tokenizer"});
  t.inputs.push_back({"attention_mask", ir::DType::I64, {-1, -1}, false, "1 for real tokens, 0 for padding"});
  t.outputs.push_back({"logits", "Probability of each class", "hello-probabilities"});
  t.default_sequence_length = 16;
  return t;
}

// 2. The resolver fits the task to one model: config.json's max_positions
// bounds the sequence length, id2label gives the labels.
void resolve_hello(TaskSpec& t, const ModelFolder& model) {
  t.max_sequence_length = model.config.integer("max_positions");
  if (t.max_sequence_length < 1) model.config.reject("max_positions", "must be at least 1");
  t.labels = heads::class_labels(model.config);
  if (t.labels.empty()) t.labels = {"negative", "positive"};
}

// 3. A head of its own: softmax over the classes, a Core ML classifier with
// the task's labels, and a metadata entry.
std::vector<HeadOutput> hello_probabilities(HeadContext& ctx, ir::Value* logits, const OutputSpec& spec) {
  ir::Value* p = ctx.graph().add1("softmax", {logits}, {{"axis", logits->type.rank() - 1}}, spec.name + "_softmax");
  ctx.set_classifier(spec.name, ctx.task().labels);
  ctx.set_metadata("hello.greeting", "hello from the plugin's head");
  return {{spec.name, p}};
}

// 4. The graph builder: the same model from config.json + model.safetensors.
ir::Graph build_hello(const BuildRequest& req) {
  ir::Graph g;
  ir::Value* ids = nullptr;
  ir::Value* mask = nullptr;
  for (const auto& [name, type] : req.inputs) {
    ir::Value* v = g.add_input(name, type);
    if (name == "input_ids") ids = v;
    if (name == "attention_mask") mask = v;
  }
  if (!ids) throw std::runtime_error("hello builder: no input_ids input");
  const int64_t batch = ids->type.shape[0], seq = ids->type.shape[1];
  ir::Value* table = g.constant(req.weights.get("embeddings.weight"), "embeddings.weight");
  ir::Value* h = g.add1("gather", {table, ids}, {{"axis", int64_t{0}}}, "embedded");  // [B, S, H]
  ir::Value* m = mask ? g.add1("cast", {mask}, {{"dtype", std::string("f32")}}, "mask")
                      : g.constant(ir::Tensor::from_f32({batch, seq}, std::vector<float>(batch * seq, 1.f)), "mask");
  m = g.add1("reshape", {m}, {{"shape", std::vector<int64_t>{batch, seq, 1}}}, "mask3");
  ir::Value* sum = g.add1("reduce_sum", {g.add1("mul", {h, m})}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{0}}});
  ir::Value* count = g.add1("reduce_sum", {m}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{0}}});
  ir::Value* pooled = g.add1("div", {sum, g.add1("clamp", {count}, {{"min", 1.0}})}, {}, "pooled");
  ir::Value* logits = g.add1("linear", {pooled, g.constant(req.weights.get("classifier.weight"), "classifier.weight"),
                                        g.constant(req.weights.get("classifier.bias"), "classifier.bias")},
                             {}, "logits");
  g.add_output(logits, "logits");
  return g;
}

void register_hello(PluginRegistrar* r) {
  r->add_task(hello_task());
  r->add_task_resolver("HelloForSequenceClassification", resolve_hello);
  r->add_head("hello-probabilities", hello_probabilities);
  r->add_graph_builder("HelloForSequenceClassification", build_hello);

  // 5. A quirk: this family's traces may call aten::hello_identity, which
  // the host does not know; it forwards its tensor input.
  r->add_op_converter("aten::hello_identity",
                      [](frontend::ConversionContext& ctx, const frontend::NodeView& node)
                          -> std::vector<frontend::Operand> { return {ctx.tensor(node, 0)}; });

  // 6. A preprocessor: hello models with images or recordings use the SDK's
  // emulations of the Hugging Face ones.
  r->add_preprocessor("HelloImageProcessor", preprocessing::hf_image_processor());
  r->add_preprocessor("HelloFeatureExtractor", preprocessing::wav2vec2_feature_extractor());
}

}  // namespace

EXPORTERS_PLUGIN("hello", "0.2.0", ({"hello", nullptr}), register_hello)
