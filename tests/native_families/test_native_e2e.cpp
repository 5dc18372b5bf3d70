// The GPT-2, DistilBERT, ViT and ConvNeXT HF fixtures, copied without their
// model.pt, export natively (each plugin's graph builder on
// model.safetensors) to Core ML (float32, float16, legacy) and TFLite
// (float32, float16, dynamic-int8), as tests/builders does for BERT. The
// written file, read back and run in the interpreter, must match the
// fixture's reference.safetensors and reference2.safetensors
// (transformers' outputs) within the trace path's tolerances, and the
// pipeline's own validation must pass. The CLI exports each natively with
// the task's heads. SKIP (77) without ../shared.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "core/export/export_pipeline.hpp"
#include "hf_fixtures.hpp"
#include "readback_check.hpp"
#include "registry/plugin_registry.hpp"
#include "tests/fixtures_lib/run_command.hpp"
#include "tests/fixtures_lib/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace exporters;

namespace {

registry::PluginRegistry& plugins() {
  static registry::PluginRegistry reg(std::vector<registry::SearchPathEntry>{{PLUGINS_BUILD_DIR, "build tree"}});
  return reg;
}

const std::vector<std::string> kFixtures = {"gpt2_lm",   "gpt2_model",      "distilbert_qa",  "distilbert_seqcls",
                                            "vit_imgcls", "vit_model",      "convnext_imgcls", "convnext_model"};

std::vector<testing::FixtureInfo> fixtures() {
  if (!testing::hf_fixtures_available()) {
    std::cerr << testing::hf_fixtures_missing_message() << "\n";
    std::exit(77);  // a meson SKIP, not a pass
  }
  std::vector<testing::FixtureInfo> out;
  for (const auto& name : kFixtures) out.push_back(testing::load_fixture_info(testing::hf_fixtures_dir() / name));
  return out;
}

// The fixture's files except model.pt.
void copy_without_trace(const testing::FixtureInfo& f, const fs::path& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(f.dir))
    if (e.path().filename() != "model.pt") fs::copy_file(e.path(), to / e.path().filename());
}

bool is_text(const testing::FixtureInfo& f) { return f.inputs.front().name == "input_ids"; }

struct Variant {
  std::string target, quantize;
};

}  // namespace

TEST_CASE("every GPT-2/DistilBERT/ViT/ConvNeXT fixture without model.pt exports natively and matches transformers") {
  testing::TempDir tmp("native-e2e");
  for (const auto& f : fixtures()) {
    const fs::path dir = tmp / f.name;
    copy_without_trace(f, dir);
    const registry::PluginRecord* plugin = plugins().find_by_model_type(f.model_type);
    REQUIRE(plugin);
    const TaskSpec* spec = nullptr;
    for (const auto& t : plugin->tasks)
      if (t.hf_class == f.hf_class) spec = &t;
    REQUIRE(spec);
    auto builder = plugin->code->graph_builders.find(f.hf_class);
    REQUIRE(builder != plugin->code->graph_builders.end());
    // Without heads the written file returns the raw outputs transformers stored.
    // Resolved against the folder as an export does (image size, positions).
    TaskSpec raw = exporting::resolve_task(*spec, *plugin->code, exporting::open_model_source(dir));
    for (auto& o : raw.outputs) o.head.clear();  // no plugin in eo: no heads either
    for (const Variant& v : std::vector<Variant>{{"coreml", "float32"}, {"coreml", "float16"}, {"coreml-legacy", "float32"},
                                                  {"tflite", "float32"}, {"tflite", "float16"}, {"tflite", "dynamic-int8"}}) {
      CAPTURE(f.name);
      CAPTURE(v.target);
      CAPTURE(v.quantize);
      exporting::ExportOptions eo;
      eo.model = dir;
      eo.output = tmp / fmt::format("{}-{}-{}{}", f.name, v.target, v.quantize,
                                    v.target == "tflite" ? ".tflite" : v.target == "coreml" ? ".mlpackage" : ".mlmodel");
      eo.target.quantize = v.quantize;
      eo.task = raw;
      eo.source = {"", &builder->second, plugin->display_name()};
      if (is_text(f)) eo.shapes.sequence_length = f.inputs.front().shape.back();
      eo.validation.inputs = dir / "reference2.safetensors";
      const auto& target = exporting::find_target(v.target);
      exporting::ExportResult result = exporting::export_model(eo, target);
      CHECK(result.source == exporting::SourceKind::Native);
      REQUIRE(result.report);
      CHECK_MESSAGE(result.report->pass(), result.report->to_string());
      CHECK(result.validation_reference ==
            "the graph builder's graph in the reference interpreter; reference2.safetensors outputs; "
            "reference.safetensors outputs");
      CHECK(result.report->outputs.size() == 3 * f.outputs.size());
      // Independently: the file read back against both reference files.
      const double atol = v.quantize == "float32" ? 1e-4 : v.quantize == "float16" ? spec->float16_tolerance
                                                                                    : spec->int8_tolerance;
      testing::check_readback_against_references(f, target.read(eo.output), atol,
                                                 "native " + v.target + " " + v.quantize);
    }
  }
}

TEST_CASE("the CLI exports each fixture natively with the task's heads") {
  testing::TempDir tmp("native-e2e-cli");
  for (const auto& f : fixtures()) {
    CAPTURE(f.name);
    const fs::path dir = tmp / f.name;
    copy_without_trace(f, dir);
    // The fixtures' config.json has no architectures: the class comes from --task.
    const std::string length = is_text(f) ? fmt::format(" --sequence-length {}", f.inputs.front().shape.back()) : "";
    for (const char* target : {"coreml", "tflite"}) {
      CAPTURE(target);
      auto run = testing::run_command(fmt::format(
          "{} {} {} -o {}{} --task {}{} --inputs {}/reference2.safetensors 2>&1", EXPORTERS_EXE, target, dir.string(),
          dir.string(), std::string(target) == "coreml" ? ".mlpackage" : ".tflite", f.hf_class, length, dir.string()));
      INFO(run.output);
      CHECK(run.exit_code == 0);
      CHECK(run.output.find("model.safetensors (native, no trace)") != std::string::npos);
      CHECK(run.output.find("vs reference2.safetensors") != std::string::npos);
      CHECK(run.output.find("validation: PASS") != std::string::npos);
      CHECK(run.output.find("FAIL") == std::string::npos);
    }
  }
}

TEST_CASE("GPT2ForSequenceClassification (no fixture) exports natively: the first-pad pooling runs in every backend") {
  if (!testing::hf_fixtures_available()) std::exit(77);
  testing::TempDir tmp("native-e2e-gpt2cls");
  {
    std::ofstream c(tmp / "config.json");
    c << R"({"model_type": "gpt2", "vocab_size": 50, "n_positions": 16, "n_embd": 16, "n_layer": 2, "n_head": 2,
             "pad_token_id": 3, "num_labels": 3})";
  }
  auto init = testing::run_command(fmt::format("'{}' '{}' init gpt2 GPT2ForSequenceClassification '{}' --batch 2 --seq 10 "
                                               "--pad-at 5 2>&1",
                                               PYTHON, NATIVE_TESTS_DIR "/reference.py", tmp.path.string()));
  REQUIRE_MESSAGE(init.exit_code == 0, init.output);
  for (const char* target : {"coreml", "tflite"}) {
    for (const char* quantize : {"float32", "float16"}) {
      CAPTURE(target);
      CAPTURE(quantize);
      auto run = testing::run_command(fmt::format(
          "{} {} {} -o {}/out-{}{} --quantize {} --task GPT2ForSequenceClassification --sequence-length 10 "
          "--batch-size 2 --inputs {}/inputs.safetensors 2>&1",
          EXPORTERS_EXE, target, tmp.path.string(), tmp.path.string(), quantize,
          std::string(target) == "coreml" ? ".mlpackage" : ".tflite", quantize, tmp.path.string()));
      INFO(run.output);
      CHECK(run.exit_code == 0);
      CHECK(run.output.find("(native, no trace)") != std::string::npos);
      CHECK(run.output.find("validation: PASS") != std::string::npos);
    }
  }
}
