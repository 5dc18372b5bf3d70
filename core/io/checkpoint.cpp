#include "core/io/checkpoint.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <set>
#include <stdexcept>

#include "core/io/json_config.hpp"
#include "core/io/safetensors.hpp"

namespace fs = std::filesystem;

namespace exporters::io {

namespace {

class SafetensorsWeights final : public WeightSource {
 public:
  SafetensorsWeights(std::string description, std::map<std::string, ir::Tensor> tensors)
      : description_(std::move(description)), tensors_(std::move(tensors)) {}

  bool has(const std::string& name) const override { return tensors_.count(name) != 0; }

  ir::TensorType type(const std::string& name) const override { return find(name).type(); }

  ir::Tensor get(const std::string& name) const override {
    const ir::Tensor& t = find(name);
    return t.dtype() == ir::DType::F16 ? t.cast(ir::DType::F32) : t;
  }

  std::vector<std::string> names() const override {
    std::vector<std::string> out;
    for (const auto& [name, _] : tensors_) out.push_back(name);
    return out;
  }

  std::string describe() const override { return description_; }

 private:
  const ir::Tensor& find(const std::string& name) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) throw WeightError(fmt::format("{}: no tensor '{}'", description_, name));
    return it->second;
  }

  std::string description_;
  std::map<std::string, ir::Tensor> tensors_;
};

}  // namespace

std::optional<fs::path> find_safetensors_checkpoint(const fs::path& dir) {
  std::error_code ec;
  for (const char* name : {"model.safetensors.index.json", "model.safetensors"})
    if (fs::is_regular_file(dir / name, ec)) return dir / name;
  return std::nullopt;
}

std::unique_ptr<WeightSource> open_safetensors_checkpoint(const fs::path& file) {
  if (file.filename().string().ends_with(".index.json")) {
    nlohmann::json index = read_json_object_file(file);
    auto map = index.find("weight_map");
    if (map == index.end() || !map->is_object())
      throw std::runtime_error(fmt::format("{}: no 'weight_map' object (tensor name -> shard file)", file.string()));
    std::map<std::string, std::set<std::string>> by_shard;
    for (const auto& [name, shard] : map->items()) {
      if (!shard.is_string() || shard.get<std::string>().find('/') != std::string::npos)
        throw std::runtime_error(
            fmt::format("{}: 'weight_map' entry '{}' = {} is not a shard file name", file.string(), name, shard.dump()));
      by_shard[shard.get<std::string>()].insert(name);
    }
    std::map<std::string, ir::Tensor> tensors;
    for (const auto& [shard, names] : by_shard) {
      const fs::path path = file.parent_path() / shard;
      if (!fs::is_regular_file(path))
        throw std::runtime_error(fmt::format("{}: shard {} (holding '{}', ...) not found", file.string(), path.string(),
                                             *names.begin()));
      SafetensorsFile part = read_safetensors_file(path, true);
      for (const auto& name : names) {
        auto it = part.tensors.find(name);
        if (it == part.tensors.end())
          throw std::runtime_error(fmt::format("{}: maps '{}' to {}, which has no such tensor", file.string(), name,
                                               path.string()));
        tensors.emplace(name, std::move(it->second));
      }
    }
    return std::make_unique<SafetensorsWeights>(
        fmt::format("{} ({} shard{})", file.string(), by_shard.size(), by_shard.size() == 1 ? "" : "s"),
        std::move(tensors));
  }
  return std::make_unique<SafetensorsWeights>(file.string(), read_safetensors_file(file, true).tensors);
}

std::string pytorch_bin_message(const fs::path& dir, const std::string& hf_class) {
  const std::string cls = hf_class.empty() ? "AutoModel" : hf_class;
  return fmt::format(
      "{}: only safetensors checkpoints (model.safetensors) are read natively, this folder has pytorch_model.bin "
      "(a pickle that needs torch); convert it once with python3 -c \"from transformers import {}; "
      "{}.from_pretrained('{}').save_pretrained('{}', safe_serialization=True)\", or trace the model to model.pt",
      dir.string(), cls, cls, dir.string(), dir.string());
}

}  // namespace exporters::io
