// Internal to the two LibTorch translation units (the frontend and the
// validation runner): a model.pt loaded with its large tensor records used
// in place from a private mapping of the file (see MappedReadAdapter).
#pragma once

#include <cstdint>
#include <filesystem>

#include <torch/script.h>

namespace exporters::frontend {

// Throws FrontendError naming the file when it is not a loadable archive.
torch::jit::Module load_mapped_module(const std::filesystem::path& path, uint64_t* mapped_bytes = nullptr);

}  // namespace exporters::frontend
