// A model to export: a Hugging Face directory (model.pt + config.json and
// optional preprocessor / tokenizer files) or a bare TorchScript file.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace exporters::exporting {

struct ModelSource {
  std::filesystem::path dir;            // the directory holding model.pt
  std::filesystem::path model_pt;
  nlohmann::json config;                // config.json, or an empty object
  nlohmann::json preprocessor;          // preprocessor_config.json, or an empty object
  std::string model_type;               // config's model_type, "" when unknown
  std::string hf_class;                 // config's architectures[0], "" when unknown
  std::optional<std::filesystem::path> reference;  // reference.safetensors beside the model
};

// Throws std::runtime_error naming the path when it is neither a directory
// with model.pt nor a .pt file, or when a JSON file there is malformed.
ModelSource open_model_source(const std::filesystem::path& path);

}  // namespace exporters::exporting
