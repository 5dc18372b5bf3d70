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
  double load_seconds = 0;               // torch::jit::load
  uint64_t mapped_bytes = 0;             // tensor records used in place from the mapped file
  double translate_seconds = 0;          // freeze, inline, translate
};

class FrontendError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A model.pt loaded once: forward()'s input names are known before the
// shapes are chosen, and translate() reuses the same loaded module.
class TorchScriptArchive {
 public:
  // Loads with LibTorch; throws FrontendError naming the file.
  explicit TorchScriptArchive(const std::filesystem::path& model_pt);
  ~TorchScriptArchive();
  TorchScriptArchive(TorchScriptArchive&&) noexcept;
  TorchScriptArchive& operator=(TorchScriptArchive&&) noexcept;

  const std::filesystem::path& path() const;
  const std::vector<std::string>& input_names() const;
  double load_seconds() const;
  // Bytes of tensor records LibTorch uses in place from the mapped file
  // instead of copies (large, 64-byte aligned, stored records).
  uint64_t mapped_bytes() const;
  // Freezes, inlines and translates (see load_torchscript). Once only: the
  // archive's module moves into the result.
  TorchScriptModel translate(const TorchScriptOptions& options);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
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
