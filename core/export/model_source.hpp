// A model to export: a Hugging Face directory (config.json with model.pt,
// a safetensors checkpoint or both, and optional preprocessor / tokenizer
// files) or a bare TorchScript file.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace exporters::exporting {

struct ModelSource {
  std::filesystem::path dir;            // the model directory
  std::filesystem::path model_pt;       // the trace; empty when the folder has none
  std::optional<std::filesystem::path> checkpoint;  // model.safetensors or model.safetensors.index.json
  nlohmann::json config;                // config.json, or an empty object
  nlohmann::json preprocessor;          // preprocessor_config.json, or an empty object
  std::string model_type;               // config's model_type, "" when unknown
  std::string hf_class;                 // config's architectures[0], "" when unknown
  std::optional<std::filesystem::path> reference;  // reference.safetensors beside the model
};

// Throws std::runtime_error naming the path when it is neither a directory
// with model.pt or a safetensors checkpoint nor a .pt file (a folder with
// pytorch_model.bin only: how to convert it), or when a JSON file there is
// malformed.
ModelSource open_model_source(const std::filesystem::path& path);

}  // namespace exporters::exporting
