// Every HF fixture: TorchScript frontend -> default passes -> .mlpackage
// (float32 and float16) -> read back -> reference interpreter, compared with
// the LibTorch reference outputs. Exit code 77 (SKIP) without fixtures.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "core/backends/coreml/coreml.hpp"
#include "core/frontend/torchscript/torchscript_frontend.hpp"
#include "core/passes/passes.hpp"
#include "core/runtime/interpreter.hpp"
#include "readback_check.hpp"

namespace fs = std::filesystem;
using namespace exporters;

namespace {

void export_and_check(const testing::FixtureInfo& fixture, const ir::Graph& graph, coreml::Precision precision,
                      double atol, const fs::path& out) {
  coreml::CoreMLOptions opt;
  opt.precision = precision;
  opt.overwrite = true;
  opt.metadata.user_defined["co.huggingface.exporters.name"] = fixture.name;
  coreml::write_mlpackage(graph, opt, out);
  const ir::Graph back = coreml::read_mlpackage(out);
  testing::check_readback_against_references(
      fixture, back, atol, precision == coreml::Precision::Float16 ? "coreml fp16" : "coreml fp32");
}

}  // namespace

TEST_CASE("every HF fixture exports to an .mlpackage whose read-back matches the LibTorch references") {
  testing::require_hf_fixtures();
  const fs::path tmp = fs::temp_directory_path() / ("exporters_coreml_fixtures_" + std::to_string(::getpid()));
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
      export_and_check(fixture, model.graph, coreml::Precision::Float32, 1e-4, tmp / (fixture.name + ".mlpackage"));
      export_and_check(fixture, model.graph, coreml::Precision::Float16, testing::backend_float16_tolerance(fixture.model_type), tmp / (fixture.name + "_fp16.mlpackage"));
    }
  }
  std::error_code ec;
  fs::remove_all(tmp, ec);
}
