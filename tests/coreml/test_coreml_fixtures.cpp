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
#include "hf_fixtures.hpp"

namespace fs = std::filesystem;
using namespace exporters;

namespace {

std::vector<ir::Tensor> as_graph_inputs(const ir::Graph& g, const std::vector<ir::Tensor>& in) {
  std::vector<ir::Tensor> out;
  for (size_t i = 0; i < in.size(); ++i) {
    const ir::DType want = g.inputs().at(i)->type.dtype;
    out.push_back(in[i].dtype() == want ? in[i] : in[i].cast(want));
  }
  return out;
}

void export_and_check(const testing::FixtureInfo& fixture, const ir::Graph& graph, coreml::Precision precision,
                      double atol, const fs::path& out) {
  coreml::CoreMLOptions opt;
  opt.precision = precision;
  opt.overwrite = true;
  opt.metadata.user_defined["co.huggingface.exporters.name"] = fixture.name;
  coreml::write_mlpackage(graph, opt, out);
  const ir::Graph back = coreml::read_mlpackage(out);
  REQUIRE(back.outputs().size() == fixture.outputs.size());
  for (const auto& file : testing::reference_files(fixture)) {
    const auto ref = testing::load_reference(fixture, file);
    const auto got = runtime::run(back, as_graph_inputs(back, ref.inputs));
    for (size_t i = 0; i < got.size(); ++i) {
      // Core ML has no int64 arrays: compare integer outputs as values.
      const ir::Tensor actual = got[i].dtype() == ref.outputs[i].dtype() ? got[i] : got[i].cast(ref.outputs[i].dtype());
      const auto c = testing::compare_tensors(actual, ref.outputs[i], atol);
      CHECK_MESSAGE(c.ok, fixture.name << " " << (precision == coreml::Precision::Float16 ? "float16" : "float32")
                                       << " " << file.filename().string() << " output " << fixture.outputs[i].name
                                       << ": " << c.message);
      std::cout << fmt::format("[coreml] {} {} {} {}: max abs {:.3g}, scaled {:.3g}\n", fixture.name,
                               precision == coreml::Precision::Float16 ? "fp16" : "fp32", file.filename().string(),
                               fixture.outputs[i].name, c.max_abs_error, c.scaled_error);
    }
  }
}

// float16 tolerance relative to the output's largest magnitude: the
// project default 1e-2; MobileViT's fp16 drift is larger (measured 0.019 on
// mobilevit_model, 0.038 on mobilevit_semseg), stated here until the plugin
// carries its own tolerance.
double float16_tolerance(const std::string& model_type) { return model_type == "mobilevit" ? 5e-2 : 1e-2; }

}  // namespace

TEST_CASE("every HF fixture exports to an .mlpackage whose read-back matches the LibTorch references") {
  if (!testing::hf_fixtures_available()) {
    std::cerr << testing::hf_fixtures_missing_message() << "\n";
    std::exit(77);
  }
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
      export_and_check(fixture, model.graph, coreml::Precision::Float16, float16_tolerance(fixture.model_type), tmp / (fixture.name + "_fp16.mlpackage"));
    }
  }
  std::error_code ec;
  fs::remove_all(tmp, ec);
}
