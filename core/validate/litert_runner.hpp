// Runs a .tflite file with the real TFLite runtime: LiteRT compiled to
// WebAssembly (npm @litertjs/core, pinned in tools/litert), driven by Node.js
// through tools/litert/run.mjs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "exporters/ir/tensor.hpp"

namespace exporters::validate {

// The runner script: $EXPORTERS_LITERT_RUNNER, else the source tree's
// tools/litert/run.mjs recorded at configure time. Throws std::runtime_error
// saying how to install it when it or Node.js is missing.
std::filesystem::path litert_runner_script();

// Runs `model` on `inputs` (by input name) and returns the outputs named in
// `output_names`, in that order. Throws std::runtime_error naming the file
// and the runner's message on failure.
std::vector<ir::Tensor> run_litert(const std::filesystem::path& model, const std::vector<std::string>& input_names,
                                   const std::vector<ir::Tensor>& inputs,
                                   const std::vector<std::string>& output_names);

}  // namespace exporters::validate
