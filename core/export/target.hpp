// A backend as the pipeline sees it: a row with a writer and a reader. The
// rows live in target_table.cpp; adding a format is adding a row.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "exporters/ir/graph.hpp"

namespace exporters::exporting {

struct TargetOptions {
  std::string quantize = "float32";   // float32 | float16 | int8 | dynamic-int8 | palettize4 ...
  std::string os_target = "iOS15";    // Core ML deployment target
  bool overwrite = false;             // replace an existing output
  std::map<std::string, std::string> metadata;  // author, license, version, description, user keys
};

struct Target {
  std::string name;  // "coreml", "coreml-legacy", "tflite"
  std::vector<std::string> quantize_modes;
  std::function<void(const ir::Graph&, const TargetOptions&, const std::filesystem::path&)> write;
  std::function<ir::Graph(const std::filesystem::path&)> read;
};

// Throws std::runtime_error listing the known targets for an unknown name.
const Target& find_target(const std::string& name);
// The target that reads `file`, chosen by its extension (.mlpackage,
// .mlmodel, .tflite).
const Target& target_for_file(const std::filesystem::path& file);

}  // namespace exporters::exporting
