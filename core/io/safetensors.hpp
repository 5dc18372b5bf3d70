// safetensors reading and writing: the project's interchange format for
// example inputs, reference outputs and validation dumps.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "exporters/ir/tensor.hpp"

namespace exporters::io {

// Tensors by name. Reading memory-maps the file; the returned tensors borrow
// its bytes (the mapping lives as long as any tensor). Throws
// std::runtime_error naming the file and what is wrong (truncated header,
// bad JSON, offsets out of range, unsupported dtype, size mismatch).
std::map<std::string, ir::Tensor> read_safetensors(const std::filesystem::path& path);

// Writes atomically (temporary sibling, then rename). dtypes F32 F16 I32 I64
// BOOL I8 U8; tensors stored in sorted name order, header padded to 8 bytes.
void write_safetensors(const std::filesystem::path& path,
                       const std::map<std::string, ir::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace exporters::io
