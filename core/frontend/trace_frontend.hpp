// The host's LibTorch-free view of the TorchScript frontend and the LibTorch
// validation runner. Both live in one shared module, libexporters-torch.so,
// that trace_frontend() loads the first time a trace is read or run, so
// commands that never touch a model.pt (--version, plugins, inspect) never
// map LibTorch's ~290 libraries. Nothing here includes LibTorch.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "exporters/frontend/converter.hpp"
#include "exporters/ir/graph.hpp"
#include "exporters/ir/tensor.hpp"

namespace exporters::io {
class MappedZip;
}

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
class TraceArchive {
 public:
  virtual ~TraceArchive() = default;
  virtual const std::vector<std::string>& input_names() const = 0;
  // Freezes, inlines and translates. Once only: the archive's module moves
  // into the result. Throws FrontendError.
  virtual TorchScriptModel translate(const TorchScriptOptions& options) = 0;
};

// What libexporters-torch.so provides.
class TraceFrontend {
 public:
  virtual ~TraceFrontend() = default;
  // Loads the archive the host mapped (open_trace_zip), so the weights the
  // graph borrows lie in a mapping the host's writers can give back.
  virtual std::unique_ptr<TraceArchive> load(const std::filesystem::path& model_pt,
                                             std::shared_ptr<const io::MappedZip> zip) = 0;
  // Runs the original trace's forward() with LibTorch on `inputs`
  // (positional, forward's order); outputs flattened in tuple order.
  virtual std::vector<ir::Tensor> run_torchscript(const std::filesystem::path& model_pt,
                                                  const std::vector<ir::Tensor>& inputs) = 0;
};

// The module's one C entry symbol. The host checks interface_version before
// it touches `frontend`; bump it whenever anything in this header changes.
inline constexpr int kTraceFrontendInterface = 1;
struct TraceModuleEntry {
  int interface_version;
  TraceFrontend* frontend;
};
inline constexpr const char* kTraceModuleEntrySymbol = "exporters_trace_module";
inline constexpr const char* kTraceModuleFile = "libexporters-torch.so";

// Maps model.pt and reads its zip directory (no LibTorch). Throws
// FrontendError naming the file: missing, a directory, not a zip archive.
std::shared_ptr<const io::MappedZip> open_trace_zip(const std::filesystem::path& model_pt);

// ---- Host side (exporters_export): the module loaded on first use. ----

// The module, loaded once per process and never unloaded (graphs borrow its
// code and LibTorch's). Throws FrontendError naming the module file and the
// reason (not found, not loadable, no entry symbol, other interface version).
TraceFrontend& trace_frontend();
// open_trace_zip + trace_frontend().load.
std::unique_ptr<TraceArchive> open_trace(const std::filesystem::path& model_pt);
// The module file trace_frontend() loads: $EXPORTERS_TORCH_MODULE, else the
// build tree's (for programs in that build tree), else <libdir>/exporters/
// relative to the executable, else under the configured prefix. Throws
// FrontendError listing the places looked in when none exists.
std::filesystem::path trace_module_path();

}  // namespace exporters::frontend
