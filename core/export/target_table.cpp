// The backend rows. Each row binds a writer and a reader from
// core/backends/<format>/.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>

#include "core/backends/coreml/coreml.hpp"
#include "core/backends/coreml/neuralnetwork/nn_model.hpp"
#include "core/backends/tflite/tflite.hpp"
#include "core/export/target.hpp"

namespace exporters::exporting {

namespace {

// Keys of TargetOptions::metadata with a meaning of their own; every other
// key is user-defined metadata.
bool is_standard_key(const std::string& key) {
  return key == "author" || key == "license" || key == "version" || key == "description";
}

std::string value_or_empty(const std::map<std::string, std::string>& map, const std::string& key) {
  auto it = map.find(key);
  return it == map.end() ? std::string() : it->second;
}

// Descriptions, image inputs and the classifier (both Core ML writers).
template <class CoreMLLike>
void set_task_options(const TargetOptions& options, CoreMLLike& o) {
  o.input_descriptions = options.input_descriptions;
  o.output_descriptions = options.output_descriptions;
  for (const auto& [name, image] : options.image_inputs) {
    coreml::ImageInput in;
    if (image.color_space == "RGB") in.color_space = coreml::ImageInput::ColorSpace::RGB;
    else if (image.color_space == "BGR") in.color_space = coreml::ImageInput::ColorSpace::BGR;
    else if (image.color_space == "Grayscale") in.color_space = coreml::ImageInput::ColorSpace::Grayscale;
    else throw std::runtime_error(fmt::format("image input '{}': unknown color space '{}'", name, image.color_space));
    in.scale = image.scale;
    in.bias = image.bias;
    o.image_inputs[name] = in;
  }
  if (options.classifier) {
    coreml::ClassifierOutput c;
    c.probabilities_output = options.classifier->probabilities_output;
    c.labels = options.classifier->labels;
    o.classifier = c;
  }
}

// --author/--license/--version/--description plus user-defined keys.
coreml::ModelMetadata coreml_metadata(const TargetOptions& options) {
  coreml::ModelMetadata m;
  m.author = value_or_empty(options.metadata, "author");
  m.license = value_or_empty(options.metadata, "license");
  m.version = value_or_empty(options.metadata, "version");
  m.short_description = value_or_empty(options.metadata, "description");
  for (const auto& [key, value] : options.metadata)
    if (!is_standard_key(key)) m.user_defined[key] = value;
  return m;
}

void write_coreml(const ir::Graph& graph, const TargetOptions& options, io::StagedOutput& out) {
  coreml::CoreMLOptions o;
  auto target = coreml::parse_target(options.os_target);
  if (!target) throw std::runtime_error(fmt::format("--target {}: expected iOS15, iOS16, iOS17 or iOS18", options.os_target));
  o.target = *target;
  auto precision = coreml::parse_precision(options.quantize);
  if (!precision) throw std::runtime_error(fmt::format("--quantize {}: the ML Program writer supports float32 and float16", options.quantize));
  o.precision = *precision;
  o.overwrite = options.overwrite;
  o.metadata = coreml_metadata(options);
  set_task_options(options, o);
  coreml::write_mlpackage(graph, o, out);
}

void write_coreml_legacy(const ir::Graph& graph, const TargetOptions& options, io::StagedOutput& out) {
  coreml::LegacyOptions o;
  auto precision = coreml::parse_precision(options.quantize);
  if (!precision)
    throw std::runtime_error(fmt::format("--quantize {}: the NeuralNetwork writer supports float32 and float16", options.quantize));
  o.precision = *precision;
  o.overwrite = options.overwrite;
  o.metadata = coreml_metadata(options);
  set_task_options(options, o);
  coreml::write_mlmodel(graph, o, out);
}

void write_tflite(const ir::Graph& graph, const TargetOptions& options, io::StagedOutput& out) {
  tflite::TfliteOptions o;
  o.quantize = tflite::quantization_from_name(options.quantize);
  o.description = value_or_empty(options.metadata, "description");
  for (const auto& [key, value] : options.metadata)
    if (key != "description") o.metadata[key] = value;
  // The tflite-support metadata: model facts and every input's and output's description.
  o.name = value_or_empty(options.metadata, "co.huggingface.exporters.name");
  o.version = value_or_empty(options.metadata, "version");
  o.author = value_or_empty(options.metadata, "author");
  o.license = value_or_empty(options.metadata, "license");
  for (const auto& [name, text] : options.input_descriptions) o.inputs[name].description = text;
  for (const auto& [name, text] : options.output_descriptions) o.outputs[name].description = text;
  for (const auto& [name, image] : options.image_tensors) {
    tflite::TensorDescription& d = o.inputs[name];
    d.image = true;
    d.color_space = image.color_space == "RGB" ? "RGB" : "";  // the format has no BGR
    d.mean = image.mean;
    d.std = image.std;
  }
  tflite::write_tflite(graph, o, out);
}

const std::vector<Target>& targets() {
  static const std::vector<Target> rows = {
      {"coreml", {"float32", "float16"}, io::OutputKind::Directory, write_coreml,
       [](const std::filesystem::path& p) { return coreml::read_mlpackage(p); }},
      {"coreml-legacy", {"float32", "float16"}, io::OutputKind::File, write_coreml_legacy,
       [](const std::filesystem::path& p) { return coreml::read_mlmodel(p); }},
      {"tflite", {"float32", "float16", "dynamic-int8"}, io::OutputKind::File, write_tflite,
       [](const std::filesystem::path& p) { return tflite::read_tflite(p); }},
  };
  return rows;
}

}  // namespace

const Target& find_target(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& t : targets()) {
    if (t.name == name) return t;
    names.push_back(t.name);
  }
  throw std::runtime_error(fmt::format("unknown export target '{}' (known: {})", name, fmt::join(names, ", ")));
}

const Target& target_for_file(const std::filesystem::path& file) {
  auto ext = file.extension().string();
  if (ext == ".mlpackage") return find_target("coreml");
  if (ext == ".mlmodel") return find_target("coreml-legacy");
  if (ext == ".tflite") return find_target("tflite");
  throw std::runtime_error(fmt::format("{}: unknown file type (expected .mlpackage, .mlmodel or .tflite)",
                                       file.string()));
}

}  // namespace exporters::exporting
