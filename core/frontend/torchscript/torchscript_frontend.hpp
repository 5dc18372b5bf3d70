// TorchScript frontend: model.pt -> IR. The only host code (besides the
// validation runner) that includes LibTorch, and it does so only in .cpp files.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "exporters/frontend/converter.hpp"
#include "exporters/ir/graph.hpp"

namespace exporters::frontend {

struct TorchScriptOptions {
  // Static shape per forward() input name; every tensor input needs one
  // (the error names each missing --shape).
  std::map<std::string, ir::Shape> input_shapes;
  // dtype per input name; defaults: i64 for ids/masks, f32 otherwise is NOT
  // guessed - when absent the frontend takes the dtype the trace recorded
  // for the input, or f32.
  std::map<std::string, ir::DType> input_dtypes;
  // Plugin quirks: rows added to / overriding the converter table.
  std::map<std::string, OpConverter> extra_converters;
};

struct TorchScriptModel {
  ir::Graph graph;                       // inputs named as forward()'s arguments
  std::vector<std::string> input_names;
  std::vector<std::string> output_names;  // "output_0", ... (tuple order)
  std::shared_ptr<void> keepalive;       // owns the module whose weights constants borrow
};

class FrontendError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Loads, freezes, inlines, specialises to the shapes, folds shape
// arithmetic and translates every node through the converter table.
// Throws FrontendError naming the file (bad archive, not TorchScript), the
// missing --shape, or every unsupported op with schema and source line.
TorchScriptModel load_torchscript(const std::filesystem::path& model_pt,
                                  const TorchScriptOptions& options);

// The names of forward()'s tensor inputs, without translating anything.
std::vector<std::string> torchscript_input_names(const std::filesystem::path& model_pt);

// The flat converter table: "aten::linear" -> converter.
const std::map<std::string, OpConverter>& builtin_converters();

}  // namespace exporters::frontend
