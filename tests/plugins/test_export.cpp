// Every HF fixture through the export pipeline with the plugin's task and no
// --shape (text: --sequence-length from fixture.json, since the traces are
// specialised at their own length), to .mlpackage, validated against LibTorch
// by the pipeline (heads applied to LibTorch's outputs by the reference
// interpreter) and checked here independently: the written model's inputs,
// outputs and metadata, and its outputs on reference.safetensors against
// softmax / argmax of the reference outputs computed in this file.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/backends/coreml/coreml.hpp"
#include "core/backends/tflite/tflite.hpp"
#include "core/export/export_pipeline.hpp"
#include "core/runtime/interpreter.hpp"
#include "hf_fixtures.hpp"
#include "registry/plugin_registry.hpp"
#include "tests/fixtures_lib/run_command.hpp"

namespace fs = std::filesystem;
using namespace exporters;

namespace {

registry::PluginRegistry& plugins() {
  static registry::PluginRegistry reg(std::vector<registry::SearchPathEntry>{{PLUGINS_BUILD_DIR, "build tree"}});
  return reg;
}

// The fixture's task, resolved against its folder by the plugin (as the CLI does).
TaskSpec task_for(const testing::FixtureInfo& f) {
  const registry::PluginRecord* rec = plugins().find_by_model_type(f.model_type);
  REQUIRE_MESSAGE(rec, "no plugin for " << f.model_type);
  for (const auto& t : rec->tasks)
    if (t.hf_class == f.hf_class) return exporting::resolve_task(t, *rec->code, exporting::open_model_source(f.dir));
  FAIL("no task " << f.hf_class);
  throw 0;
}

std::vector<std::string> output_names(const TaskSpec& t) {
  std::vector<std::string> names;
  for (const auto& o : t.outputs) names.push_back(o.name);
  return names;
}

fs::path scratch() {
  static fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / fmt::format("exporters-plugins-export-{}", ::getpid());
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

// Without the fixtures the whole executable is a meson SKIP (exit 77), not a pass.
void require_fixtures() { testing::require_hf_fixtures(); }

bool is_text(const testing::FixtureInfo& f) { return f.inputs.front().name == "input_ids"; }

exporting::ExportOptions options_for(const testing::FixtureInfo& f, const std::string& out_name) {
  exporting::ExportOptions eo;
  eo.model = f.dir;
  eo.output = scratch() / out_name;
  eo.target.overwrite = true;
  eo.plugin = plugins().find_by_model_type(f.model_type)->code;
  eo.task = task_for(f);
  if (is_text(f)) eo.shapes.sequence_length = f.inputs.front().shape.back();
  return eo;
}

// Independent heads: softmax over the last axis in double precision.
ir::Tensor softmax_last(const ir::Tensor& x) {
  ir::Tensor in = x.cast(ir::DType::F32);
  ir::Tensor out = ir::Tensor::zeros(ir::DType::F32, in.shape());
  const int64_t n = in.shape().back();
  const float* s = in.data_as<float>();
  float* d = out.mutable_as<float>();
  for (int64_t r = 0; r < in.numel() / n; ++r) {
    double m = -INFINITY, sum = 0;
    for (int64_t k = 0; k < n; ++k) m = std::max<double>(m, s[r * n + k]);
    for (int64_t k = 0; k < n; ++k) sum += std::exp(double(s[r * n + k]) - m);
    for (int64_t k = 0; k < n; ++k) d[r * n + k] = static_cast<float>(std::exp(double(s[r * n + k]) - m) / sum);
  }
  return out;
}

// argmax over axis 1 of [B, C, H, W] -> i32 [B, H, W].
ir::Tensor argmax_classes(const ir::Tensor& x) {
  ir::Tensor in = x.cast(ir::DType::F32);
  const auto& s = in.shape();
  const int64_t plane = s[2] * s[3];
  ir::Tensor out = ir::Tensor::zeros(ir::DType::I32, {s[0], s[2], s[3]});
  for (int64_t b = 0; b < s[0]; ++b)
    for (int64_t p = 0; p < plane; ++p) {
      int32_t best = 0;
      for (int64_t c = 1; c < s[1]; ++c)
        if (in.data_as<float>()[(b * s[1] + c) * plane + p] > in.data_as<float>()[(b * s[1] + best) * plane + p])
          best = static_cast<int32_t>(c);
      out.mutable_as<int32_t>()[b * plane + p] = best;
    }
  return out;
}

// Pixel values 0..255 that the fixture's image processor maps to `x`,
// computed from preprocessor_config.json here (not by the host).
ir::Tensor to_pixels(const testing::FixtureInfo& f, const ir::Tensor& x) {
  nlohmann::json pre = nlohmann::json::parse(std::ifstream(f.dir / "preprocessor_config.json"));
  double rescale = pre.value("rescale_factor", 1.0 / 255.0);
  std::vector<double> mean{0, 0, 0}, stdev{1, 1, 1};
  if (pre.value("do_normalize", false)) {
    mean = pre["image_mean"].get<std::vector<double>>();
    stdev = pre["image_std"].get<std::vector<double>>();
  }
  ir::Tensor p = ir::Tensor::zeros(ir::DType::F32, x.shape());
  const int64_t plane = x.shape()[2] * x.shape()[3];
  for (int64_t k = 0; k < x.numel(); ++k) {
    const int64_t c = (k / plane) % 3;
    p.mutable_as<float>()[k] = static_cast<float>((x.data_as<float>()[k] * stdev[c] + mean[c]) / rescale);
  }
  return p;
}

std::vector<std::string> labels_of(const testing::FixtureInfo& f) {
  nlohmann::json config = nlohmann::json::parse(std::ifstream(f.dir / "config.json"));
  std::vector<std::string> labels;
  if (!config.contains("id2label")) return labels;
  for (size_t i = 0; i < config["id2label"].size(); ++i) labels.push_back(config["id2label"][std::to_string(i)]);
  return labels;
}

bool has_output(const coreml::ModelSummary& s, const std::string& name) {
  return std::any_of(s.outputs.begin(), s.outputs.end(), [&](const auto& o) { return o.name == name; });
}

void check_report(const exporting::ExportResult& r, const std::string& what) {
  REQUIRE_MESSAGE(r.report, what);
  CHECK_MESSAGE(r.report->pass(), what << "\n" << r.report->to_string());
  std::cout << fmt::format("[plugins] {}\n{}", what, r.report->to_string());
}

// The tflite-support metadata read back with our reader: every input and
// output, in the subgraph's order, has the plugin's description; an image
// input states the preprocessor's normalisation in pixel units.
void check_tflite_descriptions(const testing::FixtureInfo& f, const TaskSpec& task, const fs::path& file) {
  const tflite::TfliteSummary s = tflite::summarize_tflite(file);
  REQUIRE(s.model_metadata);
  CHECK(s.model_metadata->min_parser_version == "1.0.0");
  CHECK(s.model_metadata->description == task.description);
  REQUIRE(s.inputs.size() == task.inputs.size());
  for (size_t i = 0; i < s.inputs.size(); ++i) {
    const auto& in = s.inputs[i];
    CAPTURE(in.name);
    REQUIRE(in.metadata);
    CHECK(s.model_metadata->inputs[i].first == in.name);
    CHECK(!in.metadata->description.empty());
    if (is_text(f)) {
      auto spec = std::find_if(task.inputs.begin(), task.inputs.end(), [&](const InputSpec& x) { return x.name == in.name; });
      REQUIRE(spec != task.inputs.end());
      CHECK(in.metadata->description == spec->description);
      CHECK_FALSE(in.metadata->image);
      CHECK(in.metadata->mean.empty());
    } else {
      CHECK(in.metadata->image);
      CHECK(in.metadata->color_space == (f.model_type != "mobilevit" ? "RGB" : ""));
      nlohmann::json pre = nlohmann::json::parse(std::ifstream(f.dir / "preprocessor_config.json"));
      const double rescale = pre.value("rescale_factor", 1.0 / 255.0);
      std::vector<double> mean{0, 0, 0}, stdev{1, 1, 1};
      if (pre.value("do_normalize", false)) {
        mean = pre["image_mean"].get<std::vector<double>>();
        stdev = pre["image_std"].get<std::vector<double>>();
      }
      REQUIRE(in.metadata->mean.size() == 3);
      REQUIRE(in.metadata->std.size() == 3);
      for (int c = 0; c < 3; ++c) {
        CHECK(in.metadata->mean[c] == doctest::Approx(mean[c] / rescale));
        CHECK(in.metadata->std[c] == doctest::Approx(stdev[c] / rescale));
      }
    }
  }
  REQUIRE(s.outputs.size() == task.outputs.size());
  for (size_t i = 0; i < s.outputs.size(); ++i) {
    CAPTURE(task.outputs[i].name);
    REQUIRE(s.outputs[i].metadata);
    CHECK(s.outputs[i].name == task.outputs[i].name);
    CHECK(s.model_metadata->outputs[i].first == task.outputs[i].name);
    CHECK(s.outputs[i].metadata->description == task.outputs[i].description);
  }
}

}  // namespace

TEST_CASE("every HF fixture exports with its plugin task and validates (float32 and float16)") {
  require_fixtures();
  const auto& coreml = exporting::find_target("coreml");
  for (const auto& f : testing::load_fixture_index()) {
    CAPTURE(f.name);
    const TaskSpec task = task_for(f);
    exporting::ExportOptions eo = options_for(f, f.name + ".mlpackage");
    exporting::ExportResult r = exporting::export_model(eo, coreml);
    check_report(r, f.name + " float32");

    // The planned inputs are the fixture's (no --shape given).
    REQUIRE(r.plan.names.size() == f.inputs.size());
    for (size_t i = 0; i < f.inputs.size(); ++i) {
      CHECK(r.plan.names[i] == f.inputs[i].name);
      CHECK(r.plan.types[i].shape == f.inputs[i].shape);
    }

    // The written model's description.
    const coreml::ModelSummary s = coreml::summarize_mlpackage(eo.output);
    CHECK(s.short_description == task.description);
    for (const auto& in : s.inputs) CHECK_MESSAGE(!in.description.empty(), "input " << in.name);
    // Every output is described, the classifier's classLabel included.
    for (const auto& out : s.outputs)
      CHECK_MESSAGE(!out.description.empty(), "output " << out.name);
    const auto labels = labels_of(f);
    if (is_text(f)) {
      REQUIRE(s.inputs.size() == f.inputs.size());
      for (size_t i = 0; i < f.inputs.size(); ++i) {
        CHECK(s.inputs[i].name == f.inputs[i].name);
        std::vector<std::string> dims;
        for (int64_t d : f.inputs[i].shape) dims.push_back(std::to_string(d));
        CHECK(s.inputs[i].type == fmt::format("MultiArray INT32 [{}]", fmt::join(dims, ", ")));
      }
    } else {
      REQUIRE(s.inputs.size() == 1);
      CHECK(s.inputs[0].type == fmt::format("Image {} {}x{}", f.model_type == "mobilevit" ? "BGR" : "RGB",
                                            f.inputs[0].shape[3], f.inputs[0].shape[2]));
    }
    const bool classifier = task.outputs[0].head == "classifier";
    if (classifier) {
      REQUIRE(!labels.empty());
      CHECK(has_output(s, "classLabel"));
      CHECK(has_output(s, "probabilities"));
      CHECK(nlohmann::json::parse(s.user_defined.at("labels")).get<std::vector<std::string>>() == labels);
    } else {
      std::vector<std::string> names;
      for (const auto& o : s.outputs) names.push_back(o.name);
      CHECK(names == output_names(task));
    }
    if (f.task == "token-classification" || f.task == "semantic-segmentation")
      CHECK(s.user_defined.at("classes") == fmt::format("{}", fmt::join(labels, ",")));
    if (f.task == "semantic-segmentation")
      CHECK(s.user_defined.at("com.apple.coreml.model.preview.type") == "imageSegmenter");

    // Independent check on reference.safetensors: the written file vs heads
    // computed here from the reference outputs.
    const auto ref = testing::load_reference(f, testing::reference_files(f).front());
    const ir::Graph back = coreml::read_mlpackage(eo.output);
    std::vector<ir::Tensor> in;
    for (size_t i = 0; i < ref.inputs.size(); ++i)
      in.push_back(is_text(f) ? ref.inputs[i].cast(ir::DType::I32) : to_pixels(f, ref.inputs[i]));
    const auto got = runtime::run(back, in);
    for (size_t i = 0; i < back.output_names().size(); ++i) {
      const std::string& name = back.output_names()[i];
      CAPTURE(name);
      ir::Tensor expected;
      if (classifier && name == "classLabel") {
        const ir::Tensor logits = ref.outputs[0].cast(ir::DType::F32);
        const float* p = logits.data_as<float>();
        int32_t best = static_cast<int32_t>(std::max_element(p, p + logits.numel()) - p);
        CHECK(got[i].cast(ir::DType::I64).data_as<int64_t>()[0] == best);
        continue;
      }
      size_t k = classifier ? 0 : i;
      const std::string& head = task.outputs[k].head;
      if (head.empty()) expected = ref.outputs[k];
      else if (head == "softmax" || head == "classifier" || head == "token-classifier")
        expected = softmax_last(ref.outputs[k]);
      else if (head == "segmentation") continue;  // upsampled: checked below with --no-upsample
      else FAIL("unexpected head " << head);
      const auto c = testing::compare_tensors(got[i], expected, 1e-4);
      CHECK_MESSAGE(c.ok, f.name << " output " << name << ": " << c.message);
    }

    // float16 through the same pipeline, the plugin's tolerance.
    exporting::ExportOptions eo16 = options_for(f, f.name + "_fp16.mlpackage");
    eo16.target.quantize = "float16";
    eo16.validation.float16_tolerance = task.float16_tolerance;
    check_report(exporting::export_model(eo16, coreml), f.name + " float16");
    fs::remove_all(eo.output);
    fs::remove_all(eo16.output);
  }
}

TEST_CASE("semantic segmentation: --no-upsample gives argmax of the reference logits; --no-argmax the logits") {
  require_fixtures();
  const auto& coreml = exporting::find_target("coreml");
  for (const auto& f : testing::load_fixture_index()) {
    if (f.task != "semantic-segmentation") continue;
    CAPTURE(f.name);
    const auto ref = testing::load_reference(f, testing::reference_files(f).front());
    const int64_t h = f.inputs[0].shape[2], w = f.inputs[0].shape[3];
    for (int variant = 0; variant < 3; ++variant) {
      exporting::ExportOptions eo = options_for(f, fmt::format("{}_seg{}.mlpackage", f.name, variant));
      eo.heads.upsample = variant == 1;  // 0: no upsample; 1: defaults; 2: neither
      eo.heads.argmax = variant != 2;
      exporting::ExportResult r = exporting::export_model(eo, coreml);
      check_report(r, fmt::format("{} upsample={} argmax={}", f.name, eo.heads.upsample, eo.heads.argmax));
      const ir::Graph back = coreml::read_mlpackage(eo.output);
      REQUIRE(back.outputs().size() == 1);
      const auto& type = back.outputs()[0]->type;
      const auto got = runtime::run(back, {to_pixels(f, ref.inputs[0])});
      const auto& logits = ref.outputs[0];
      if (variant == 0) {  // no upsample, argmax
        CHECK(type.shape == ir::Shape{1, logits.shape()[2], logits.shape()[3]});
        CHECK(testing::compare_tensors(got[0], argmax_classes(logits), 0).ok);
      } else if (variant == 1) {  // defaults: class per input pixel
        CHECK(type.shape == ir::Shape{1, h, w});
        CHECK(type.dtype == ir::DType::I32);
      } else {  // neither: the raw logits
        CHECK(type.shape == logits.shape());
        const auto c = testing::compare_tensors(got[0], logits, 1e-4);
        CHECK_MESSAGE(c.ok, c.message);
      }
      fs::remove_all(eo.output);
    }
  }
}

TEST_CASE("options: --image-input tensor, --no-attention-mask, batch size 2, TFLite NHWC with folded normalization") {
  require_fixtures();
  const auto fixtures = testing::load_fixture_index();
  auto fixture = [&](const std::string& name) {
    auto it = std::find_if(fixtures.begin(), fixtures.end(), [&](const auto& f) { return f.name == name; });
    REQUIRE(it != fixtures.end());
    return *it;
  };
  const auto& coreml = exporting::find_target("coreml");

  SUBCASE("--image-input tensor keeps a float tensor input") {
    const auto f = fixture("vit_imgcls");
    exporting::ExportOptions eo = options_for(f, "vit_tensor.mlpackage");
    eo.heads.image_input = "tensor";
    check_report(exporting::export_model(eo, coreml), "vit_imgcls --image-input tensor");
    const auto s = coreml::summarize_mlpackage(eo.output);
    REQUIRE(s.inputs.size() == 1);
    CHECK(s.inputs[0].type == "MultiArray FLOAT32 [1, 3, 32, 32]");
  }
  SUBCASE("--image-input tensor --fold-normalization: a float tensor of pixel values 0..255") {
    const auto f = fixture("convnext_imgcls");
    exporting::ExportOptions eo = options_for(f, "convnext_fold.mlpackage");
    eo.heads.image_input = "tensor";
    eo.heads.fold_normalization = true;
    check_report(exporting::export_model(eo, coreml), "convnext_imgcls --image-input tensor --fold-normalization");
    const auto s = coreml::summarize_mlpackage(eo.output);
    REQUIRE(s.inputs.size() == 1);
    CHECK(s.inputs[0].type == "MultiArray FLOAT32 [1, 3, 64, 64]");
    const auto ref = testing::load_reference(f, testing::reference_files(f).front());
    const auto got = runtime::run(coreml::read_mlpackage(eo.output), {to_pixels(f, ref.inputs[0])});
    ir::Tensor probs;
    for (size_t i = 0; i < got.size(); ++i)
      if (got[i].numel() == 10 && ir::is_float(got[i].dtype())) probs = got[i];
    REQUIRE(probs.numel() == 10);
    const auto c = testing::compare_tensors(probs.reshaped({1, 10}), softmax_last(ref.outputs[0]), 1e-4);
    CHECK_MESSAGE(c.ok, c.message);
  }
  SUBCASE("--no-attention-mask drops the input for MobileBERT, refused for BERT") {
    const auto f = fixture("mobilebert_seqcls");
    exporting::ExportOptions eo = options_for(f, "mobilebert_nomask.mlpackage");
    eo.heads.attention_mask = false;
    check_report(exporting::export_model(eo, coreml), "mobilebert_seqcls --no-attention-mask");
    const auto s = coreml::summarize_mlpackage(eo.output);
    std::vector<std::string> names;
    for (const auto& in : s.inputs) names.push_back(in.name);
    CHECK(names == std::vector<std::string>{"input_ids", "token_type_ids"});
    const auto b = fixture("bert_seqcls");
    exporting::ExportOptions eb = options_for(b, "bert_nomask.mlpackage");
    eb.heads.attention_mask = false;
    CHECK_THROWS_WITH(exporting::export_model(eb, coreml), doctest::Contains("--no-attention-mask"));
  }
  SUBCASE("TFLite: NHWC float input, normalization folded in") {
    const auto f = fixture("segformer_imgcls");
    exporting::ExportOptions eo = options_for(f, "segformer_fold.tflite");
    eo.heads.fold_normalization = true;
    check_report(exporting::export_model(eo, exporting::find_target("tflite")), "segformer_imgcls tflite fold");
    const ir::Graph back = tflite::read_tflite(eo.output);
    REQUIRE(back.inputs().size() == 1);
    CHECK(back.inputs()[0]->type.shape == ir::Shape{1, 64, 64, 3});
    CHECK(back.metadata.count("labels") == 1);
    // Pixels in, probabilities out, against softmax of the reference logits.
    const auto ref = testing::load_reference(f, testing::reference_files(f).front());
    ir::Tensor px = to_pixels(f, ref.inputs[0]);
    ir::Tensor nhwc = ir::Tensor::zeros(ir::DType::F32, {1, 64, 64, 3});
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t p = 0; p < 64 * 64; ++p) nhwc.mutable_as<float>()[p * 3 + c] = px.data_as<float>()[c * 64 * 64 + p];
    const auto got = runtime::run(back, {nhwc});
    const auto c = testing::compare_tensors(got.at(0), softmax_last(ref.outputs[0]), 1e-4);
    CHECK_MESSAGE(c.ok, c.message);
  }
}

TEST_CASE("plugin defaults: sequence length clamped to max_position_embeddings, batch size 2") {
  require_fixtures();
  const auto fixtures = testing::load_fixture_index();
  auto fixture = [&](const std::string& name) {
    auto it = std::find_if(fixtures.begin(), fixtures.end(), [&](const auto& f) { return f.name == name; });
    REQUIRE(it != fixtures.end());
    return *it;
  };
  const auto& coreml = exporting::find_target("coreml");
  auto max_positions = [](const testing::FixtureInfo& f) {
    nlohmann::json c = nlohmann::json::parse(std::ifstream(f.dir / "config.json"));
    return c.contains("max_position_embeddings") ? c["max_position_embeddings"].get<int64_t>()
                                                 : c["n_positions"].get<int64_t>();
  };
  for (const char* name : {"bert_qa", "distilbert_seqcls", "mobilebert_mlm", "gpt2_lm"}) {
    const auto f = fixture(name);
    CAPTURE(f.name);
    exporting::ExportOptions eo = options_for(f, f.name + "_default.mlpackage");
    eo.shapes.sequence_length.reset();  // the plugin's default: 128 (BERTs) / 64 (GPT-2), clamped
    const int64_t want = std::min<int64_t>(f.model_type == "gpt2" ? 64 : 128, max_positions(f));
    exporting::ExportResult r = exporting::export_model(eo, coreml);
    check_report(r, f.name + " default length");
    for (const auto& t : r.plan.types) CHECK(t.shape == ir::Shape{1, want});
    fs::remove_all(eo.output);
  }
  // Batch 2: a classifier stays a probabilities tensor (the Core ML
  // classifier takes one example).
  const auto f = fixture("bert_seqcls");
  exporting::ExportOptions eo = options_for(f, "bert_batch2.mlpackage");
  eo.shapes.batch_size = 2;
  exporting::ExportResult r = exporting::export_model(eo, coreml);
  check_report(r, "bert_seqcls batch 2");
  for (const auto& t : r.plan.types) CHECK(t.shape == ir::Shape{2, 16});
  const auto s = coreml::summarize_mlpackage(eo.output);
  REQUIRE(s.outputs.size() == 1);
  CHECK(s.outputs[0].name == "logits");
  CHECK(s.outputs[0].type == "MultiArray FLOAT32 [2, 3]");
  fs::remove_all(eo.output);
}

TEST_CASE("CLI: the export log names plugin and task; plugins list shows the nine families") {
  require_fixtures();
  auto run = [](const std::string& args) {
    auto r = exporters::testing::run_command(std::string("'") + EXPORTERS_EXE + "' " + args + " 2>&1");
    return std::make_pair(r.exit_code, r.output);
  };
  const fs::path out = scratch() / "cli_tokcls.mlpackage";
  // No --shape, no --sequence-length, no --task (the fixture's config.json
  // has no architectures: the class comes from the trace).
  auto [code, text] = run(fmt::format("coreml '{}' -o '{}' --overwrite",
                                      (testing::hf_fixtures_dir() / "mobilebert_tokcls").string(), out.string()));
  CHECK_MESSAGE(code == 0, text);
  CHECK_MESSAGE(text.find("plugin mobilebert, task token-classification (MobileBertForTokenClassification)") !=
                    std::string::npos,
                text);
  CHECK_MESSAGE(text.find("validation: PASS") != std::string::npos, text);
  fs::remove_all(out);
  auto [lcode, list] = run("plugins list");
  CHECK(lcode == 0);
  for (const char* fam : {"bert", "distilbert", "mobilebert", "gpt2", "vit", "convnext", "cvt", "mobilevit", "segformer"})
    CHECK_MESSAGE(list.find(fmt::format("\n{} ", fam)) != std::string::npos, fam << "\n" << list);
}

TEST_CASE("every HF fixture to TFLite with its plugin task: NHWC image tensors, heads, labels metadata, descriptions") {
  require_fixtures();
  const auto& tflite_target = exporting::find_target("tflite");
  for (const auto& f : testing::load_fixture_index()) {
    CAPTURE(f.name);
    const TaskSpec task = task_for(f);
    exporting::ExportOptions eo = options_for(f, f.name + ".tflite");
    exporting::ExportResult r = exporting::export_model(eo, tflite_target);
    check_report(r, f.name + " tflite float32");
    const ir::Graph back = tflite::read_tflite(eo.output);
    REQUIRE(back.inputs().size() == f.inputs.size());
    if (!is_text(f)) {
      const auto& s = f.inputs[0].shape;
      CHECK(back.inputs()[0]->type.shape == ir::Shape{s[0], s[2], s[3], s[1]});
      CHECK(back.inputs()[0]->type.dtype == ir::DType::F32);
    }
    CHECK(back.output_names() == output_names(task));
    if (task.outputs[0].head == "classifier")
      CHECK(nlohmann::json::parse(back.metadata.at("labels")).get<std::vector<std::string>>() == labels_of(f));
    CHECK(back.metadata.at("description") == task.description);
    check_tflite_descriptions(f, task, eo.output);
    fs::remove(eo.output);
  }
}

TEST_CASE("every HF fixture to TFLite dynamic-int8 validates in LiteRT within its plugin's int8 tolerance") {
  require_fixtures();
  const auto& tflite_target = exporting::find_target("tflite");
  for (const auto& f : testing::load_fixture_index()) {
    CAPTURE(f.name);
    const TaskSpec task = task_for(f);
    CHECK(task.int8_tolerance >= task.float16_tolerance);
    exporting::ExportOptions eo = options_for(f, f.name + ".int8.tflite");
    eo.target.quantize = "dynamic-int8";
    eo.validation.runtime = "litert";  // the real TFLite runtime's hybrid int8 kernels
    exporting::ExportResult r = exporting::export_model(eo, tflite_target);
    check_report(r, f.name + " tflite dynamic-int8");
    check_tflite_descriptions(f, task, eo.output);  // the file LiteRT just ran carries the metadata
    // The bound the report used is the plugin's int8 tolerance.
    for (const auto& o : r.report->outputs)
      if (!o.exact_dtype) CHECK(o.allowed == doctest::Approx(task.int8_tolerance * std::max(1.0, o.expected_scale)));
    fs::remove(eo.output);
  }
}
