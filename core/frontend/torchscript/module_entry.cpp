// The entry of libexporters-torch.so: the TorchScript frontend and the
// LibTorch validation runner behind the host's TraceFrontend interface.
// No LibTorch include here; the two LibTorch translation units are
// torchscript_loader.cpp and core/validate/torch_runner.cpp.
#include "core/frontend/trace_frontend.hpp"
#include "core/frontend/torchscript/torchscript_frontend.hpp"
#include "core/validate/torch_runner.hpp"

namespace exporters::frontend {
namespace {

class LibTorchFrontend final : public TraceFrontend {
 public:
  std::unique_ptr<TraceArchive> load(const std::filesystem::path& model_pt,
                                     std::shared_ptr<const io::MappedZip> zip) override {
    return std::make_unique<TorchScriptArchive>(model_pt, std::move(zip));
  }
  std::vector<ir::Tensor> run_torchscript(const std::filesystem::path& model_pt,
                                          const std::vector<ir::Tensor>& inputs) override {
    return validate::run_torchscript(model_pt, inputs);
  }
};

}  // namespace
}  // namespace exporters::frontend

extern "C" __attribute__((visibility("default"))) const exporters::frontend::TraceModuleEntry* exporters_trace_module() {
  static exporters::frontend::LibTorchFrontend frontend;
  static const exporters::frontend::TraceModuleEntry entry{exporters::frontend::kTraceFrontendInterface, &frontend};
  return &entry;
}
