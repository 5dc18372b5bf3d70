// Every HF fixture: TorchScript frontend -> default passes -> NeuralNetwork
// .mlmodel (float32 weights and float16 weights) -> read back -> reference
// interpreter, compared with the LibTorch reference outputs of
// reference*.safetensors. Exit code 77 (SKIP) without fixtures.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "core/backends/coreml/neuralnetwork/nn_model.hpp"
#include "core/frontend/torchscript/torchscript_frontend.hpp"
#include "core/passes/passes.hpp"
#include "core/runtime/interpreter.hpp"
#include "readback_check.hpp"

namespace fs = std::filesystem;
using namespace exporters;

namespace {

int64_t layer_count(const coreml::LegacyModelInfo& info) {
  int64_t n = 0;
  for (const auto& [kind, count] : info.layer_histogram) n += count;
  return n;
}

void export_and_check(const testing::FixtureInfo& fixture, const ir::Graph& graph, coreml::Precision precision,
                      double atol, const fs::path& out) {
  const std::string label = precision == coreml::Precision::Float16 ? "fp16" : "fp32";
  coreml::LegacyOptions opt;
  opt.precision = precision;
  opt.overwrite = true;
  opt.metadata.user_defined["co.huggingface.exporters.name"] = fixture.name;
  coreml::write_mlmodel(graph, opt, out);
  const auto info = coreml::inspect_mlmodel(out);
  CHECK(info.specification_version >= 4);
  const ir::Graph back = coreml::read_mlmodel(out);
  for (size_t i = 0; i < back.outputs().size() && i < graph.outputs().size(); ++i)
    CHECK(back.output_names()[i] == graph.output_names()[i]);
  testing::check_readback_against_references(
      fixture, back, atol,
      fmt::format("coreml-legacy {} spec {} ({} layers)", label, info.specification_version, layer_count(info)));
}

}  // namespace

TEST_CASE("every HF fixture exports to a NeuralNetwork .mlmodel whose read-back matches the LibTorch references") {
  testing::require_hf_fixtures();
  // $EXPORTERS_LEGACY_KEEP_DIR keeps the written models (for checks with other tools).
  const char* keep = std::getenv("EXPORTERS_LEGACY_KEEP_DIR");
  const fs::path tmp = keep ? fs::path(keep)
                            : fs::temp_directory_path() / ("exporters_coreml_legacy_fixtures_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  for (const auto& listed : testing::load_fixture_index()) {
    const auto fixture = testing::load_fixture_info(listed.dir);
    SUBCASE(fixture.name.c_str()) {
      frontend::TorchScriptOptions options;
      for (const auto& in : fixture.inputs) {
        options.input_shapes[in.name] = in.shape;
        options.input_dtypes[in.name] = in.dtype;
      }
      auto model = frontend::load_torchscript(fixture.dir / "model.pt", options);
      passes::run_default_pipeline(model.graph);
      export_and_check(fixture, model.graph, coreml::Precision::Float32, 1e-4, tmp / (fixture.name + ".mlmodel"));
      export_and_check(fixture, model.graph, coreml::Precision::Float16, testing::backend_float16_tolerance(fixture.model_type),
                       tmp / (fixture.name + "_fp16.mlmodel"));
    }
  }
  std::error_code ec;
  if (!keep) fs::remove_all(tmp, ec);
}
