#include "core/export/input_plan.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <random>
#include <stdexcept>

#include "core/io/safetensors.hpp"

namespace exporters::exporting {

std::pair<std::string, ir::Shape> parse_shape_option(const std::string& text) {
  auto eq = text.find('=');
  auto bad = [&](const std::string& why) {
    return std::runtime_error(fmt::format("--shape '{}': {} (expected NAME=d0,d1,...)", text, why));
  };
  if (eq == std::string::npos || eq == 0) throw bad("no input name");
  std::string name = text.substr(0, eq);
  ir::Shape shape;
  std::string dims = text.substr(eq + 1);
  size_t pos = 0;
  while (pos <= dims.size()) {
    size_t comma = dims.find(',', pos);
    std::string item = dims.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (item.empty()) throw bad("empty dimension");
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      throw bad(fmt::format("'{}' is not a number", item));
    }
    if (used != item.size() || v <= 0) throw bad(fmt::format("'{}' is not a positive integer", item));
    shape.push_back(v);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return {name, shape};
}

bool is_token_input(const std::string& name) {
  return name == "input_ids" || name == "attention_mask" || name == "token_type_ids" || name == "position_ids" ||
         name == "decoder_input_ids" || name == "decoder_attention_mask" || name.ends_with("_ids") ||
         name.ends_with("_mask");
}

namespace {

int64_t config_int(const nlohmann::json& config, const char* key, int64_t fallback) {
  auto it = config.find(key);
  return it != config.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

// The longest usable sequence: the plugin's resolved limit (which knows
// offsets such as RoBERTa's padding_idx + 1), else config.json's positions.
int64_t max_positions(const TaskSpec* task, const ModelSource& source) {
  if (task && task->max_sequence_length > 0) return task->max_sequence_length;
  for (const char* key : {"max_position_embeddings", "n_positions", "n_ctx"}) {
    int64_t v = config_int(source.config, key, 0);
    if (v > 0) return v;
  }
  return 0;
}

}  // namespace

InputPlan plan_inputs(const std::vector<std::string>& trace_inputs, const ShapeRequest& request, const TaskSpec* task,
                      const ModelSource& source) {
  for (const auto& [name, _] : request.shapes)
    if (std::find(trace_inputs.begin(), trace_inputs.end(), name) == trace_inputs.end())
      throw std::runtime_error(fmt::format("--shape {}: the model has no input '{}' (its inputs: {})", name, name,
                                           fmt::join(trace_inputs, ", ")));
  InputPlan plan;
  std::vector<std::string> missing;
  const int64_t limit = max_positions(task, source);
  if (request.sequence_length && limit > 0 && *request.sequence_length > limit)
    throw std::runtime_error(fmt::format("--sequence-length {} exceeds the {} positions the model can use ({})",
                                         *request.sequence_length, limit,
                                         (source.dir / "config.json").string()));
  for (const auto& name : trace_inputs) {
    const InputSpec* spec = nullptr;
    if (task)
      for (const auto& s : task->inputs)
        if (s.name == name) spec = &s;
    ir::DType dtype = spec ? spec->dtype : (is_token_input(name) ? ir::DType::I64 : ir::DType::F32);
    ir::Shape shape;
    if (auto it = request.shapes.find(name); it != request.shapes.end()) {
      shape = it->second;
    } else if (spec && !spec->shape.empty()) {
      shape = spec->shape;
      int64_t seq = request.sequence_length.value_or(task->default_sequence_length);
      if (limit > 0) seq = std::min(seq, limit);
      // Image inputs [B, C, H, W]: the plugin's resolver fills H and W.
      const bool image = shape.size() == 4 && !is_token_input(name) && ir::is_float(dtype);
      for (size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] != -1) continue;
        if (d == 0) shape[d] = request.batch_size.value_or(1);
        else if (!image && d + 1 == shape.size() && seq > 0) shape[d] = seq;
      }
      if (std::any_of(shape.begin(), shape.end(), [](int64_t v) { return v <= 0; })) shape.clear();
    } else if (is_token_input(name) && request.sequence_length) {
      shape = {request.batch_size.value_or(1), *request.sequence_length};
    }
    if (shape.empty()) missing.push_back(name);
    plan.names.push_back(name);
    plan.types.push_back({dtype, shape});
  }
  if (!missing.empty()) {
    std::vector<std::string> flags;
    for (const auto& m : missing) flags.push_back(fmt::format("--shape {}=d0,d1,...", m));
    throw std::runtime_error(fmt::format(
        "the trace does not record input shapes and none is known for {}: pass {}", fmt::join(missing, ", "),
        fmt::join(flags, " ")));
  }
  return plan;
}

std::vector<ir::Tensor> inputs_from_file(const InputPlan& plan, const std::filesystem::path& file) {
  auto tensors = io::read_safetensors(file);
  std::vector<ir::Tensor> out;
  for (size_t i = 0; i < plan.names.size(); ++i) {
    const auto& name = plan.names[i];
    auto it = tensors.find("input." + name);
    if (it == tensors.end()) it = tensors.find(name);
    if (it == tensors.end())
      throw std::runtime_error(fmt::format("{}: no tensor 'input.{}' for model input '{}'", file.string(), name, name));
    const ir::Tensor& t = it->second;
    if (t.shape() != plan.types[i].shape)
      throw std::runtime_error(fmt::format("{}: '{}' has shape [{}], the export expects [{}]", file.string(),
                                           it->first, ir::shape_to_string(t.shape()),
                                           ir::shape_to_string(plan.types[i].shape)));
    if (ir::is_float(t.dtype()) != ir::is_float(plan.types[i].dtype))
      throw std::runtime_error(fmt::format("{}: '{}' is {}, the model input is {}", file.string(), it->first,
                                           ir::dtype_name(t.dtype()), ir::dtype_name(plan.types[i].dtype)));
    out.push_back(t.dtype() == plan.types[i].dtype ? t : t.cast(plan.types[i].dtype));
  }
  return out;
}

std::optional<std::vector<ir::Tensor>> reference_inputs(const InputPlan& plan, const ModelSource& source) {
  if (!source.reference) return std::nullopt;
  try {
    return inputs_from_file(plan, *source.reference);
  } catch (const std::exception&) {
    return std::nullopt;  // shapes asked for differ from the stored example
  }
}

std::vector<ir::Tensor> example_inputs(const InputPlan& plan, const ModelSource& source, uint64_t seed) {
  if (auto stored = reference_inputs(plan, source)) return std::move(*stored);
  return generated_inputs(plan, source, seed);
}

std::vector<ir::Tensor> generated_inputs(const InputPlan& plan, const ModelSource& source, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<ir::Tensor> out;
  const int64_t vocab = std::max<int64_t>(2, config_int(source.config, "vocab_size", 100));
  const int64_t type_vocab = std::max<int64_t>(1, config_int(source.config, "type_vocab_size", 2));
  for (size_t i = 0; i < plan.names.size(); ++i) {
    const auto& name = plan.names[i];
    const auto& type = plan.types[i];
    ir::Tensor t = ir::Tensor::zeros(ir::DType::F32, type.shape);
    float* v = t.mutable_as<float>();
    const int64_t n = type.numel();
    const int64_t last = type.shape.empty() ? 1 : type.shape.back();
    if (name == "attention_mask" || name.ends_with("_mask")) {
      // Real tokens first, padding at the end of every row but the first.
      for (int64_t k = 0; k < n; ++k) {
        int64_t row = k / last, col = k % last;
        int64_t keep = row == 0 ? last : std::max<int64_t>(1, last - (row * 3 + 1) % (last / 2 + 1));
        v[k] = col < keep ? 1.f : 0.f;
      }
    } else if (name == "token_type_ids") {
      for (int64_t k = 0; k < n; ++k) v[k] = (type_vocab > 1 && k % last >= last / 2) ? 1.f : 0.f;
    } else if (name == "position_ids") {
      for (int64_t k = 0; k < n; ++k) v[k] = static_cast<float>(k % last);
    } else if (!ir::is_float(type.dtype)) {
      std::uniform_int_distribution<int64_t> dist(0, vocab - 1);
      for (int64_t k = 0; k < n; ++k) v[k] = static_cast<float>(dist(rng));
    } else {
      // Normalised pixel range: (U[0,1] - mean) / std per channel when the
      // preprocessor says so, else U[-1, 1].
      std::uniform_real_distribution<float> dist(0.f, 1.f);
      std::vector<double> mean{0.5, 0.5, 0.5}, stdev{0.5, 0.5, 0.5};
      auto read3 = [&](const char* key, std::vector<double>& dst) {
        auto it = source.preprocessor.find(key);
        if (it != source.preprocessor.end() && it->is_array() && it->size() == 3)
          for (size_t c = 0; c < 3; ++c) dst[c] = (*it)[c].get<double>();
      };
      read3("image_mean", mean);
      read3("image_std", stdev);
      const int64_t plane = type.rank() == 4 ? type.shape[2] * type.shape[3] : n;
      const int64_t channels = type.rank() == 4 ? type.shape[1] : 1;
      for (int64_t k = 0; k < n; ++k) {
        int64_t c = type.rank() == 4 && channels == 3 ? (k / plane) % 3 : 0;
        v[k] = static_cast<float>((dist(rng) - mean[c]) / stdev[c]);
      }
    }
    out.push_back(type.dtype == ir::DType::F32 ? t : t.cast(type.dtype));
  }
  return out;
}

}  // namespace exporters::exporting
