// The SDK's head and preprocessing helpers on hand-made inputs (image size
// and normalisation from preprocessor configs, id2label de-duplication), the
// host's float16 near-tie rule for class maps and export inputs in pixel /
// NHWC form, and the SDK heads run through the host on small graphs.
#include <doctest/doctest.h>

#include <cmath>

#include "core/export/heads.hpp"
#include "core/runtime/interpreter.hpp"
#include "exporters/heads.hpp"
#include "exporters/preprocessing.hpp"

using namespace exporters;
using namespace exporters::exporting;

namespace {
JsonView json(const std::string& text) { return JsonView::parse(text, "preprocessor_config.json"); }
}  // namespace

TEST_CASE("image size: crop_size before size; height/width, shortest_edge and int forms") {
  using preprocessing::image_size;
  CHECK(image_size(json(R"({"size": {"height": 32, "width": 48}})")) == std::array<int64_t, 2>{32, 48});
  CHECK(image_size(json(R"({"size": {"shortest_edge": 72}, "crop_size": {"height": 64, "width": 64}})")) ==
        std::array<int64_t, 2>{64, 64});
  CHECK(image_size(json(R"({"size": {"shortest_edge": 72}, "crop_size": {"height": 64, "width": 64},
                                   "do_center_crop": false})")) == std::array<int64_t, 2>{72, 72});
  CHECK(image_size(json(R"({"size": 224})")) == std::array<int64_t, 2>{224, 224});
  CHECK(image_size(json(R"({})")) == std::array<int64_t, 2>{0, 0});
  CHECK_THROWS_WITH(image_size(json(R"({"size": {"longest_edge": 3}})")),
                    doctest::Contains("preprocessor_config.json: 'size'"));
}

TEST_CASE("image normalisation: rescale, mean, std; none when do_normalize is false") {
  using preprocessing::image_normalization;
  auto n = image_normalization(json(R"({"do_normalize": true, "image_mean": [0.5, 0.4, 0.3],
      "image_std": [0.2, 0.25, 0.5], "rescale_factor": 0.5})"));
  CHECK(n.rescale == 0.5);
  CHECK(n.mean == std::array<double, 3>{0.5, 0.4, 0.3});
  CHECK(n.std == std::array<double, 3>{0.2, 0.25, 0.5});
  auto m = image_normalization(json(R"({"do_normalize": false, "image_mean": [0.5, 0.5, 0.5],
      "image_std": [0.5, 0.5, 0.5], "do_rescale": true, "rescale_factor": 0.00392156862745098})"));
  CHECK(m.mean == std::array<double, 3>{0, 0, 0});
  CHECK(m.std == std::array<double, 3>{1, 1, 1});
  CHECK_THROWS_WITH(image_normalization(json(R"({"do_normalize": true, "image_std": [0, 1, 1]})")),
                    doctest::Contains("image_std"));
}

TEST_CASE("class labels from id2label in id order, duplicates made unique") {
  auto labels = heads::class_labels(JsonView::parse(R"({"id2label": {"1": "cat", "0": "dog", "2": "cat", "10": "x",
      "3": "a", "4": "a", "5": "a", "6": "b", "7": "c", "8": "d", "9": "e"}})", "config.json"));
  REQUIRE(labels.size() == 11);
  CHECK(labels[0] == "dog");
  CHECK(labels[1] == "cat");
  CHECK(labels[2] == "cat_1");
  CHECK(labels[4] == "a_1");
  CHECK(labels[5] == "a_2");
  CHECK(labels[10] == "x");
  CHECK(heads::class_labels(JsonView::parse("{}", "config.json")).empty());
  CHECK_THROWS_WITH(heads::class_labels(JsonView::parse(R"({"id2label": {"0": "a", "2": "b"}})", "config.json")),
                    doctest::Contains("config.json: 'id2label'"));
}

TEST_CASE("float16 class maps: only near ties may differ") {
  // Pixel 0: classes 0 and 1 within 0.001; pixel 1: class 2 clearly best.
  ir::Tensor raw = ir::Tensor::from_f32({1, 3, 1, 2}, {1.0f, 0.0f, 0.9995f, 0.0f, 0.0f, 5.0f});
  CHECK(class_mismatches_beyond_ties(raw, ir::Tensor::from_i64({1, 1, 2}, {0, 2}), 1e-2) == 0);
  CHECK(class_mismatches_beyond_ties(raw, ir::Tensor::from_i64({1, 1, 2}, {1, 2}), 1e-2) == 0);
  CHECK(class_mismatches_beyond_ties(raw, ir::Tensor::from_i64({1, 1, 2}, {1, 0}), 1e-2) == 1);
  CHECK(class_mismatches_beyond_ties(raw, ir::Tensor::from_i64({1, 1, 2}, {2, 2}), 1e-2) == 1);
  CHECK(class_mismatches_beyond_ties(raw, ir::Tensor::from_f32({1, 1, 2}, {0, 2}), 1e-2) == -1);  // not class ids
  CHECK(class_mismatches_beyond_ties(raw, ir::Tensor::from_i64({1, 3}, {0, 2, 1}), 1e-2) == -1);  // shape
}

TEST_CASE("export inputs: pixel values invert the normalisation; NHWC transposes") {
  AppliedTask applied;
  InputDeclaration img;
  img.kind = InputDeclaration::Kind::ImageTensor;
  img.pixels = true;
  img.nhwc = true;
  img.rescale = 1.0 / 255.0;
  img.mean = {0.5, 0.25, 0.0};
  img.std = {0.5, 0.25, 1.0};
  applied.inputs["pixel_values"] = img;
  // [1, 3, 1, 2]: channel-major values.
  ir::Tensor x = ir::Tensor::from_f32({1, 3, 1, 2}, {-1.0f, 1.0f, 0.0f, 3.0f, 0.5f, 0.0f});
  ir::Tensor p = export_input(applied, "pixel_values", x);
  REQUIRE(p.shape() == ir::Shape{1, 1, 2, 3});
  const float* v = p.data_as<float>();
  // pixel = (x * std + mean) * 255, laid out [h, w, c].
  CHECK(v[0] == doctest::Approx(0.0));     // w0 c0: (-1*0.5+0.5)*255
  CHECK(v[1] == doctest::Approx(63.75));   // w0 c1: (0*0.25+0.25)*255
  CHECK(v[2] == doctest::Approx(127.5));   // w0 c2: 0.5*255
  CHECK(v[3] == doctest::Approx(255.0));   // w1 c0: (1*0.5+0.5)*255
  CHECK(v[4] == doctest::Approx(255.0));   // w1 c1: (3*0.25+0.25)*255
  CHECK(v[5] == doctest::Approx(0.0));     // w1 c2
  ir::Tensor ids = ir::Tensor::from_i64({1, 2}, {4, 5});
  CHECK(export_input(applied, "input_ids", ids).shape() == ir::Shape{1, 2});
}

namespace {

// A plugin's code as the host holds it, with the SDK heads under their names.
std::shared_ptr<registry::PluginCode> sdk_heads_plugin() {
  auto code = std::make_shared<registry::PluginCode>();
  code->plugin_name = "test";
  code->heads["softmax"] = heads::softmax();
  code->heads["classifier"] = heads::classifier();
  code->heads["sigmoid"] = heads::sigmoid();
  code->heads["pool"] = heads::mean_pooling(true);
  code->heads["ctc"] = heads::ctc({"<pad>", "a", "b"});
  code->heads["scores"] = heads::detection_scores();
  code->heads["boxes"] = heads::detection_boxes();
  return code;
}

// A graph that returns its inputs as raw outputs, with the task's heads applied.
struct Applied {
  ir::Graph graph;
  AppliedTask applied;
  TargetOptions target;
};

Applied apply(const TaskSpec& task, const registry::PluginCode& code, const std::vector<ir::TensorType>& outputs,
              const std::string& target_name, const HeadOptions& options = {}) {
  Applied a;
  ModelFolder folder;
  a.graph.add_input("attention_mask", {ir::DType::I64, {2, 3}});
  for (size_t i = 0; i < outputs.size(); ++i)
    a.graph.add_output(a.graph.add_input("raw" + std::to_string(i), outputs[i]), task.outputs[i].name);
  const TaskContext ctx{task, code, folder, options, nullptr};
  a.applied = apply_task(a.graph, ctx, target_name, a.target);
  return a;
}

TaskSpec task_with(std::vector<OutputSpec> outputs, std::vector<std::string> labels = {}) {
  TaskSpec t;
  t.hf_class = "TestModel";
  t.task = "test";
  t.outputs = std::move(outputs);
  t.labels = std::move(labels);
  return t;
}

}  // namespace

TEST_CASE("sigmoid head: one independent probability per class, labels as metadata, no Core ML classifier") {
  auto code = sdk_heads_plugin();
  const TaskSpec task = task_with({{"logits", "p", "sigmoid"}}, {"a", "b", "c"});
  Applied a = apply(task, *code, {{ir::DType::F32, {1, 3}}}, "coreml");
  CHECK(a.applied.outputs == std::vector<std::string>{"logits"});
  CHECK_FALSE(a.target.classifier);
  CHECK(a.target.metadata.at("labels") == R"(["a","b","c"])");
  const auto out = runtime::run(a.graph, {ir::Tensor::from_i64({2, 3}, {1, 1, 1, 1, 1, 1}),
                                          ir::Tensor::from_f32({1, 3}, {0.f, 2.f, -1.f})});
  CHECK(out[0].data_as<float>()[0] == doctest::Approx(0.5));
  CHECK(out[0].data_as<float>()[1] == doctest::Approx(1 / (1 + std::exp(-2.0))));
  CHECK(out[0].data_as<float>()[2] == doctest::Approx(1 / (1 + std::exp(1.0))));
}

TEST_CASE("classifier head: a Core ML classifier only for Core ML and when the labels fit") {
  auto code = sdk_heads_plugin();
  const TaskSpec task = task_with({{"logits", "p", "classifier"}}, {"x", "y"});
  Applied coreml = apply(task, *code, {{ir::DType::F32, {1, 2}}}, "coreml");
  REQUIRE(coreml.target.classifier);
  CHECK(coreml.target.classifier->labels == std::vector<std::string>{"x", "y"});
  CHECK(coreml.applied.classifier_output == "logits");
  Applied tflite = apply(task, *code, {{ir::DType::F32, {1, 2}}}, "tflite");
  CHECK_FALSE(tflite.target.classifier);
  CHECK(tflite.target.metadata.at("labels") == R"(["x","y"])");
  Applied wrong = apply(task, *code, {{ir::DType::F32, {1, 3}}}, "coreml");
  CHECK_FALSE(wrong.target.classifier);
}

TEST_CASE("mean pooling head: masked mean over the tokens, L2-normalised, reads attention_mask") {
  auto code = sdk_heads_plugin();
  const TaskSpec task = task_with({{"last_hidden_state", "h", "pool"}});
  Applied a = apply(task, *code, {{ir::DType::F32, {2, 3, 2}}}, "coreml");
  CHECK(a.applied.outputs == std::vector<std::string>{"sentence_embedding"});
  const ir::Tensor mask = ir::Tensor::from_i64({2, 3}, {1, 1, 0, 1, 0, 0});
  const ir::Tensor h = ir::Tensor::from_f32({2, 3, 2}, {1, 2, 3, 4, 100, 100, 3, 4, 7, 7, 9, 9});
  const auto out = runtime::run(a.graph, {mask, h});
  // Row 0: mean of (1,2),(3,4) = (2,3) -> /sqrt(13); row 1: (3,4) -> (0.6, 0.8).
  const float* v = out[0].data_as<float>();
  CHECK(v[0] == doctest::Approx(2 / std::sqrt(13.0)));
  CHECK(v[1] == doctest::Approx(3 / std::sqrt(13.0)));
  CHECK(v[2] == doctest::Approx(0.6));
  CHECK(v[3] == doctest::Approx(0.8));
  // The reference side runs the same head on raw outputs plus the mask it reads.
  ModelFolder folder;
  HeadOptions options;
  const auto ref = reference_heads(TaskContext{task, *code, folder, options, nullptr}, a.applied, {h},
                                   {{"attention_mask", mask}});
  CHECK(ref.at("sentence_embedding").data_as<float>()[2] == doctest::Approx(0.6));
}

TEST_CASE("CTC head: logits kept, greedy ids added, vocabulary metadata; detection: probabilities and boxes") {
  auto code = sdk_heads_plugin();
  const TaskSpec ctc = task_with({{"logits", "l", "ctc"}});
  Applied a = apply(ctc, *code, {{ir::DType::F32, {1, 2, 3}}}, "tflite");
  CHECK(a.applied.outputs == std::vector<std::string>{"logits", "token_ids"});
  CHECK(a.target.metadata.at("vocabulary") == R"(["<pad>","a","b"])");
  const auto out = runtime::run(a.graph, {ir::Tensor::from_i64({2, 3}, {1, 1, 1, 1, 1, 1}),
                                          ir::Tensor::from_f32({1, 2, 3}, {0, 5, 1, 9, 0, 1})});
  CHECK(out[1].dtype() == ir::DType::I32);
  CHECK(out[1].data_as<int32_t>()[0] == 1);
  CHECK(out[1].data_as<int32_t>()[1] == 0);

  const TaskSpec det = task_with({{"logits", "l", "scores"}, {"pred_boxes", "b", "boxes"}}, {"cat", "dog"});
  Applied d = apply(det, *code, {{ir::DType::F32, {1, 4, 3}}, {ir::DType::F32, {1, 4, 4}}}, "coreml");
  CHECK(d.applied.outputs == std::vector<std::string>{"logits", "pred_boxes"});
  CHECK(d.target.metadata.at("classes") == "cat,dog");
  CHECK(d.target.metadata.at("box_format") == "cxcywh");
}

TEST_CASE("a head the plugin does not register is an error naming the output and the head") {
  auto code = sdk_heads_plugin();
  const TaskSpec task = task_with({{"logits", "l", "nope"}});
  CHECK_THROWS_WITH(apply(task, *code, {{ir::DType::F32, {1, 2}}}, "coreml"),
                    doctest::Contains("output 'logits' names head 'nope', which plugin test does not register"));
}
