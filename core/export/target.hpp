// A backend as the pipeline sees it: a row with a writer and a reader. The
// rows live in target_table.cpp; adding a format is adding a row.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/io/staged_output.hpp"
#include "exporters/ir/graph.hpp"

namespace exporters::exporting {

// An input the writer declares as an image (Core ML): pixel values 0..255
// scaled by `scale` and offset by `bias[channel]` at the start of the model.
struct ImageInputOptions {
  std::string color_space = "RGB";  // "RGB" | "BGR" | "Grayscale"
  float scale = 1.0f;
  std::vector<float> bias;          // one per channel, or empty
};

// An image input given as a float tensor (TFLite): what the caller does to
// pixels 0..255 before feeding it, (pixel - mean[c]) / std[c].
struct ImageTensorOptions {
  std::string color_space = "RGB";  // "RGB" | "BGR"
  std::vector<float> mean, std;     // per channel
};

// A classifier head (Core ML classLabel + probabilities dictionary) over one
// graph output holding the class probabilities.
struct ClassifierOptions {
  std::string probabilities_output;
  std::vector<std::string> labels;
};

struct TargetOptions {
  std::string quantize = "float32";   // float32 | float16 | int8 | dynamic-int8 | palettize4 ...
  std::string os_target = "iOS15";    // Core ML deployment target
  bool overwrite = false;             // replace an existing output
  std::map<std::string, std::string> metadata;  // author, license, version, description, user keys
  std::map<std::string, std::string> input_descriptions;   // by input name
  std::map<std::string, std::string> output_descriptions;  // by output name
  std::map<std::string, ImageInputOptions> image_inputs;   // by input name (Core ML)
  std::map<std::string, ImageTensorOptions> image_tensors; // by input name (TFLite metadata)
  std::optional<ClassifierOptions> classifier;             // Core ML classifier
};

struct Target {
  std::string name;  // "coreml", "coreml-legacy", "tflite"
  std::vector<std::string> quantize_modes;
  io::OutputKind kind;  // a .mlpackage is a directory, the others are files
  // Writes into the staged temporary; the pipeline validates it, then places it.
  std::function<void(const ir::Graph&, const TargetOptions&, io::StagedOutput&)> write;
  std::function<ir::Graph(const std::filesystem::path&)> read;
};

// Throws std::runtime_error listing the known targets for an unknown name.
const Target& find_target(const std::string& name);
// The target that reads `file`, chosen by its extension (.mlpackage,
// .mlmodel, .tflite).
const Target& target_for_file(const std::filesystem::path& file);

}  // namespace exporters::exporting
