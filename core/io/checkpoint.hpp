// A Hugging Face checkpoint as a graph builder's WeightSource:
// model.safetensors, or the shards model.safetensors.index.json lists, each
// memory-mapped once. F32 tensors are borrowed from the mapping, F16 are
// converted to float32 on request, BF16 when the file is read.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "exporters/graph_builder.hpp"

namespace exporters::io {

// The folder's checkpoint: model.safetensors.index.json (sharded) if
// present, else model.safetensors; nullopt when neither exists.
std::optional<std::filesystem::path> find_safetensors_checkpoint(const std::filesystem::path& dir);

// Opens `file` (a .safetensors file or a *.safetensors.index.json). Throws
// std::runtime_error naming the file: a bad header, a shard that is
// missing or does not hold the tensors the index maps to it.
std::unique_ptr<WeightSource> open_safetensors_checkpoint(const std::filesystem::path& file);

// The error for a folder whose only checkpoint is pytorch_model.bin (a
// pickle that needs torch to read), naming it and how to convert it.
std::string pytorch_bin_message(const std::filesystem::path& dir, const std::string& hf_class);

}  // namespace exporters::io
