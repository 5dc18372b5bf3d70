// Runs the original TorchScript trace with LibTorch, for validation. The
// header is LibTorch-free; only torch_runner.cpp includes it.
#pragma once

#include <filesystem>
#include <vector>

#include "exporters/ir/tensor.hpp"

namespace exporters::validate {

// Loads `model_pt`, calls forward with `inputs` (positional, in forward's
// argument order) and returns its outputs flattened (tuple order). Throws
// std::runtime_error naming the file on load or run failures.
std::vector<ir::Tensor> run_torchscript(const std::filesystem::path& model_pt, const std::vector<ir::Tensor>& inputs);

}  // namespace exporters::validate
