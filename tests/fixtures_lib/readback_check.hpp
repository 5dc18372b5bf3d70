// Shared by the backend fixture tests: run a graph read back from a written
// file on every reference file of a fixture and check each output against
// LibTorch's. Header-only because it uses doctest assertions.
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <iostream>
#include <string>

#include "core/runtime/interpreter.hpp"
#include "hf_fixtures.hpp"

namespace exporters::testing {

// float16 tolerance of the backend tests, relative to each output's largest
// magnitude: 1e-2, but MobileViT's raw logits drift further under fp16
// weights (measured 0.019 on mobilevit_model, 0.038 on mobilevit_semseg).
inline double backend_float16_tolerance(const std::string& model_type) {
  return model_type == "mobilevit" ? 5e-2 : 1e-2;
}

// The file's inputs may have other dtypes (Core ML: int32 ids); outputs are
// compared as values in the reference's dtype. `label` prefixes each line.
inline void check_readback_against_references(const FixtureInfo& fixture, const ir::Graph& back, double atol,
                                              const std::string& label) {
  REQUIRE(back.outputs().size() == fixture.outputs.size());
  for (const auto& file : reference_files(fixture)) {
    const auto ref = load_reference(fixture, file);
    std::vector<ir::Tensor> inputs;
    for (size_t i = 0; i < ref.inputs.size(); ++i) {
      const ir::DType want = back.inputs().at(i)->type.dtype;
      inputs.push_back(ref.inputs[i].dtype() == want ? ref.inputs[i] : ref.inputs[i].cast(want));
    }
    const auto got = runtime::run(back, inputs);
    for (size_t i = 0; i < got.size(); ++i) {
      const ir::Tensor actual = got[i].dtype() == ref.outputs[i].dtype() ? got[i] : got[i].cast(ref.outputs[i].dtype());
      const auto c = compare_tensors(actual, ref.outputs[i], atol);
      CHECK_MESSAGE(c.ok, fixture.name << " " << label << " " << file.filename().string() << " output "
                                       << fixture.outputs[i].name << ": " << c.message);
      std::cout << fmt::format("[{}] {} {} {}: max abs {:.3g}, scaled {:.3g}\n", label, fixture.name,
                               file.filename().string(), fixture.outputs[i].name, c.max_abs_error, c.scaled_error);
    }
  }
}

}  // namespace exporters::testing
