// safetensors reading and writing: the project's interchange format for
// example inputs, reference outputs and validation dumps.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "exporters/ir/tensor.hpp"

namespace exporters::io {

// Tensors by name. Reading memory-maps the file; the returned tensors borrow
// its bytes (the mapping lives as long as any tensor). Throws
// std::runtime_error naming the file and what is wrong (truncated header,
// bad JSON, offsets out of range, unsupported dtype, size mismatch).
std::map<std::string, ir::Tensor> read_safetensors(const std::filesystem::path& path);

// The whole file: tensors plus the free-form string map of `__metadata__`
// (e.g. {"format": "pt"}). Same validation and errors as read_safetensors.
struct SafetensorsFile {
  std::map<std::string, ir::Tensor> tensors;
  std::map<std::string, std::string> metadata;
};
SafetensorsFile read_safetensors_file(const std::filesystem::path& path);
// Checkpoints may store bfloat16, which the IR has no type for: with
// `bfloat16_as_f32` BF16 tensors are read as owned float32 copies (exact);
// without it they are an error like any other unsupported dtype.
SafetensorsFile read_safetensors_file(const std::filesystem::path& path, bool bfloat16_as_f32);

// Writes atomically (temporary sibling, then rename). dtypes F32 F16 I32 I64
// BOOL I8 U8; tensors stored in sorted name order, header padded to 8 bytes.
// `__metadata__` holds {"format": "pt"} plus `metadata` (which may override it).
void write_safetensors(const std::filesystem::path& path,
                       const std::map<std::string, ir::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// safetensors dtype string ("F32", "I64", ...) of an IR dtype, and back
// (nullopt for dtypes the IR has no equivalent of, such as "BF16").
std::string safetensors_dtype_name(ir::DType dtype);
std::optional<ir::DType> dtype_from_safetensors_name(std::string_view name);

}  // namespace exporters::io
