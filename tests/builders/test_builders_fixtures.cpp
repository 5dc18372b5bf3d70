// Every BERT HF fixture, copied without its model.pt, exports natively (the
// bert plugin's graph builder on model.safetensors) to Core ML (float32,
// float16, legacy) and TFLite (float32, float16, dynamic-int8). The written
// file, read back and run here in the interpreter, must match the fixture's
// reference.safetensors and reference2.safetensors (transformers' outputs)
// within the trace path's tolerances; the pipeline's own validation (the
// builder's graph, stored outputs) must pass too. Also: the independent
// PyTorch BERT of bert_reference.py matches every fixture (so the reference
// the own-data tests use is itself checked), and a folder with both a
// checkpoint and model.pt exports natively and validates against LibTorch.
#include <doctest/doctest.h>

#include <cstdlib>
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

std::vector<testing::FixtureInfo> bert_fixtures() {
  if (!testing::hf_fixtures_available()) {
    std::cerr << testing::hf_fixtures_missing_message() << "\n";
    std::exit(77);  // a meson SKIP, not a pass
  }
  std::vector<testing::FixtureInfo> out;
  for (auto& f : testing::load_fixture_index())
    if (f.model_type == "bert") out.push_back(f);
  REQUIRE(out.size() == 5);
  return out;
}

// The fixture's files except model.pt.
void copy_without_trace(const testing::FixtureInfo& f, const fs::path& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(f.dir))
    if (e.path().filename() != "model.pt") fs::copy_file(e.path(), to / e.path().filename());
}

struct Variant {
  std::string target, quantize;
};

}  // namespace

TEST_CASE("every BERT fixture without model.pt exports natively and matches transformers' outputs") {
  testing::TempDir tmp("builders-fixtures");
  const registry::PluginRecord* bert = plugins().find_by_model_type("bert");
  REQUIRE(bert);
  for (const auto& f : bert_fixtures()) {
    const fs::path dir = tmp / f.name;
    copy_without_trace(f, dir);
    const TaskSpec* spec = nullptr;
    for (const auto& t : bert->tasks)
      if (t.hf_class == f.hf_class) spec = &t;
    REQUIRE(spec);
    auto builder = bert->code->graph_builders.find(f.hf_class);
    REQUIRE(builder != bert->code->graph_builders.end());
    // Without heads the written file returns the raw outputs transformers stored.
    // Resolved against the folder as an export does (image size, positions).
    TaskSpec raw = exporting::resolve_task(*spec, *bert->code, exporting::open_model_source(dir));
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
      eo.source = {"", &builder->second, "bert"};
      eo.shapes.sequence_length = f.inputs.front().shape.back();
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
  testing::TempDir tmp("builders-fixtures-cli");
  for (const auto& f : bert_fixtures()) {
    const fs::path dir = tmp / f.name;
    copy_without_trace(f, dir);
    // The fixtures' config.json has no architectures: the class comes from --task.
    auto run = testing::run_command(fmt::format(
        "{} coreml {} -o {}.mlpackage --task {} --sequence-length {} --inputs {}/reference2.safetensors 2>&1",
        EXPORTERS_EXE, dir.string(), dir.string(), f.hf_class, f.inputs.front().shape.back(), dir.string()));
    INFO(run.output);
    CHECK(run.exit_code == 0);
    CHECK(run.output.find("model.safetensors (native, no trace)") != std::string::npos);
    CHECK(run.output.find("vs reference.safetensors") != std::string::npos);
    CHECK(run.output.find("vs reference2.safetensors") != std::string::npos);
    CHECK(run.output.find("FAIL") == std::string::npos);
  }
}

TEST_CASE("a folder with both a checkpoint and model.pt exports natively and validates against LibTorch") {
  testing::TempDir tmp("builders-both");
  const auto f = bert_fixtures().front();
  auto run = testing::run_command(fmt::format("{} tflite {} -o {}/out.tflite --task {} --sequence-length {} 2>&1",
                                              EXPORTERS_EXE, f.dir.string(), tmp.path.string(), f.hf_class,
                                              f.inputs.front().shape.back()));
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(run.output.find("(native, no trace)") != std::string::npos);
  CHECK(run.output.find("validation reference: LibTorch running model.pt") != std::string::npos);
  // --source trace keeps the trace path.
  run = testing::run_command(fmt::format("{} tflite {} -o {}/trace.tflite --source trace --sequence-length {} 2>&1",
                                         EXPORTERS_EXE, f.dir.string(), tmp.path.string(),
                                         f.inputs.front().shape.back()));
  CHECK(run.exit_code == 0);
  CHECK(run.output.find("(native, no trace)") == std::string::npos);
  CHECK(run.output.find("validation reference: LibTorch running model.pt") != std::string::npos);
}

TEST_CASE("the independent PyTorch BERT of the own-data tests matches every BERT fixture") {
  for (const auto& f : bert_fixtures()) {
    auto run = testing::run_command(
        fmt::format("{} {} check {} {} 2>&1", PYTHON_TORCH, REFERENCE_SCRIPT, f.dir.string(), f.hf_class));
    INFO(run.output);
    CHECK(run.exit_code == 0);
    CHECK(run.output.find("reference2.safetensors") != std::string::npos);
  }
}
