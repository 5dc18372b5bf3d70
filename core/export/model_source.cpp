#include "core/export/model_source.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "core/io/checkpoint.hpp"
#include "core/io/json_config.hpp"

namespace fs = std::filesystem;

namespace exporters::exporting {

ModelSource open_model_source(const fs::path& path) {
  ModelSource source;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    source.dir = path;
    if (fs::is_regular_file(path / "model.pt", ec)) source.model_pt = path / "model.pt";
    source.checkpoint = io::find_safetensors_checkpoint(path);
    if (source.model_pt.empty() && !source.checkpoint) {
      if (fs::is_regular_file(path / "pytorch_model.bin", ec)) {
        std::string cls;
        if (fs::is_regular_file(path / "config.json", ec)) {
          auto config = io::read_json_object_file(path / "config.json");
          if (config.contains("architectures") && config["architectures"].is_array() &&
              !config["architectures"].empty() && config["architectures"][0].is_string())
            cls = config["architectures"][0].get<std::string>();
        }
        throw std::runtime_error(io::pytorch_bin_message(path, cls));
      }
      throw std::runtime_error(fmt::format("{}: no model.safetensors or model.pt in this directory (a Hugging Face "
                                           "checkpoint, or a trace made with torch.jit.trace(..., torchscript=True))",
                                           path.string()));
    }
  } else if (fs::is_regular_file(path, ec)) {
    source.dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    source.model_pt = path;
  } else {
    throw std::runtime_error(fmt::format("{}: no such model directory or file", path.string()));
  }
  source.config = nlohmann::json::object();
  source.preprocessor = nlohmann::json::object();
  if (fs::is_regular_file(source.dir / "config.json", ec)) {
    source.config = io::read_json_object_file(source.dir / "config.json");
    io::JsonLocation loc(source.dir / "config.json");
    if (auto mt = io::json_optional_string(source.config, "model_type", loc)) source.model_type = *mt;
    if (source.config.contains("architectures") && source.config["architectures"].is_array() &&
        !source.config["architectures"].empty() && source.config["architectures"][0].is_string())
      source.hf_class = source.config["architectures"][0].get<std::string>();
  }
  if (fs::is_regular_file(source.dir / "preprocessor_config.json", ec))
    source.preprocessor = io::read_json_object_file(source.dir / "preprocessor_config.json");
  if (fs::is_regular_file(source.dir / "reference.safetensors", ec)) source.reference = source.dir / "reference.safetensors";
  return source;
}

}  // namespace exporters::exporting
