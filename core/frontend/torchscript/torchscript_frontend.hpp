// TorchScript frontend: model.pt -> IR. Built into libexporters-torch.so
// (the host reaches it through trace_frontend.hpp) and linked directly by
// the tests and tools that translate traces. Includes LibTorch only in its
// .cpp files.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/frontend/trace_frontend.hpp"

namespace exporters::frontend {

// A model.pt loaded once: forward()'s input names are known before the
// shapes are chosen, and translate() reuses the same loaded module.
class TorchScriptArchive final : public TraceArchive {
 public:
  // Loads with LibTorch; throws FrontendError naming the file.
  explicit TorchScriptArchive(const std::filesystem::path& model_pt);
  // Loads the archive already mapped by open_trace_zip(model_pt).
  TorchScriptArchive(const std::filesystem::path& model_pt, std::shared_ptr<const io::MappedZip> zip);
  ~TorchScriptArchive() override;
  TorchScriptArchive(TorchScriptArchive&&) noexcept;
  TorchScriptArchive& operator=(TorchScriptArchive&&) noexcept;

  const std::filesystem::path& path() const;
  const std::vector<std::string>& input_names() const override;
  double load_seconds() const;
  // Bytes of tensor records LibTorch uses in place from the mapped file
  // instead of copies (large, 64-byte aligned, stored records).
  uint64_t mapped_bytes() const;
  // Freezes, inlines and translates (see load_torchscript). Once only: the
  // archive's module moves into the result.
  TorchScriptModel translate(const TorchScriptOptions& options) override;

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
